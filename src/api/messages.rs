//! The `/v1/messages` endpoints: send, edit, delete one, delete many, history.
//!
//! Each handler validates everything it can (peer form, text length after parsing, bounds)
//! before any Telegram call, then runs under the request deadline. Sends, edits and deletes
//! honour `Idempotency-Key` (see [`crate::idempotency`]).

pub mod actions;
pub(crate) mod input;
mod types;

pub use types::{
    DeleteMessagesRequest, DeletedCount, EditMessageRequest, HistoryPage, HistoryQuery,
    SendMessageRequest,
};

use self::input::{formatted, idempotency_of, message_id, message_ids};
use super::account::CurrentAccount;
use super::json::{ApiJson, ApiPath, ApiQuery, json_response};
use super::openapi::{ErrorBody, TelegramErrors};
use super::peers::{IntoLogged, Logged, peer_spec, within_deadline};
use super::schemas::MessageView;
use super::{ApiError, AppState};
use crate::accounts::Account;
use crate::domain::{PeerSpec, SendOptions};
use crate::idempotency::{self, Claim, Fingerprint, IdempotencyKey, IdempotencyStore};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use std::future::Future;
use std::sync::Arc;

/// Most messages one history page or one delete may cover (Telegram's own cap).
pub const MAX_IDS: usize = 100;
/// History page size when `limit` is not given.
pub const DEFAULT_LIMIT: u32 = 20;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/messages", post(super::media::send_any))
        .route("/v1/messages/delete", post(delete_messages))
        .route("/v1/messages/{peer}", get(history))
        .route(
            "/v1/messages/{peer}/{id}",
            patch(edit_message).delete(delete_message),
        )
}

