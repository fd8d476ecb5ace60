//! The client manager: one grammers client per process, its health and reconnects.
//!
//! - [`manager`]: [`ClientManager`], the handle handlers use (`client()`, `call()`).
//! - [`supervisor`]: the background task that connects, drains updates and reconnects.
//! - [`health`]: the lock-free health snapshot probes read.
//! - [`reconnect`]: the backoff schedule (the only user of the `backoff` crate).
//! - [`retry`]: per-call retries (flood waits, one I/O retry) for the sender pool.
//! - [`session_store`]: the grammers session, learned state persisted under the state dir.
//! - [`metrics`]: Telegram call metrics for `/metrics`.
//! - [`flood`]: flood waits remembered per scope, so calls inside them never reach Telegram.
//! - [`stall`]: notices calls hanging with nothing succeeding, so health degrades.

pub mod error;
pub mod flood;
pub mod health;
pub mod manager;
pub mod metrics;
pub mod reconnect;
pub mod resolver;
pub mod retry;
pub mod session_store;
pub mod stall;
mod supervisor;

pub use error::TelegramError;
pub use manager::{ClientManager, ManagerOptions};
