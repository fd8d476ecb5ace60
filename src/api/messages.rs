//! The `/v1/messages` endpoints: send, edit, delete one, delete many, history.
//!
//! Each handler validates everything it can (peer form, text length after parsing, bounds)
//! before any Telegram call, then runs under the request deadline. Sends, edits and deletes
//! honour `Idempotency-Key` (see [`crate::idempotency`]).

mod calls;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::json::{ApiJson, ApiPath, ApiQuery, json_response};
use super::openapi::ErrorBody;
use super::peers::{IntoLogged, peer_spec, request_timeout, within_deadline};
use super::{ApiError, AppState};
use crate::domain::{FormattedText, MessageView, ParseMode};
use crate::idempotency::{self, Claim, Fingerprint, IdempotencyKey};

/// Most messages one history page or one delete may cover (Telegram's own cap).
pub const MAX_IDS: usize = 100;
/// History page size when `limit` is not given.
pub const DEFAULT_LIMIT: u32 = 20;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/messages", post(send_message))
        .route("/v1/messages/delete", post(delete_messages))
        .route("/v1/messages/{peer}", get(history))
        .route(
            "/v1/messages/{peer}/{id}",
            patch(edit_message).delete(delete_message),
        )
}

/// `POST /v1/messages` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendMessageRequest {
    /// Where to send; `MTGATE_DEFAULT_PEER` when absent.
    #[schema(example = "@channel_name")]
    pub peer: Option<String>,
    /// 1 to 4096 UTF-16 code units after `parse_mode` is applied.
    pub text: String,
    /// `plain` (default), `markdown` or `html`.
    pub parse_mode: Option<ParseMode>,
    /// Id of the message in the same chat this one replies to.
    pub reply_to: Option<i32>,
    /// Send without a notification sound (default false).
    pub silent: Option<bool>,
    /// Show a preview of the first link (default true).
    pub link_preview: Option<bool>,
}

/// `PATCH /v1/messages/{peer}/{id}` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditMessageRequest {
    /// The new text, 1 to 4096 UTF-16 code units after parsing.
    pub text: String,
    pub parse_mode: Option<ParseMode>,
    /// Show a preview of the first link (default true).
    pub link_preview: Option<bool>,
}

/// `POST /v1/messages/delete` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteMessagesRequest {
    /// The chat; `MTGATE_DEFAULT_PEER` when absent.
    pub peer: Option<String>,
    /// 1 to 100 message ids of that chat.
    pub ids: Vec<i32>,
    /// Delete for everyone (default true). Channels and supergroups always delete for everyone.
    pub revoke: Option<bool>,
}

/// `POST /v1/messages/delete` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeletedCount {
    /// How many of the ids were deleted (ids not in the chat, or already gone, do not count).
    pub deleted: usize,
}

/// `GET /v1/messages/{peer}` query.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Page size, 1 to 100 (default 20).
    pub limit: Option<u32>,
    /// Only messages older than this id (the previous page's `next_before_id`).
    pub before_id: Option<i32>,
}

/// A history page, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryPage {
    pub messages: Vec<MessageView>,
    /// Pass as `before_id` for the next page; `null` when there are no older messages.
    pub next_before_id: Option<i32>,
}

/// Sends a text message.
#[utoipa::path(
    post,
    path = "/v1/messages",
    tag = "messages",
    request_body = SendMessageRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer instead of sending twice (1-255 visible ASCII characters)")),
    responses(
        (status = 201, description = "Sent", body = MessageView),
        (status = 400, description = "Bad input (INVALID_REQUEST, MESSAGE_TOO_LONG)", body = ErrorBody),
        (status = 403, description = "Telegram forbids it (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Unknown peer (PEER_NOT_FOUND)", body = ErrorBody),
        (status = 409, description = "Idempotency-Key reused with another body (IDEMPOTENCY_KEY_REUSED)", body = ErrorBody),
        (status = 429, description = "Flood wait (FLOOD_WAIT); see Retry-After", body = ErrorBody),
        (status = 502, description = "Unexpected Telegram error (INTERNAL)", body = ErrorBody),
        (status = 503, description = "Telegram unavailable or session unusable", body = ErrorBody),
        (status = 504, description = "Timed out (TIMEOUT)", body = ErrorBody),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn send_message(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<ApiJson<SendMessageRequest>, ApiError>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(e) => return e.into_logged(),
    };
    let req = &body.value;
    let prepared = (|| -> Result<_, ApiError> {
        let text = formatted(&req.text, req.parse_mode)?;
        let spec = peer_spec(&state, req.peer.as_deref())?;
        if req.reply_to.is_some_and(|id| id <= 0) {
            return Err(ApiError::invalid(
                "`reply_to` must be a positive message id",
            ));
        }
        Ok((text, spec))
    })();
    let (text, spec) = match prepared {
        Ok(p) => p,
        Err(e) => return e.into_logged(),
    };
    let options = calls::SendOptions {
        reply_to: req.reply_to,
        silent: req.silent.unwrap_or(false),
        link_preview: req.link_preview.unwrap_or(true),
    };
    let idempotent = match idempotency_of(&headers, Method::POST, "/v1/messages", &body.canonical) {
        Ok(k) => k,
        Err(e) => return e.into_logged(),
    };
    let random_id = match &idempotent {
        Some((key, fingerprint)) => idempotency::random_id(key, fingerprint),
        None => rand::random::<i64>().max(1),
    };
    let work = {
        let state = state.clone();
        async move {
            match calls::send(&state, &spec, &text, options, random_id).await {
                Ok(view) => json_response(StatusCode::CREATED, &view),
                Err(e) => e.into_logged(),
            }
        }
    };
    run(&state, idempotent, work).await
}

