//! The client manager: one grammers client per process, its health and reconnects.
//!
//! - [`manager`]: [`ClientManager`], the handle handlers use (`client()`, `call()`).
//! - [`supervisor`]: the background task that connects, drains updates and reconnects.
//! - [`health`]: the lock-free health snapshot probes read.
//! - [`reconnect`]: the backoff schedule (the only user of the `backoff` crate).
//! - [`retry`]: per-call retries (flood waits, one I/O retry) for the sender pool.
//! - [`session_store`]: the grammers session; what it learns goes to the store.
//! - [`peer_records`]: grammers and resolver peers ↔ the store's peer records.
//! - [`metrics`]: Telegram call metrics for `/metrics`.

pub mod error;
pub mod health;
pub mod manager;
pub mod metrics;
pub mod peer_records;
pub mod reconnect;
pub mod resolver;
pub mod retry;
pub mod session_store;
mod supervisor;

pub use error::TelegramError;
pub use manager::{ClientManager, ManagerOptions};