/// Sends a text message.
#[utoipa::path(
    post,
    path = "/v1/messages",
    tag = "messages",
    request_body(
        description = "A text message (JSON), or files (`multipart/form-data`: a `json` part with the send body and `media`, then one or more `file` parts; several files form an album). Files stream to Telegram as they arrive. A JSON body with `media` (a `MediaSendRequest` with `media.url`) has mtgate fetch the file, when MTGATE_MEDIA_URL_SCHEMES allows.",
        content(
            (SendMessageRequest = "application/json"),
            (crate::api::media::MediaSendForm = "multipart/form-data"),
        ),
    ),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer instead of sending twice (1-255 visible ASCII characters); for files, a retry after the upload finished does not upload again")),
    responses(
        (status = 201, description = "Sent (or, with `Idempotent-Replayed: true`, the answer to an earlier request with the same Idempotency-Key). A media send's answer is the first message with `media`, plus `album` for several files.", body = crate::api::schemas::SentMedia, headers(("Idempotent-Replayed" = Option<String>, description = "`true` when this answer replays an earlier one"))),
        (status = 400, description = "Bad input (INVALID_REQUEST, MESSAGE_TOO_LONG)", body = ErrorBody),
        (status = 408, description = "A multipart body ended early (BODY_INCOMPLETE); nothing was sent, a retry with the same key runs again", body = ErrorBody),
        (status = 413, description = "A file is over MTGATE_MEDIA_MAX_BYTES (PAYLOAD_TOO_LARGE); nothing was sent", body = ErrorBody),
        (status = 403, description = "Telegram forbids it (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Unknown peer (PEER_NOT_FOUND) or `reply_to` message (MESSAGE_NOT_FOUND)", body = ErrorBody),
        (status = 409, description = "Idempotency-Key reused with another body (IDEMPOTENCY_KEY_REUSED)", body = ErrorBody),
        (status = 502, description = "Unexpected Telegram error (INTERNAL)", body = ErrorBody),
        (status = 504, description = "Timed out (TIMEOUT)", body = ErrorBody),
        TelegramErrors,
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn send_message(
    CurrentAccount(account): CurrentAccount,
    State(idempotency): State<Arc<IdempotencyStore>>,
    headers: HeaderMap,
    body: Result<ApiJson<SendMessageRequest>, ApiError>,
) -> Result<Response, Logged> {
    let body = body?;
    let req = &body.value;
    let text = formatted(&req.text, req.parse_mode)?;
    let spec = peer_spec(&account, req.peer.as_deref())?;
    if req.reply_to.is_some_and(|id| id <= 0) {
        return Err(ApiError::invalid("`reply_to` must be a positive message id").into());
    }
    let options = SendOptions {
        reply_to: req.reply_to,
        silent: req.silent.unwrap_or(false),
        link_preview: req.link_preview.unwrap_or(true),
    };
    let idempotent = idempotency_of(
        account.idempotency_scope(),
        &headers,
        Method::POST,
        "/v1/messages",
        &body.canonical,
    )?;
    let random_id = match &idempotent {
        Some((key, fingerprint)) => idempotency::random_id(key, fingerprint),
        None => fresh_random_id(),
    };
    run(
        &account,
        &idempotency,
        idempotent,
        move |account| async move {
            let view = account.send(&spec, &text, options, random_id).await?;
            Ok(json_response(StatusCode::CREATED, &MessageView::from(view)))
        },
    )
    .await
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
        (status = 504, description = "Timed out", body = ErrorBody),
        TelegramErrors,
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn edit_message(
    CurrentAccount(account): CurrentAccount,
    State(idempotency): State<Arc<IdempotencyStore>>,
    headers: HeaderMap,
    path: Result<ApiPath<(String, String)>, ApiError>,
    body: Result<ApiJson<EditMessageRequest>, ApiError>,
) -> Result<Response, Logged> {
    let ApiPath((peer, id)) = path?;
    let body = body?;
    let spec = peer_spec(&account, Some(&peer))?;
    let id = message_id(&id)?;
    let text = formatted(&body.value.text, body.value.parse_mode)?;
    let link_preview = body.value.link_preview.unwrap_or(true);
    let path = message_path(&spec, id);
    let idempotent = idempotency_of(
        account.idempotency_scope(),
        &headers,
        Method::PATCH,
        &path,
        &body.canonical,
    )?;
    run(
        &account,
        &idempotency,
        idempotent,
        move |account| async move {
            let view = account.edit(&spec, id, &text, link_preview).await?;
            Ok(json_response(StatusCode::OK, &MessageView::from(view)))
        },
    )
    .await
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
        (status = 504, description = "Timed out", body = ErrorBody),
        TelegramErrors,
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn delete_message(
    CurrentAccount(account): CurrentAccount,
    State(idempotency): State<Arc<IdempotencyStore>>,
    headers: HeaderMap,
    path: Result<ApiPath<(String, String)>, ApiError>,
) -> Result<Response, Logged> {
    let ApiPath((peer, id)) = path?;
    let spec = peer_spec(&account, Some(&peer))?;
    let id = message_id(&id)?;
    let path = message_path(&spec, id);
    let idempotent = idempotency_of(
        account.idempotency_scope(),
        &headers,
        Method::DELETE,
        &path,
        b"",
    )?;
    run(
        &account,
        &idempotency,
        idempotent,
        move |account| async move {
            match account.delete(&spec, &[id], true).await? {
                0 => Err(ApiError::MessageNotFound {
                    message: format!("no message {id} in this chat"),
                    telegram: None,
                }),
                _ => Ok(StatusCode::NO_CONTENT.into_response()),
            }
        },
    )
    .await
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
        (status = 504, description = "Timed out", body = ErrorBody),
        TelegramErrors,
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn delete_messages(
    CurrentAccount(account): CurrentAccount,
    State(idempotency): State<Arc<IdempotencyStore>>,
    headers: HeaderMap,
    body: Result<ApiJson<DeleteMessagesRequest>, ApiError>,
) -> Result<Response, Logged> {
    let body = body?;
    let spec = peer_spec(&account, body.value.peer.as_deref())?;
    let ids = message_ids(&body.value.ids)?;
    let revoke = body.value.revoke.unwrap_or(true);
    let idempotent = idempotency_of(
        account.idempotency_scope(),
        &headers,
        Method::POST,
        "/v1/messages/delete",
        &body.canonical,
    )?;
    run(
        &account,
        &idempotency,
        idempotent,
        move |account| async move {
            let deleted = account.delete(&spec, &ids, revoke).await?;
            Ok(json_response(StatusCode::OK, &DeletedCount { deleted }))
        },
    )
    .await
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
        (status = 504, description = "Timed out", body = ErrorBody),
        TelegramErrors,
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn history(
    CurrentAccount(account): CurrentAccount,
    path: Result<ApiPath<String>, ApiError>,
    query: Result<ApiQuery<HistoryQuery>, ApiError>,
) -> Result<Response, Logged> {
    let ApiPath(peer) = path?;
    let ApiQuery(query) = query?;
    let spec = peer_spec(&account, Some(&peer))?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_IDS as u32).contains(&limit) {
        return Err(ApiError::invalid(format!("`limit` must be between 1 and {MAX_IDS}")).into());
    }
    if query.before_id.is_some_and(|id| id <= 0) {
        return Err(ApiError::invalid("`before_id` must be a positive message id").into());
    }
    let before_id = query.before_id;
    Ok(within_deadline(&account, async {
        let page = account.history(&spec, limit as usize, before_id).await?;
        Ok(json_response(StatusCode::OK, &HistoryPage::from(page)))
    })
    .await)
}

/// A random `random_id` for a send without an Idempotency-Key (any non-zero value).
pub(crate) fn fresh_random_id() -> i64 {
    loop {
        let id = rand::random::<i64>();
        if id != 0 {
            return id;
        }
    }
}

/// The path a single message's idempotency fingerprint is taken over (edit and delete).
fn message_path(spec: &PeerSpec, id: i32) -> String {
    format!("/v1/messages/{spec}/{id}")
}

/// Runs a handler's work (given its own handle on the account, as it may outlive the
/// request): once per idempotency key when there is one (in its own task, so a caller hanging
/// up does not cancel it), under the request deadline either way. With a key, the work's
/// error is logged where it becomes the stored answer, so a replay does not log it again.
pub(crate) async fn run<F, W>(
    account: &Arc<Account>,
    store: &IdempotencyStore,
    idempotent: Option<(IdempotencyKey, Fingerprint)>,
    work: F,
) -> Result<Response, Logged>
where
    F: FnOnce(Arc<Account>) -> W,
    W: Future<Output = Result<Response, ApiError>> + Send + 'static,
{
    // Boxed once here: the Telegram call's future is several KiB, and unboxed it would be
    // copied into each wrapper below and make every route's future (which axum moves into
    // a box of its own) tens of KiB.
    let work = Box::pin(work(account.clone()));
    let Some((key, fingerprint)) = idempotent else {
        return Ok(within_deadline(account, work).await);
    };
    let work = async move { work.await.unwrap_or_else(IntoLogged::into_logged) };
    let limit = account.request_timeout();
    let error = match tokio::time::timeout(limit, store.run(key, fingerprint, work)).await {
        Ok(Claim::Answer { response, replayed }) => return Ok(response.to_response(replayed)),
        Ok(Claim::Conflict) => ApiError::IdempotencyConflict,
        Ok(Claim::Abandoned) => ApiError::Internal {
            message: "the first request with this Idempotency-Key failed without an answer".into(),
            telegram: None,
            upstream: false,
        },
        Err(_) => ApiError::Timeout(format!(
            "the request did not finish within {} s (it goes on: retry with the same Idempotency-Key for its answer)",
            limit.as_secs()
        )),
    };
    Err(error.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_routes_build_without_conflicts() {
        let _: Router<AppState> = routes()
            .merge(crate::api::peers::routes())
            .merge(crate::api::openapi::routes());
    }
}
