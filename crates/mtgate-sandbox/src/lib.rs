//! The sandbox Telegram: a real MTProto server on loopback with a fixed world and a control
//! API. The real grammers client talks to it exactly as it talks to Telegram.
//!
//! - [`wire`]: transports, MTProto 2.0 crypto, per-connection sessions, the TCP server.
//! - [`rpc`]: the seam: the wire hands API calls to a [`rpc::Backend`].
//! - [`world`]: Telegram's behaviour: users, chats, messages, pts, login, the request log.
//! - [`control`]: the HTTP control API (request log, ground truth, faults, incoming, reset).
//! - [`harness`]: `Sandbox::start()` for tests, benchmarks and `serve --sandbox`.
//! - [`command`]: `mtgate sandbox`.

pub mod command;
pub mod control;
pub mod harness;
pub mod rpc;
pub mod wire;
pub mod world;

pub use harness::Sandbox;
