//! A message and the chat it belongs to, as mtgate shows them (built from Telegram's raw
//! objects in one place, `telegram::ops::convert`, so every endpoint shows them the same way).

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::peer::PeerType;

/// A chat as messages refer to it: `{"id", "type"}`, the id in Bot-API form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct PeerView {
    /// Bot-API-style id: `123` user, `-123` group, `-100…` channel or supergroup.
    #[schema(example = -1001234567890_i64)]
    pub id: i64,
    #[serde(rename = "type")]
    pub kind: PeerType,
}

/// A message as the API shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct MessageView {
    /// The message id, unique within its chat (for users and basic groups: within the account).
    pub id: i32,
    pub peer: PeerView,
    /// When it was sent (RFC 3339, UTC).
    pub date: DateTime<Utc>,
    /// The text as Telegram stores it (markup already applied, so without `**` or tags).
    pub text: String,
    /// When it was last edited, if ever.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edit_date: Option<DateTime<Utc>>,
    /// Sent by the logged-in account.
    pub outgoing: bool,
}
