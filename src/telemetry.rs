//! Tracing setup: bunyan JSON or pretty logs, filtered by RUST_LOG.
