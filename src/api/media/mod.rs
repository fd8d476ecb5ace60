//! Media: `POST /v1/messages` with `multipart/form-data` ([`send`]: files streamed to
//! Telegram as they arrive) and `GET /v1/messages/{peer}/{id}/media` ([`download`]: the
//! file streamed back, with `Range`).

pub mod compose;
pub mod download;
pub mod finished;
pub mod form;
pub mod send;
pub mod types;
pub mod url;

use axum::Router;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::routing::get;

use super::AppState;
use super::account::CurrentAccount;
use super::json::{MAX_BODY_BYTES, check_content_type, parse_json, read_body};
use super::peers::Logged;

pub use finished::FinishedUploads;
pub use types::{MediaRequest, MediaSendForm, MediaSendRequest};

pub fn routes() -> Router<AppState> {
    Router::new().route("/v1/messages/{peer}/{id}/media", get(download::download))
}

/// `POST /v1/messages`: a multipart body is a media send, anything else the JSON text send.
pub async fn send_any(
    CurrentAccount(account): CurrentAccount,
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, Logged> {
    let multipart = form::is_multipart(request.headers());
    let headers = request.headers().clone();
    if multipart {
        return send::send_multipart(account, state, headers, request.into_body()).await;
    }
    // A JSON body: `media` (with `url`) makes it a media send, anything else a text send.
    let bytes = match check_content_type(&headers) {
        Ok(()) => read_body(request.into_body(), MAX_BODY_BYTES).await,
        Err(e) => Err(e),
    };
    let names_media = bytes.as_ref().is_ok_and(|b| {
        serde_json::from_slice::<NamesMedia>(b).is_ok_and(|probe| probe.media.is_some())
    });
    if names_media {
        let body = parse_json::<MediaSendRequest>(bytes.expect("checked above"))?;
        return url::send_from_url(account, state, headers, body).await;
    }
    let body = bytes.and_then(parse_json);
    super::messages::send_message(
        CurrentAccount(account),
        State(state.idempotency.clone()),
        headers,
        body,
    )
    .await
}

/// Whether a JSON object has a `media` field (everything else is ignored here).
#[derive(serde::Deserialize)]
struct NamesMedia {
    media: Option<serde::de::IgnoredAny>,
}
