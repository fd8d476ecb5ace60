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
//! | `POST /reset` | | `204`: the starting world, no delay, up again |
//! | `POST /login-tokens/accept` | optional `{"token":"<base64url>"}` | `204`, or `404` when no QR token waits |
//! | `GET /info` | | the same JSON line `mtgate sandbox` prints |
//! | `POST /population` | `{"users":N,"groups":M}` (each up to 1000) | `200 {"users":["@crowd001_sandbox",…],"groups":["@crowd001_chat",…]}`: that many more users and supergroups (owned by the account) exist until the next reset |
//! | `POST /limits` | `{"rates":"chat=1/s,group=20/m,account=30/s"}` (or `"off"`, the default), `{"slow_mode":{"peer":"@supergroup","seconds":N}}` (0: off); both at once allowed | `204`: beyond the rates sends get FLOOD_WAIT_N, in slow mode SLOWMODE_WAIT_N (`400` bad rates, `404` not a supergroup) |
//!
//! `peer` is written as in the HTTP API: `@username`, `username`, `t.me/username`, a
//! Bot-API-style id or `me`. `/incoming` without `peer` (or with a user) delivers into the
//! private chat with the sender; with a channel or supergroup, into that chat.
//! Errors are `{"error":{"code","message"}}` with status 400 or 404.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};

use super::wire::{ConnectionRecord, MtprotoServer};
use super::world::faults::InjectedError;
use super::world::limits::Rates;
use super::world::{ControlError, MessageView, RequestLogEntry, World};

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

    /// The JSON `mtgate sandbox` prints.
    pub fn info(&self) -> Value {
        (*self.info).clone()
    }
}

/// The control API's HTTP routes over `control`.
pub fn router(control: SandboxControl) -> Router {
    Router::new()
        .route("/requests", get(requests))
        .route("/chats/{peer}/messages", get(chat_messages))
        .route("/faults", post(faults))
        .route("/connections", get(connections))
        .route("/incoming", post(incoming))
        .route("/reset", post(reset))
        .route("/login-tokens/accept", post(accept_login_token))
        .route("/info", get(info))
        .route("/limits", post(limits))
        .route("/population", post(population))
        .with_state(control)
}

fn error(status: StatusCode, code: &str, message: impl std::fmt::Display) -> Response {
    let body = json!({"error": {"code": code, "message": message.to_string()}});
    (status, axum::Json(body)).into_response()
}

fn control_error(e: ControlError) -> Response {
    let (status, code) = match &e {
        ControlError::UnknownPeer(_) => (StatusCode::NOT_FOUND, "PEER_NOT_FOUND"),
        ControlError::NoPendingLoginToken => (StatusCode::NOT_FOUND, "NO_PENDING_LOGIN_TOKEN"),
        ControlError::Incoming(_) => (StatusCode::BAD_REQUEST, "INVALID_REQUEST"),
    };
    error(status, code, e)
}

/// A request body that is not the JSON a route wants; answers 400 naming the problem.
struct BadBody(String);

impl IntoResponse for BadBody {
    fn into_response(self) -> Response {
        error(StatusCode::BAD_REQUEST, "INVALID_REQUEST", self.0)
    }
}

fn parse<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, BadBody> {
    serde_json::from_slice(body).map_err(|e| BadBody(format!("bad JSON body: {e}")))
}

fn io_error(e: std::io::Error) -> Response {
    error(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", e)
}

async fn connections(State(control): State<SandboxControl>) -> Response {
    axum::Json(control.connections()).into_response()
}

async fn requests(State(control): State<SandboxControl>) -> Response {
    axum::Json(control.requests()).into_response()
}

/// `?as=@user`: whose copy of a private chat to show.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChatQuery {
    #[serde(rename = "as")]
    viewer: Option<String>,
}

