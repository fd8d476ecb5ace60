//! The wire: a real MTProto 2.0 server over TCP that any spec-following client (the
//! unmodified grammers stack among them) talks to; API calls go to a
//! [`Backend`](crate::rpc::Backend), pushed updates come from the
//! [`UpdateBus`](crate::rpc::UpdateBus).
//!
//! Inside (one job per module):
//! - `transport`: Full / Intermediate (plain, padded) / Abridged framing, told apart by the
//!   first bytes of a connection.
//! - `obfuscated`: the obfuscation layer (random 64-byte header, AES-256-CTR both ways) that
//!   MTProxy and TDLib-based clients wrap around the tagged transports.
//! - `crypto`: server-side MTProto 2.0 encryption (decrypt with x = 0, encrypt with x = 8).
//! - `envelope`: the decrypted layer: messages, containers, `gzip_packed`, `rpc_result`.
//! - `service`: which messages the wire answers itself, and those answers.
//! - `connection` / `calls`: one client connection and its API calls.
//! - `plain`: the one unencrypted message answered (`req_pq_multi`, so clients can tell
//!   that the sandbox creates no keys).
//! - `outgoing`: msg_ids, seq_nos, containers, encryption and framing of server messages.
//! - `session` / `salts` / `msg_id`: the MTProto bookkeeping behind them.
//! - `holders`: which connections use which auth key (the connection log) and the
//!   `AUTH_KEY_DUPLICATED` switch.
//! - `server`: [`MtprotoServer`]: listening, live connections, the fault switches.

mod calls;
mod connection;
mod crypto;
mod envelope;
mod holders;
mod msg_id;
mod obfuscated;
mod outgoing;
mod plain;
mod salts;
mod server;
mod service;
mod session;
mod transport;

#[cfg(test)]
mod tests;

pub use crypto::auth_key_id;
pub use holders::ConnectionRecord;
pub use plain::NO_KEY_EXCHANGE_FINGERPRINT;
pub use server::MtprotoServer;
