//! The wire: transports, MTProto 2.0 crypto, per-connection sessions, the TCP server.
//!
//! - [`transport`]: Full / Intermediate / Abridged framing, told apart by the first bytes.
//! - [`crypto`]: server-side MTProto 2.0 encryption (decrypt with x = 0, encrypt with x = 8).
//! - [`envelope`]: the decrypted layer: messages, containers, `gzip_packed`, `rpc_result`.
//! - [`service`]: which messages the wire answers itself and which go to the backend.
//! - [`connection`] / [`calls`]: one client connection and its API calls.
//! - [`outgoing`]: msg_ids, seq_nos, containers, encryption and framing of server messages.
//! - [`session`] / [`salts`] / [`msg_id`]: the MTProto bookkeeping behind them.
//! - [`server`]: [`MtprotoServer`], listening and the fault switches.

mod calls;
mod connection;
mod crypto;
mod envelope;
mod msg_id;
mod outgoing;
mod salts;
mod server;
mod service;
mod session;
mod transport;

#[cfg(test)]
mod tests;

pub use crypto::auth_key_id;
pub use server::MtprotoServer;
