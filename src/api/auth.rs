//! Caller authentication: Bearer or X-API-Key, compared in constant time.
