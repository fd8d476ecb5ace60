//! Everything that names grammers: one client manager per account, its health and reconnects,
//! the typed operations, and the one mapping of Telegram's errors into mtgate's.
//!
//! - [`manager`]: [`ClientManager`], the connection handle (`client()`, `call()`).
//! - [`invoke`]: raw TL requests through the manager, named from the TL schema.
//! - [`ops`]: [`TelegramAccount`], the typed operations (send, edit, delete, history, …).
//! - [`error`]: [`TelegramError`], Telegram failures classified once.
//! - [`migrate`]: following `*_MIGRATE` answers to the right data centre.
//! - [`supervisor`]: the background task that connects, drains updates and reconnects.
//! - [`health`]: the lock-free health snapshot probes read.
//! - [`reconnect`]: the backoff schedule (the only user of the `backoff` crate).
//! - [`retry`]: per-call retries (flood waits, one I/O retry) for the sender pool.
//! - [`resolver`]: the peer cache (ids, access hashes, usernames), backed by the store.
//! - [`session_store`]: the grammers session; what it learns goes to the store.
//! - [`peer_records`]: grammers and resolver peers ↔ the store's peer records.
//! - [`metrics`]: Telegram call metrics for `/metrics`.
//! - [`text`]: message text parsed into Telegram entities (`parse_mode`).
//! - [`flood`]: flood waits remembered per scope, so calls inside them never reach Telegram.
//! - [`stall`]: notices calls hanging with nothing succeeding, so health degrades.
//! - [`lease`]: the gate replicas fence each account's connection with.

pub mod error;
pub mod flood;
pub mod health;
pub mod invoke;
pub mod lease;
pub mod manager;
pub mod metrics;
pub mod migrate;
pub mod ops;
pub mod peer_records;
pub mod reconnect;
pub mod resolver;
pub mod retry;
pub mod session_store;
pub mod stall;
mod supervisor;
pub mod text;

pub use error::TelegramError;
pub use manager::{ClientManager, ManagerOptions};
pub use ops::TelegramAccount;
