//! The sandbox's control API: what tests, benchmarks and users' CI use to look inside the
//! sandbox Telegram and to make it misbehave. Available in-process as [`SandboxControl`] and
//! over HTTP (JSON) through [`router`]:
//!
//! | route | body | answer |
//! |---|---|---|
//! | `GET /requests` | | every handled RPC, in order: `[{"method","peer"?,"text"?,"ok","error"?}]` |
//! | `GET /chats/{peer}/messages?as=@user` | | the chat's messages, newest first (ground truth); `as` (optional): as another user of the world sees them (private chats are per user) |
//! | `POST /faults` | `{"drop_connections":true}`, `{"delay_ms":N}`, `{"rpc_error":{"method","code","message","times"?}}`, `{"revoke_sessions":true}`, `{"revoke_user":"@alice_sandbox"}`, `{"down":bool}`, `{"auth_key_duplicated":bool}` (several at once allowed) | `204` (`404` for an unknown `revoke_user`) |
//! | `GET /connections` | | every connection's use of an auth key, oldest first: `[{"connection_id","auth_key_id","user"?,"opened_at_ms","closed_at_ms"?,"first_call_ms"?,"last_call_ms"?,"duplicate"}]` (`closed_at_ms` null while live) |
//! | `POST /incoming` | `{"from":"@user","peer"?:…,"text":…}` | `201` the delivered message |
//! | `POST /incoming/edit` | `{"peer":…,"id":N,"text":…}` | `200` the edited message: its sender (another user) edited it |
//! | `POST /incoming/delete` | `{"peer":…,"ids":[N,…]}` | `200` `{"deleted":[N,…]}`: their senders deleted them for everyone |
//! | `POST /incoming/burst` | `{"from":"@user","peer"?:…,"text":…,"count":N}` | `201` `{"ids":[…]}`: N messages `"text #1"`…, as N `/incoming` calls |
//! | `POST /reset` | | `204`: the starting world, no delay, up again |
//! | `POST /login-tokens/accept` | optional `{"token":"<base64url>"}` | `204`, or `404` when no QR token waits |
//! | `GET /files/{sha256}` | | the bytes of a stored file (as a message's `media.sha256` names it), `application/octet-stream`; `404` when none |
//! | `GET /info` | | the same JSON line `mtgate sandbox` prints |
//! | `POST /population` | `{"users":N,"groups":M}` (each up to 1000) | `200 {"users":["@crowd001_sandbox",…],"groups":["@crowd001_chat",…]}`: that many more users and supergroups (owned by the account) exist until the next reset |
//! | `POST /limits` | `{"rates":"chat=1/s,group=20/m,account=30/s"}` (or `"off"`, the default), `{"slow_mode":{"peer":"@supergroup","seconds":N}}` (0: off); both at once allowed | `204`: beyond the rates sends get FLOOD_WAIT_N, in slow mode SLOWMODE_WAIT_N (`400` bad rates, `404` not a supergroup) |
//!
//! `peer` is written as in the HTTP API: `@username`, `username`, `t.me/username`, a
//! Bot-API-style id or `me`. `/incoming` without `peer` (or with a user) delivers into the
//! private chat with the sender; with a channel or supergroup, into that chat.
//! Errors are `{"error":{"code","message"}}` with status 400 or 404.

mod http;

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use super::wire::{ConnectionRecord, MtprotoServer};
use super::world::faults::InjectedError;
use super::world::limits::Rates;
use super::world::{ControlError, MessageView, RequestLogEntry, World};

pub use http::router;

/// In-process control of one sandbox. Cheap to clone.
#[derive(Clone)]
pub struct SandboxControl {
    world: Arc<World>,
    server: MtprotoServer,
    info: Arc<Value>,
}

impl std::fmt::Debug for SandboxControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxControl")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

/// One `POST /faults` body: every field given is applied.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// Closes every live MTProto connection (in-flight replies are lost).
    #[serde(default)]
    pub drop_connections: bool,
    /// Holds every reply this long (0 = none) until changed.
    pub delay_ms: Option<u64>,
    /// Fails the next `times` (default 1) calls of a method with this rpc_error.
    pub rpc_error: Option<InjectedError>,
    /// Logs every key out: calls get 401 AUTH_KEY_UNREGISTERED.
    #[serde(default)]
    pub revoke_sessions: bool,
    /// Logs out only the keys of this user (`@username` or id): its calls get 401
    /// AUTH_KEY_UNREGISTERED, everyone else's keep working.
    pub revoke_user: Option<String>,
    /// Refuses TCP connections while true (drops live ones); back on the same port when false.
    pub down: Option<bool>,
    /// While true, two live connections on one auth key end that key: the call that finds a
    /// rival gets 406 AUTH_KEY_DUPLICATED and the key is logged out (off after a reset).
    pub auth_key_duplicated: Option<bool>,
}

/// One entry of `GET /connections`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ConnectionView {
    #[serde(flatten)]
    pub record: ConnectionRecord,
    /// The user the key was issued for (`@username`), when it is one of the world's keys.
    pub user: Option<String>,
}

impl SandboxControl {
    pub(crate) fn new(world: Arc<World>, server: MtprotoServer, info: Value) -> Self {
        SandboxControl {
            world,
            server,
            info: Arc::new(info),
        }
    }

    /// Every RPC the sandbox handled, in order.
    pub fn requests(&self) -> Vec<RequestLogEntry> {
        self.world.requests()
    }

    /// The chat's messages as the sandbox holds them, newest first.
    pub fn chat_messages(&self, peer: &str) -> Result<Vec<MessageView>, ControlError> {
        self.world.chat_messages(peer)
    }