async fn chat_messages(
    State(control): State<SandboxControl>,
    Path(peer): Path<String>,
    Query(query): Query<ChatQuery>,
) -> Response {
    let messages = match &query.viewer {
        Some(viewer) => control.chat_messages_as(viewer, &peer),
        None => control.chat_messages(&peer),
    };
    match messages {
        Ok(messages) => axum::Json(messages).into_response(),
        Err(e) => control_error(e),
    }
}

async fn faults(State(control): State<SandboxControl>, body: Bytes) -> Response {
    let fault: Fault = match parse(&body) {
        Ok(fault) => fault,
        Err(bad) => return bad.into_response(),
    };
    if fault == Fault::default() {
        return error(
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "the body names no fault",
        );
    }
    if let Some(user) = fault.revoke_user.as_deref()
        && let Err(e) = control.revoke_user(user)
    {
        return control_error(e);
    }
    match control.fault(fault).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => io_error(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Population {
    #[serde(default)]
    users: u32,
    #[serde(default)]
    groups: u32,
}

async fn population(State(control): State<SandboxControl>, body: Bytes) -> Response {
    let wanted: Population = match parse(&body) {
        Ok(wanted) => wanted,
        Err(bad) => return bad.into_response(),
    };
    let max = super::world::population::MAX_ADDED;
    if wanted.users > max || wanted.groups > max {
        return error(
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            format!("`users` and `groups` go up to {max}"),
        );
    }
    let (users, groups) = control.populate(wanted.users, wanted.groups);
    axum::Json(json!({"users": users, "groups": groups})).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsBody {
    rates: Option<String>,
    slow_mode: Option<SlowMode>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SlowMode {
    peer: String,
    seconds: u32,
}

async fn limits(State(control): State<SandboxControl>, body: Bytes) -> Response {
    let body: LimitsBody = match parse(&body) {
        Ok(body) => body,
        Err(bad) => return bad.into_response(),
    };
    if body.rates.is_none() && body.slow_mode.is_none() {
        return error(
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "give `rates`, `slow_mode` or both",
        );
    }
    // Validated before anything changes, so a bad body changes nothing.
    let rates = match body.rates.as_deref().map(Rates::parse).transpose() {
        Ok(rates) => rates,
        Err(why) => return error(StatusCode::BAD_REQUEST, "INVALID_REQUEST", why),
    };
    if let Some(slow) = &body.slow_mode
        && let Err(e) = control.set_slow_mode(&slow.peer, slow.seconds)
    {
        return control_error(e);
    }
    if let Some(rates) = rates {
        control.world.set_limits(rates);
    }
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Incoming {
    from: String,
    peer: Option<String>,
    text: String,
}

async fn incoming(State(control): State<SandboxControl>, body: Bytes) -> Response {
    let incoming: Incoming = match parse(&body) {
        Ok(incoming) => incoming,
        Err(bad) => return bad.into_response(),
    };
    match control.incoming(&incoming.from, incoming.peer.as_deref(), &incoming.text) {
        Ok(message) => (StatusCode::CREATED, axum::Json(message)).into_response(),
        Err(e) => control_error(e),
    }
}

async fn reset(State(control): State<SandboxControl>) -> Response {
    match control.reset().await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => io_error(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Accept {
    token: Option<String>,
}

async fn accept_login_token(State(control): State<SandboxControl>, body: Bytes) -> Response {
    let token = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        let accept: Accept = match parse(&body) {
            Ok(accept) => accept,
            Err(bad) => return bad.into_response(),
        };
        match accept.token.map(|t| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(t.trim_end_matches('='))
        }) {
            None => None,
            Some(Ok(bytes)) => Some(bytes),
            Some(Err(_)) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "INVALID_REQUEST",
                    "token is not base64url",
                );
            }
        }
    };
    match control.accept_login_token(token.as_deref()) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => control_error(e),
    }
}

async fn info(State(control): State<SandboxControl>) -> Response {
    axum::Json(control.info()).into_response()
}
