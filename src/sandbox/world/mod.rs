//! The world: what Telegram does with each call.
