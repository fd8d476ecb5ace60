//! The control API over HTTP: each route parses its JSON body, calls one
//! [`SandboxControl`] method and renders the answer (see the table in the parent module).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use serde::Deserialize;
use serde_json::json;

use super::{Fault, SandboxControl};
use crate::world::limits::Rates;
use crate::world::{ControlError, IncomingError};

/// The control API's HTTP routes over `control`.
pub fn router(control: SandboxControl) -> Router {
    Router::new()
        .route("/requests", get(requests))
        .route("/chats/{peer}/messages", get(chat_messages))
        .route("/faults", post(faults))
        .route("/connections", get(connections))
        .route("/incoming", post(incoming))
        .route("/incoming/edit", post(incoming_edit))
        .route("/incoming/delete", post(incoming_delete))
        .route("/incoming/burst", post(incoming_burst))
        .route("/reset", post(reset))
        .route("/login-tokens/accept", post(accept_login_token))
        .route("/files/{sha256}", get(file))
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
        ControlError::Incoming(IncomingError::UnknownMessage(_)) => {
            (StatusCode::NOT_FOUND, "MESSAGE_NOT_FOUND")
        }
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
    let max = crate::world::population::MAX_ADDED;
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IncomingEdit {
    peer: String,
    id: i32,
    text: String,
}

async fn incoming_edit(State(control): State<SandboxControl>, body: Bytes) -> Response {
    let edit: IncomingEdit = match parse(&body) {
        Ok(edit) => edit,
        Err(bad) => return bad.into_response(),
    };
    match control.incoming_edit(&edit.peer, edit.id, &edit.text) {
        Ok(message) => axum::Json(message).into_response(),
        Err(e) => control_error(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IncomingDelete {
    peer: String,
    ids: Vec<i32>,
}

async fn incoming_delete(State(control): State<SandboxControl>, body: Bytes) -> Response {
    let delete: IncomingDelete = match parse(&body) {
        Ok(delete) => delete,
        Err(bad) => return bad.into_response(),
    };
    match control.incoming_delete(&delete.peer, &delete.ids) {
        Ok(deleted) => axum::Json(json!({ "deleted": deleted })).into_response(),
        Err(e) => control_error(e),
    }
}

/// Most messages one burst may deliver (it holds the world's lock per message only).
const MAX_BURST: u32 = 100_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IncomingBurst {
    from: String,
    peer: Option<String>,
    text: String,
    count: u32,
}

async fn incoming_burst(State(control): State<SandboxControl>, body: Bytes) -> Response {
    let burst: IncomingBurst = match parse(&body) {
        Ok(burst) => burst,
        Err(bad) => return bad.into_response(),
    };
    if burst.count == 0 || burst.count > MAX_BURST {
        return error(
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            format!("count must be 1..={MAX_BURST}"),
        );
    }
    let result =
        control.incoming_burst(&burst.from, burst.peer.as_deref(), &burst.text, burst.count);
    match result {
        Ok(ids) => (StatusCode::CREATED, axum::Json(json!({ "ids": ids }))).into_response(),
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

async fn file(State(control): State<SandboxControl>, Path(sha256): Path<String>) -> Response {
    match control.file(&sha256) {
        // A copy for the answer: ground truth for tests, not a hot path.
        Some(blob) => (
            [(axum::http::header::CONTENT_TYPE, "application/octet-stream")],
            blob.bytes.clone(),
        )
            .into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "FILE_NOT_FOUND",
            format!("no stored file has SHA-256 {sha256}"),
        ),
    }
}

async fn info(State(control): State<SandboxControl>) -> Response {
    axum::Json(control.info()).into_response()
}