/// Edits a message's text.
#[utoipa::path(
    patch,
    path = "/v1/messages/{peer}/{id}",
    tag = "messages",
    request_body = EditMessageRequest,
    params(
        ("peer" = String, Path, description = "The chat (any peer form)"),
        ("id" = i32, Path, description = "The message id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer"),
    ),
    responses(
        (status = 200, description = "Edited", body = MessageView),
        (status = 400, description = "Bad input (INVALID_REQUEST, MESSAGE_TOO_LONG)", body = ErrorBody),
        (status = 403, description = "Telegram forbids it (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Unknown peer or message", body = ErrorBody),
        (status = 409, description = "Same text as before (MESSAGE_NOT_MODIFIED)", body = ErrorBody),
        (status = 429, description = "Flood wait", body = ErrorBody),
        (status = 503, description = "Telegram unavailable or session unusable", body = ErrorBody),
        (status = 504, description = "Timed out", body = ErrorBody),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn edit_message(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<ApiPath<(String, String)>, ApiError>,
    body: Result<ApiJson<EditMessageRequest>, ApiError>,
) -> Response {
    let prepared = (|| -> Result<_, ApiError> {
        let ApiPath((peer, id)) = path?;
        let body = body?;
        let spec = peer_spec(&state, Some(&peer))?;
        let id = message_id(&id)?;
        let text = formatted(&body.value.text, body.value.parse_mode)?;
        let link_preview = body.value.link_preview.unwrap_or(true);
        let path = format!("/v1/messages/{spec}/{id}");
        let idempotent = idempotency_of(&headers, Method::PATCH, &path, &body.canonical)?;
        Ok((spec, id, text, link_preview, idempotent))
    })();
    let (spec, id, text, link_preview, idempotent) = match prepared {
        Ok(p) => p,
        Err(e) => return e.into_logged(),
    };
    let work = {
        let state = state.clone();
        async move {
            match calls::edit(&state, &spec, id, &text, link_preview).await {
                Ok(view) => json_response(StatusCode::OK, &view),
                Err(e) => e.into_logged(),
            }
        }
    };
    run(&state, idempotent, work).await
}

/// Deletes one message (for everyone).
#[utoipa::path(
    delete,
    path = "/v1/messages/{peer}/{id}",
    tag = "messages",
    params(
        ("peer" = String, Path, description = "The chat (any peer form)"),
        ("id" = i32, Path, description = "The message id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Bad input", body = ErrorBody),
        (status = 403, description = "Telegram forbids it (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Unknown peer or message", body = ErrorBody),
        (status = 429, description = "Flood wait", body = ErrorBody),
        (status = 503, description = "Telegram unavailable or session unusable", body = ErrorBody),
        (status = 504, description = "Timed out", body = ErrorBody),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn delete_message(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<ApiPath<(String, String)>, ApiError>,
) -> Response {
    let prepared = (|| -> Result<_, ApiError> {
        let ApiPath((peer, id)) = path?;
        let spec = peer_spec(&state, Some(&peer))?;
        let id = message_id(&id)?;
        let path = format!("/v1/messages/{spec}/{id}");
        let idempotent = idempotency_of(&headers, Method::DELETE, &path, b"")?;
        Ok((spec, id, idempotent))
    })();
    let (spec, id, idempotent) = match prepared {
        Ok(p) => p,
        Err(e) => return e.into_logged(),
    };
    let work = {
        let state = state.clone();
        async move {
            match calls::delete(&state, &spec, &[id], true).await {
                Ok(0) => ApiError::MessageNotFound {
                    message: format!("no message {id} in this chat"),
                    telegram: None,
                }
                .into_logged(),
                Ok(_) => StatusCode::NO_CONTENT.into_response(),
                Err(e) => e.into_logged(),
            }
        }
    };
    run(&state, idempotent, work).await
}

/// Deletes several messages of one chat.
#[utoipa::path(
    post,
    path = "/v1/messages/delete",
    tag = "messages",
    request_body = DeleteMessagesRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer")),
    responses(
        (status = 200, description = "How many were deleted", body = DeletedCount),
        (status = 400, description = "Bad input", body = ErrorBody),
        (status = 403, description = "Telegram forbids it (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Unknown peer", body = ErrorBody),
        (status = 429, description = "Flood wait", body = ErrorBody),
        (status = 503, description = "Telegram unavailable or session unusable", body = ErrorBody),
        (status = 504, description = "Timed out", body = ErrorBody),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn delete_messages(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<ApiJson<DeleteMessagesRequest>, ApiError>,
) -> Response {
    let prepared = (|| -> Result<_, ApiError> {
        let body = body?;
        let spec = peer_spec(&state, body.value.peer.as_deref())?;
        let ids = message_ids(&body.value.ids)?;
        let idempotent = idempotency_of(
            &headers,
            Method::POST,
            "/v1/messages/delete",
            &body.canonical,
        )?;
        Ok((spec, ids, body.value.revoke.unwrap_or(true), idempotent))
    })();
    let (spec, ids, revoke, idempotent) = match prepared {
        Ok(p) => p,
        Err(e) => return e.into_logged(),
    };
    let work = {
        let state = state.clone();
        async move {
            match calls::delete(&state, &spec, &ids, revoke).await {
                Ok(deleted) => json_response(StatusCode::OK, &DeletedCount { deleted }),
                Err(e) => e.into_logged(),
            }
        }
    };
    run(&state, idempotent, work).await
}

/// Reads a chat's history, newest first.
#[utoipa::path(
    get,
    path = "/v1/messages/{peer}",
    tag = "messages",
    params(
        ("peer" = String, Path, description = "The chat (any peer form)"),
        HistoryQuery,
    ),
    responses(
        (status = 200, description = "A page of messages", body = HistoryPage),
        (status = 400, description = "Bad input", body = ErrorBody),
        (status = 403, description = "Telegram forbids it (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Unknown peer", body = ErrorBody),
        (status = 429, description = "Flood wait", body = ErrorBody),
        (status = 503, description = "Telegram unavailable or session unusable", body = ErrorBody),
        (status = 504, description = "Timed out", body = ErrorBody),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn history(
    State(state): State<AppState>,
    path: Result<ApiPath<String>, ApiError>,
    query: Result<ApiQuery<HistoryQuery>, ApiError>,
) -> Response {
    let prepared = (|| -> Result<_, ApiError> {
        let ApiPath(peer) = path?;
        let ApiQuery(query) = query?;
        let spec = peer_spec(&state, Some(&peer))?;
        let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_IDS as u32).contains(&limit) {
            return Err(ApiError::invalid(format!(
                "`limit` must be between 1 and {MAX_IDS}"
            )));
        }
        if query.before_id.is_some_and(|id| id <= 0) {
            return Err(ApiError::invalid(
                "`before_id` must be a positive message id",
            ));
        }
        Ok((spec, limit as usize, query.before_id))
    })();
    let (spec, limit, before_id) = match prepared {
        Ok(p) => p,
        Err(e) => return e.into_logged(),
    };
    within_deadline(&state, async {
        let page = calls::history(&state, &spec, limit, before_id).await?;
        Ok(json_response(StatusCode::OK, &page))
    })
    .await
}

fn formatted(text: &str, mode: Option<ParseMode>) -> Result<FormattedText, ApiError> {
    use crate::domain::TextError;
    FormattedText::parse(text, mode.unwrap_or_default()).map_err(|e| match e {
        TextError::TooLong { .. } => ApiError::MessageTooLong {
            message: e.to_string(),
            telegram: None,
        },
        _ => ApiError::invalid(e.to_string()),
    })
}

fn message_id(raw: &str) -> Result<i32, ApiError> {
    raw.parse::<i32>().ok().filter(|id| *id > 0).ok_or_else(|| {
        ApiError::invalid(format!("`{raw}` is not a message id (a positive integer)"))
    })
}

fn message_ids(ids: &[i32]) -> Result<Vec<i32>, ApiError> {
    if ids.is_empty() || ids.len() > MAX_IDS {
        return Err(ApiError::invalid(format!(
            "`ids` must hold 1 to {MAX_IDS} message ids"
        )));
    }
    if let Some(bad) = ids.iter().find(|id| **id <= 0) {
        return Err(ApiError::invalid(format!(
            "`ids` holds {bad}, which is not a message id (a positive integer)"
        )));
    }
    let mut unique = ids.to_vec();
    unique.sort_unstable();
    unique.dedup();
    Ok(unique)
}

/// The idempotency key and request fingerprint, when the caller sent `Idempotency-Key`.
fn idempotency_of(
    headers: &HeaderMap,
    method: Method,
    path: &str,
    canonical_body: &[u8],
) -> Result<Option<(IdempotencyKey, Fingerprint)>, ApiError> {
    let Some(raw) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = IdempotencyKey::parse(raw.as_bytes()).map_err(ApiError::invalid)?;
    Ok(Some((
        key,
        Fingerprint::of(method.as_str(), path, canonical_body),
    )))
}

/// Runs a handler's work: once per idempotency key when there is one (in its own task, so a
/// caller hanging up does not cancel it), under the request deadline either way.
async fn run<W>(
    state: &AppState,
    idempotent: Option<(IdempotencyKey, Fingerprint)>,
    work: W,
) -> Response
where
    W: std::future::Future<Output = Response> + Send + 'static,
{
    let Some((key, fingerprint)) = idempotent else {
        return within_deadline(state, async { Ok(work.await) }).await;
    };
    let store = state.idempotency.clone();
    let limit = request_timeout(state);
    match tokio::time::timeout(limit, store.run(key, fingerprint, work)).await {
        Ok(Claim::Answer { response, replayed }) => response.to_response(replayed),
        Ok(Claim::Conflict) => ApiError::IdempotencyConflict.into_logged(),
        Ok(Claim::Abandoned) => ApiError::Internal {
            message: "the first request with this Idempotency-Key failed without an answer".into(),
            telegram: None,
            upstream: false,
        }
        .into_logged(),
        Err(_) => ApiError::Timeout(format!(
            "the request did not finish within {} s (it goes on: retry with the same Idempotency-Key for its answer)",
            limit.as_secs()
        ))
        .into_logged(),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn the_routes_build_without_conflicts() {
        let _: Router<AppState> = routes()
            .merge(crate::api::peers::routes())
            .merge(crate::api::openapi::routes());
    }

    #[test]
    fn message_ids_must_be_positive_integers() {
        assert_eq!(message_id("42").unwrap(), 42);
        for bad in ["0", "-1", "abc", "", "99999999999", "1.5"] {
            assert_eq!(
                message_id(bad).unwrap_err().code(),
                "INVALID_REQUEST",
                "{bad}"
            );
        }
    }

    #[test]
    fn delete_ids_are_bounded_positive_and_deduplicated() {
        assert_eq!(message_ids(&[3, 1, 3]).unwrap(), [1, 3]);
        assert!(message_ids(&[]).is_err());
        assert!(message_ids(&[0]).is_err());
        assert!(message_ids(&vec![1; MAX_IDS + 1]).is_err());
        assert!(message_ids(&(1..=MAX_IDS as i32).collect::<Vec<_>>()).is_ok());
    }

    #[test]
    fn text_problems_map_to_their_codes() {
        let long = "x".repeat(5000);
        let e = formatted(&long, None).unwrap_err();
        assert_eq!((e.code(), e.status().as_u16()), ("MESSAGE_TOO_LONG", 400));
        assert_eq!(formatted("", None).unwrap_err().code(), "INVALID_REQUEST");
        assert_eq!(
            formatted("<b></b>", Some(ParseMode::Html))
                .unwrap_err()
                .code(),
            "INVALID_REQUEST"
        );
    }

    #[test]
    fn the_idempotency_fingerprint_covers_method_path_and_body() {
        let mut headers = HeaderMap::new();
        assert!(
            idempotency_of(&headers, Method::POST, "/p", b"{}")
                .unwrap()
                .is_none()
        );
        headers.insert("idempotency-key", HeaderValue::from_static("k-1"));
        let (key, a) = idempotency_of(&headers, Method::POST, "/p", b"{}")
            .unwrap()
            .unwrap();
        assert_eq!(key.as_str(), "k-1");
        let (_, b) = idempotency_of(&headers, Method::POST, "/p", b"{\"x\":1}")
            .unwrap()
            .unwrap();
        assert_ne!(a, b);
        headers.insert("idempotency-key", HeaderValue::from_static(""));
        assert_eq!(
            idempotency_of(&headers, Method::POST, "/p", b"{}")
                .unwrap_err()
                .code(),
            "INVALID_REQUEST"
        );
    }
}
