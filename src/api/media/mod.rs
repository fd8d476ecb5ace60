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
use super::json::{MAX_BODY_BYTES, check_content_type, parse_json, parse_json_or_keep, read_body};
use super::peers::Logged;

pub use finished::FinishedUploads;
pub use types::{MediaRequest, MediaSendForm, MediaSendRequest};

pub fn routes() -> Router<AppState> {
    Router::new().route("/v1/messages/{peer}/{id}/media", get(download::download))
}

/// `POST /v1/messages`: a multipart body is a media send, anything else the JSON text send.
///
/// The media branches are boxed: their futures (streamed uploads, URL downloads) are far
/// larger than the text send's, and an unboxed branch would make every plain send carry,
/// and move, a future of their size.
pub async fn send_any(
    CurrentAccount(account): CurrentAccount,
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, Logged> {
    let (parts, body) = request.into_parts();
    let headers = parts.headers;
    if form::is_multipart(&headers) {
        return Box::pin(send::send_multipart(account, state, headers, body)).await;
    }
    let bytes = match check_content_type(&headers) {
        Ok(()) => read_body(body, MAX_BODY_BYTES).await,
        Err(e) => Err(e),
    };
    // A JSON body: the text send is tried first, so a plain send is parsed once. The text
    // send refuses unknown fields, so a body naming `media` (with `url`) lands below.
    let text = match bytes.map(parse_json_or_keep) {
        Ok(Err((_, bytes))) if names_media(&bytes) => {
            let body = parse_json::<MediaSendRequest>(bytes)?;
            return Box::pin(url::send_from_url(account, state, headers, body)).await;
        }
        Ok(parsed) => parsed.map_err(|(error, _)| error),
        Err(e) => Err(e),
    };
    super::messages::send_message(
        CurrentAccount(account),
        State(state.idempotency.clone()),
        headers,
        text,
    )
    .await
}

fn names_media(bytes: &[u8]) -> bool {
    serde_json::from_slice::<NamesMedia>(bytes).is_ok_and(|probe| probe.media.is_some())
}

/// Whether a JSON object has a `media` field (everything else is ignored here).
#[derive(serde::Deserialize)]
struct NamesMedia {
    media: Option<serde::de::IgnoredAny>,
}

#[cfg(test)]
mod tests {
    /// The size of the future a three-argument async handler returns.
    fn future_size<A, B, C, F>(_handler: impl Fn(A, B, C) -> F) -> usize {
        std::mem::size_of::<F>()
    }

    #[test]
    fn a_plain_send_does_not_carry_the_media_branches_or_the_telegram_call_inline() {
        // axum moves each route's future into a box per request; this one was 54 KiB before
        // the media branches and the Telegram call were boxed (about 2.6 KiB after).
        let size = future_size(super::send_any);
        assert!(size < 8 * 1024, "POST /v1/messages' future is {size} bytes");
    }
}
