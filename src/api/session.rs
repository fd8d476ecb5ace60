//! GET /telegram/session/status.