    /// The chat's messages as `viewer` (another user of the world) sees them.
    pub fn chat_messages_as(
        &self,
        viewer: &str,
        peer: &str,
    ) -> Result<Vec<MessageView>, ControlError> {
        self.world.chat_messages_as(Some(viewer), peer)
    }

    /// Applies every part of `fault` (a `revoke_user` naming nobody is a `NotFound` error).
    pub async fn fault(&self, fault: Fault) -> std::io::Result<()> {
        if let Some(user) = &fault.revoke_user {
            self.world
                .revoke_user(user)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::NotFound, e))?;
        }
        if let Some(error) = fault.rpc_error {
            self.world.inject_rpc_error(error);
        }
        if let Some(ms) = fault.delay_ms {
            self.server.set_delay(Duration::from_millis(ms));
        }
        if fault.revoke_sessions {
            self.world.revoke_sessions();
        }
        if fault.drop_connections {
            self.server.drop_connections();
        }
        if let Some(down) = fault.down {
            self.server.set_down(down).await?;
        }
        if let Some(on) = fault.auth_key_duplicated {
            self.server.set_auth_key_duplicated(on);
        }
        Ok(())
    }

    /// Every connection's use of an auth key, oldest first (the proof that no two processes
    /// drove one account at once).
    pub fn connections(&self) -> Vec<ConnectionView> {
        self.server
            .connections()
            .into_iter()
            .map(|record| {
                let user = record
                    .auth_key_id
                    .parse()
                    .ok()
                    .and_then(|id| self.world.key_owner(id));
                ConnectionView { record, user }
            })
            .collect()
    }

    pub fn drop_connections(&self) {
        self.server.drop_connections();
    }

    /// See [`Fault::auth_key_duplicated`].
    pub fn set_auth_key_duplicated(&self, on: bool) {
        self.server.set_auth_key_duplicated(on);
    }

    pub fn set_delay(&self, delay: Duration) {
        self.server.set_delay(delay);
    }

    /// Fails the next `times` calls of `method` (a TL name such as `messages.sendMessage`).
    pub fn inject_rpc_error(&self, method: &str, code: i32, message: &str, times: u32) {
        self.world.inject_rpc_error(InjectedError {
            method: method.to_string(),
            code,
            message: message.to_string(),
            times,
        });
    }

    pub fn revoke_sessions(&self) {
        self.world.revoke_sessions();
    }

    /// Logs out only `user`'s keys (`@username` or id); everyone else's keep working.
    pub fn revoke_user(&self, user: &str) -> Result<(), ControlError> {
        self.world.revoke_user(user)
    }

    pub async fn set_down(&self, down: bool) -> std::io::Result<()> {
        self.server.set_down(down).await
    }

    /// Delivers `text` from user `from` to the account (see the module doc for `peer`).
    pub fn incoming(
        &self,
        from: &str,
        peer: Option<&str>,
        text: &str,
    ) -> Result<MessageView, ControlError> {
        self.world.incoming(from, peer, text)
    }

    /// The sender of message `id` in `peer` edits it (see [`World::incoming_edit`]).
    pub fn incoming_edit(
        &self,
        peer: &str,
        id: i32,
        text: &str,
    ) -> Result<MessageView, ControlError> {
        self.world.incoming_edit(peer, id, text)
    }

    /// The senders of `ids` in `peer` delete them for everyone; the ids deleted.
    pub fn incoming_delete(&self, peer: &str, ids: &[i32]) -> Result<Vec<i32>, ControlError> {
        self.world.incoming_delete(peer, ids)
    }

    /// `count` incoming messages `"{text} #{n}"`; their ids in order.
    pub fn incoming_burst(
        &self,
        from: &str,
        peer: Option<&str>,
        text: &str,
        count: u32,
    ) -> Result<Vec<i32>, ControlError> {
        self.world.incoming_burst(from, peer, text, count)
    }

    /// The starting world again (same keys, hashes and ports), no delay, accepting
    /// connections.
    pub async fn reset(&self) -> std::io::Result<()> {
        self.world.reset();
        self.server.reset_connection_log();
        self.server.set_delay(Duration::ZERO);
        self.server.set_down(false).await
    }

    /// Accepts the given QR login token, or the most recently exported one.
    pub fn accept_login_token(&self, token: Option<&[u8]>) -> Result<(), ControlError> {
        self.world.accept_login_token(token)
    }

    /// Enforces Telegram's sending limits (`chat=1/s,group=20/m,account=30/s`, or `off`):
    /// beyond them a send gets FLOOD_WAIT_N. The error is a sentence about `rates`.
    pub fn set_limits(&self, rates: &str) -> Result<(), String> {
        let rates = Rates::parse(rates)?;
        self.world.set_limits(rates);
        Ok(())
    }

    /// Slow mode on the supergroup `peer`: one message per `seconds` per sender, beyond it
    /// SLOWMODE_WAIT_N (0 lifts it).
    pub fn set_slow_mode(&self, peer: &str, seconds: u32) -> Result<(), ControlError> {
        self.world.set_slow_mode(peer, seconds)
    }

    /// Adds users and supergroups up to these counts; their `@usernames`.
    pub fn populate(&self, users: u32, groups: u32) -> (Vec<String>, Vec<String>) {
        self.world.populate(users, groups)
    }

    /// The bytes of a file the sandbox holds, by SHA-256 (hex).
    pub fn file(&self, sha256: &str) -> Option<Arc<crate::world::media::Blob>> {
        self.world.file(sha256)
    }

    /// The JSON `mtgate sandbox` prints.
    pub fn info(&self) -> Value {
        (*self.info).clone()
    }
}
