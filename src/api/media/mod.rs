//! Media: `POST /v1/messages` with `multipart/form-data` ([`send`]: files streamed to
//! Telegram as they arrive) and `GET /v1/messages/{peer}/{id}/media` ([`download`]: the
//! file streamed back, with `Range`).

pub mod download;
pub mod finished;
pub mod send;
pub mod types;

use axum::Router;
use axum::extract::{FromRequest, Request, State};
use axum::http::header;
use axum::response::Response;
use axum::routing::get;

use super::AppState;
use super::account::CurrentAccount;
use super::json::ApiJson;
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
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        });
    let headers = request.headers().clone();
    if multipart {
        return send::send_multipart(account, state, headers, request.into_body()).await;
    }
    let body = ApiJson::from_request(request, &()).await;
    super::messages::send_message(
        CurrentAccount(account),
        State(state.idempotency.clone()),
        headers,
        body,
    )
    .await
}
