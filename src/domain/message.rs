//! A message and the chat it belongs to, as mtgate knows them (built from Telegram's raw
//! objects in one place, `telegram::ops::convert`, so every endpoint shows them the same way).

use chrono::{DateTime, Utc};

use super::peer::PeerType;

/// A chat as messages refer to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerView {
    /// Bot-API-style id: `123` user, `-123` group, `-100…` channel or supergroup.
    pub id: i64,
    pub kind: PeerType,
}

/// A text message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageView {
    /// The message id, unique within its chat (for users and basic groups: within the account).
    pub id: i32,
    pub peer: PeerView,
    /// When it was sent.
    pub date: DateTime<Utc>,
    /// The text as Telegram stores it (markup already applied).
    pub text: String,
    /// When it was last edited, if ever.
    pub edit_date: Option<DateTime<Utc>>,
    /// Sent by the logged-in account.
    pub outgoing: bool,
    /// The attached photo or document, if any.
    pub media: Option<super::media::MediaInfo>,
}
