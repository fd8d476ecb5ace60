//! Actions on one message: forward it to another chat, pin and unpin it.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use utoipa::ToSchema;

use super::input::{idempotency_of, message_id};
use super::{fresh_random_id, message_path, run};
use crate::api::account::{CurrentAccount, RequestAccount};
use crate::api::json::{ApiJson, ApiPath, json_response};
use crate::api::openapi::{ErrorBody, TelegramErrors};
use crate::api::optional_json::OptionalJson;
use crate::api::peers::{Logged, peer_spec, within_deadline};
use crate::api::schemas::MessageView;
use crate::api::{ApiError, AppState};
use crate::domain::ForwardOptions;
use crate::idempotency::{self, IdempotencyStore};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/messages/{peer}/{id}/forward", post(forward_message))
        .route(
            "/v1/messages/{peer}/{id}/pin",
            post(pin_message).delete(unpin_message),
        )
}

/// `POST /v1/messages/{peer}/{id}/forward` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForwardRequest {
    /// Where to forward to (any peer form).
    pub to: String,
    /// Post it as the account's own message, without "Forwarded from" (default false).
    pub drop_author: Option<bool>,
    /// Without a notification sound (default false).
    pub silent: Option<bool>,
}

/// `POST /v1/messages/{peer}/{id}/pin` body (may be empty).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PinRequest {
    /// Pin without notifying the chat's members (default false).
    pub silent: Option<bool>,
}

/// Forwards a message to another chat.
#[utoipa::path(
    post,
    path = "/v1/messages/{peer}/{id}/forward",
    tag = "messages",
    request_body = ForwardRequest,
    params(
        ("peer" = String, Path, description = "The chat the message is in (any peer form)"),
        ("id" = i32, Path, description = "The message id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer instead of forwarding twice"),
    ),
    responses(
        (status = 201, description = "The new message in the destination chat", body = MessageView),
        (status = 400, description = "Bad input (INVALID_REQUEST)", body = ErrorBody),
        (status = 403, description = "The account may not post there (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Unknown peer or message", body = ErrorBody),
        (status = 409, description = "Idempotency-Key reused with another body (IDEMPOTENCY_KEY_REUSED)", body = ErrorBody),
        (status = 504, description = "Timed out (TIMEOUT)", body = ErrorBody),
        TelegramErrors,
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn forward_message(
    CurrentAccount(account): CurrentAccount,
    State(store): State<Arc<IdempotencyStore>>,
    headers: HeaderMap,
    path: Result<ApiPath<(String, String)>, ApiError>,
    body: Result<ApiJson<ForwardRequest>, ApiError>,
) -> Result<Response, Logged> {
    let ApiPath((peer, id)) = path?;
    let body = body?;
    let from = peer_spec(&account, Some(&peer))?;
    let id = message_id(&id)?;
    let to = peer_spec(&account, Some(&body.value.to))?;
    let options = ForwardOptions {
        drop_author: body.value.drop_author.unwrap_or(false),
        silent: body.value.silent.unwrap_or(false),
    };
    let path = format!("{}/forward", message_path(&from, id));
    let idempotent = idempotency_of(
        account.idempotency_scope(),
        &headers,
        Method::POST,
        &path,
        &body.canonical,
    )?;
    let random_id = match &idempotent {
        Some((key, fingerprint)) => idempotency::random_id(key, fingerprint),
        None => fresh_random_id(),
    };
    run(&account, &store, idempotent, move |account| async move {
        let view = account.forward(&from, id, &to, options, random_id).await?;
        Ok(json_response(StatusCode::CREATED, &MessageView::from(view)))
    })
    .await
}

/// Pins a message in its chat.
#[utoipa::path(
    post,
    path = "/v1/messages/{peer}/{id}/pin",
    tag = "messages",
    request_body(content = Option<PinRequest>, description = "May be empty"),
    params(
        ("peer" = String, Path, description = "The chat (any peer form)"),
        ("id" = i32, Path, description = "The message id"),
    ),
    responses(
        (status = 204, description = "Pinned"),
        (status = 400, description = "Bad input (INVALID_REQUEST)", body = ErrorBody),
        (status = 403, description = "The account may not pin there (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Unknown peer or message", body = ErrorBody),
        (status = 504, description = "Timed out (TIMEOUT)", body = ErrorBody),
        TelegramErrors,
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn pin_message(
    CurrentAccount(account): CurrentAccount,
    path: Result<ApiPath<(String, String)>, ApiError>,
    body: Result<OptionalJson<PinRequest>, ApiError>,
) -> Result<Response, Logged> {
    let OptionalJson(body) = body?;
    set_pinned(account, path?, true, body.silent.unwrap_or(false)).await
}

/// Unpins a message.
#[utoipa::path(
    delete,
    path = "/v1/messages/{peer}/{id}/pin",
    tag = "messages",
    params(
        ("peer" = String, Path, description = "The chat (any peer form)"),
        ("id" = i32, Path, description = "The message id"),
    ),
    responses(
        (status = 204, description = "Unpinned"),
        (status = 400, description = "Bad input (INVALID_REQUEST)", body = ErrorBody),
        (status = 403, description = "The account may not unpin there (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Unknown peer or message", body = ErrorBody),
        (status = 504, description = "Timed out (TIMEOUT)", body = ErrorBody),
        TelegramErrors,
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn unpin_message(
    CurrentAccount(account): CurrentAccount,
    path: Result<ApiPath<(String, String)>, ApiError>,
) -> Result<Response, Logged> {
    set_pinned(account, path?, false, true).await
}

async fn set_pinned(
    account: RequestAccount,
    ApiPath((peer, id)): ApiPath<(String, String)>,
    pinned: bool,
    silent: bool,
) -> Result<Response, Logged> {
    let spec = peer_spec(&account, Some(&peer))?;
    let id = message_id(&id)?;
    let work = async {
        account.set_pinned(&spec, id, pinned, silent).await?;
        Ok(StatusCode::NO_CONTENT.into_response())
    };
    Ok(within_deadline(&account, work).await)
}
