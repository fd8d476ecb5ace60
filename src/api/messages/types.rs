//! The JSON bodies, queries and answers of the message endpoints (also their OpenAPI schemas).

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::schemas::MessageView;
use crate::domain::{self, ParseMode};

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
    #[schema(value_type = Option<crate::api::schemas::ParseMode>)]
    pub parse_mode: Option<ParseMode>,
    /// Id of the message in the same chat this one replies to.
    #[serde(default, deserialize_with = "crate::api::json::whole::option_i32")]
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
    #[schema(value_type = Option<crate::api::schemas::ParseMode>)]
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
    #[serde(deserialize_with = "crate::api::json::whole::vec_i32")]
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

impl From<domain::HistoryPage> for HistoryPage {
    fn from(page: domain::HistoryPage) -> Self {
        Self {
            messages: page.messages.into_iter().map(MessageView::from).collect(),
            next_before_id: page.next_before_id,
        }
    }
}
