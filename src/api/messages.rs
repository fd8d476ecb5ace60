//! The /v1/messages endpoints.
