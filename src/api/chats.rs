//! The `/v1/chats` endpoints: the dialog list with unread counts, marking a chat read, and
//! chat actions ("typing…").

use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::account::CurrentAccount;
use super::json::{ApiPath, ApiQuery, json_response};
use super::openapi::{ErrorBody, TelegramErrors};
use super::optional_json::OptionalJson;
use super::peers::{Logged, peer_spec, within_deadline};
use super::schemas::{ChatAction, ChatPage};
use super::{ApiError, AppState};
use crate::domain::{self, DialogCursor};

/// Chats one page lists when `limit` is not given, and at most.
pub const DEFAULT_CHATS: usize = 20;
pub const MAX_CHATS: usize = 100;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/chats", get(list_chats))
        .route("/v1/chats/{peer}/read", post(mark_read))
        .route("/v1/chats/{peer}/typing", post(send_action))
}

/// `GET /v1/chats` query.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChatsQuery {
    /// 1 to 100 chats (default 20).
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// `POST /v1/chats/{peer}/read` body (may be empty).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadRequest {
    /// Read up to and including this message id (default: everything).
    #[serde(default, deserialize_with = "crate::api::json::whole::option_i32")]
    pub max_id: Option<i32>,
}

/// `POST /v1/chats/{peer}/typing` body (may be empty).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionRequest {
    /// What to show (default `typing`). Telegram shows it for about five seconds.
    pub action: Option<ChatAction>,
    /// Keep showing it for this many seconds (1–300): mtgate sends it again every 4 s until
    /// then. A later action for the chat, or `cancel`, replaces it.
    #[serde(default, deserialize_with = "crate::api::json::whole::option_i32")]
    pub duration: Option<i32>,
}

/// The account's chats, most recently active first, with unread counts.
#[utoipa::path(
    get,
    path = "/v1/chats",
    tag = "chats",
    params(ChatsQuery),
    responses(
        (status = 200, description = "One page of chats", body = ChatPage),
        (status = 400, description = "Bad limit or cursor (INVALID_REQUEST)", body = ErrorBody),
        (status = 504, description = "Timed out (TIMEOUT)", body = ErrorBody),
        TelegramErrors,
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn list_chats(
    CurrentAccount(account): CurrentAccount,
    query: Result<ApiQuery<ChatsQuery>, ApiError>,
) -> Result<Response, Logged> {
    let ApiQuery(query) = query?;
    let limit = query.limit.unwrap_or(DEFAULT_CHATS);
    if !(1..=MAX_CHATS).contains(&limit) {
        return Err(ApiError::invalid(format!("`limit` must be 1 to {MAX_CHATS}")).into());
    }
    let cursor = query
        .cursor
        .as_deref()
        .map(DialogCursor::parse)
        .transpose()
        .map_err(ApiError::invalid)?;
    let work = async {
        let mut page = account.chats(limit, cursor).await?;
        // A key limited to some chats sees only those.
        page.chats
            .retain(|chat| account.may_list(chat.peer.id, chat.peer.username.as_deref()));
        Ok(json_response(StatusCode::OK, &ChatPage::from(page)))
    };
    Ok(within_deadline(&account, work).await)
}

/// Marks a chat read (up to `max_id`, or everything).
#[utoipa::path(
    post,
    path = "/v1/chats/{peer}/read",
    tag = "chats",
    request_body(content = Option<ReadRequest>, description = "May be empty"),
    params(("peer" = String, Path, description = "The chat (any peer form)")),
    responses(
        (status = 204, description = "Read"),
        (status = 400, description = "Bad input (INVALID_REQUEST)", body = ErrorBody),
        (status = 404, description = "Unknown peer (PEER_NOT_FOUND)", body = ErrorBody),
        (status = 504, description = "Timed out (TIMEOUT)", body = ErrorBody),
        TelegramErrors,
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn mark_read(
    CurrentAccount(account): CurrentAccount,
    path: Result<ApiPath<String>, ApiError>,
    body: Result<OptionalJson<ReadRequest>, ApiError>,
) -> Result<Response, Logged> {
    let ApiPath(peer) = path?;
    let OptionalJson(body) = body?;
    let spec = peer_spec(&account, Some(&peer))?;
    if body.max_id.is_some_and(|id| id <= 0) {
        return Err(ApiError::invalid("`max_id` must be a positive message id").into());
    }
    let work = async {
        account.mark_read(&spec, body.max_id).await?;
        Ok(StatusCode::NO_CONTENT.into_response())
    };
    Ok(within_deadline(&account, work).await)
}

/// Shows a chat action ("typing…") to the chat.
#[utoipa::path(
    post,
    path = "/v1/chats/{peer}/typing",
    tag = "chats",
    request_body(content = Option<ActionRequest>, description = "May be empty"),
    params(("peer" = String, Path, description = "The chat (any peer form)")),
    responses(
        (status = 204, description = "Shown"),
        (status = 400, description = "Bad input (INVALID_REQUEST)", body = ErrorBody),
        (status = 403, description = "The account may not write there (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Unknown peer (PEER_NOT_FOUND)", body = ErrorBody),
        (status = 504, description = "Timed out (TIMEOUT)", body = ErrorBody),
        TelegramErrors,
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn send_action(
    CurrentAccount(account): CurrentAccount,
    path: Result<ApiPath<String>, ApiError>,
    body: Result<OptionalJson<ActionRequest>, ApiError>,
) -> Result<Response, Logged> {
    let ApiPath(peer) = path?;
    let OptionalJson(body) = body?;
    let spec = peer_spec(&account, Some(&peer))?;
    let action = body
        .action
        .map_or_else(domain::ChatAction::default, Into::into);
    let duration = action_duration(body.duration)?;
    let work = async {
        account.send_action(&spec, action, duration).await?;
        Ok(StatusCode::NO_CONTENT.into_response())
    };
    Ok(within_deadline(&account, work).await)
}

/// The `duration` of a chat action, checked: whole seconds from 1 to the account's maximum.
fn action_duration(seconds: Option<i32>) -> Result<Option<Duration>, ApiError> {
    let Some(seconds) = seconds else {
        return Ok(None);
    };
    let max = crate::accounts::MAX_ACTION_DURATION.as_secs();
    match u64::try_from(seconds) {
        Ok(s) if (1..=max).contains(&s) => Ok(Some(Duration::from_secs(s))),
        _ => Err(ApiError::invalid(format!(
            "`duration` must be from 1 to {max} seconds, not {seconds}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_duration_means_show_it_once() {
        assert_eq!(action_duration(None).unwrap(), None);
    }

    #[test]
    fn a_duration_is_whole_seconds_from_one_to_the_maximum() {
        assert_eq!(
            action_duration(Some(1)).unwrap(),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            action_duration(Some(300)).unwrap(),
            Some(Duration::from_secs(300))
        );
        for bad in [0, -5, 301, i32::MAX] {
            let error = action_duration(Some(bad)).unwrap_err();
            assert!(
                error.to_string().contains(&bad.to_string()),
                "{bad}: {error}"
            );
        }
    }
}
