//! The client manager: one grammers client per process, its health and reconnects.

pub mod error;
pub mod manager;
pub mod resolver;

pub use error::TelegramError;
pub use manager::ClientManager;
