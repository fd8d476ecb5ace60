//! The seam between the sandbox's wire (transport, crypto, MTProto sessions) and its world
//! (what Telegram does with a call).
//!
//! The wire decrypts a client's message, unwraps containers and `gzip_packed`, answers the
//! service messages itself (pings, salts, acks), and hands every *API* call body to a
//! [`Backend`]; it serializes whatever comes back into an `rpc_result`. Updates the world wants
//! delivered outside of a reply go through the [`UpdateBus`] to every live connection using
//! the named auth key.

use tokio::sync::broadcast;

/// Permanent authorization key length in bytes.
pub const AUTH_KEY_LEN: usize = 256;

/// Where a call came from: enough for the world to know who is asking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallOrigin {
    /// `SHA1(auth_key)[12..20]` read as a little-endian i64, as on the wire.
    pub auth_key_id: i64,
    /// Unique per TCP connection for the lifetime of the sandbox.
    pub connection_id: u64,
    /// The client's MTProto session id on that connection.
    pub session_id: i64,
}

/// The world's answer to one API call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RpcOutcome {
    /// A TL-serialized result *including* its constructor id (serialize the `enums::X`).
    Result(Vec<u8>),
    /// An `rpc_error`, e.g. `{ code: 420, message: "FLOOD_WAIT_30" }`.
    Error { code: i32, message: String },
}

/// Telegram's behaviour, as seen from the wire.
pub trait Backend: Send + Sync + 'static {
    /// The permanent key registered under `auth_key_id`, or `None` when the sandbox has never
    /// issued it (the wire then answers with transport error -404, as Telegram does).
    fn auth_key(&self, auth_key_id: i64) -> Option<[u8; AUTH_KEY_LEN]>;

    /// Handles one API call. `body` starts with the function's constructor id and may still
    /// be wrapped in `invokeWithLayer` / `initConnection` / `invokeWithoutUpdates`: peeling
    /// them is the world's job, so the request log sees the real method.
    fn call(&self, origin: CallOrigin, body: &[u8]) -> RpcOutcome;

    /// Two connections used `auth_key_id` at once while duplicate detection was on: the key
    /// dies (its login is gone), as Telegram ends a session it saw used from two places.
    fn key_duplicated(&self, auth_key_id: i64);
}

/// One batch of updates (a serialized `Updates`, with constructor id) for the connections of
/// one auth key.
#[derive(Clone, Debug)]
pub struct Push {
    pub auth_key_id: i64,
    pub updates: Vec<u8>,
}

/// Fan-out of pushed updates from the world to live connections.
#[derive(Clone, Debug)]
pub struct UpdateBus(broadcast::Sender<Push>);

impl UpdateBus {
    pub fn new() -> Self {
        Self(broadcast::channel(1024).0)
    }

    /// Delivers to every connection currently subscribed; nobody listening is not an error.
    pub fn publish(&self, push: Push) {
        let _ = self.0.send(push);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Push> {
        self.0.subscribe()
    }
}

impl Default for UpdateBus {
    fn default() -> Self {
        Self::new()
    }
}
