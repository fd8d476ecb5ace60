//! The JSON shapes of answers (and their OpenAPI schemas), built from `domain` types. The
//! domain knows nothing of JSON documentation; what is served is exactly what is documented,
//! since responses are rendered from these types.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain;

pub mod chats;
pub mod media;

pub use chats::{ChatAction, ChatPage, ChatPeer, ChatSummary};
pub use media::{MediaView, SentMedia};

/// The contract's peer `type`: basic groups and supergroups are both `group`; only broadcast
/// channels are `channel`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PeerType {
    User,
    Group,
    Channel,
}

/// How `text` is to be read (requests take it; documented here).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ParseMode {
    /// Sent as written; Telegram itself still links URLs and mentions.
    Plain,
    /// CommonMark (`**bold**`, `*italic*`, `` `code` ``, `[text](url)`, fenced code blocks).
    Markdown,
    /// HTML tags (`<b>`, `<i>`, `<u>`, `<s>`, `<code>`, `<pre>`, `<a href>`, `<blockquote>`…).
    Html,
}

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
    /// The attached photo or document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media: Option<MediaView>,
}

impl From<domain::PeerType> for PeerType {
    fn from(kind: domain::PeerType) -> Self {
        match kind {
            domain::PeerType::User => Self::User,
            domain::PeerType::Group => Self::Group,
            domain::PeerType::Channel => Self::Channel,
        }
    }
}

impl From<domain::PeerView> for PeerView {
    fn from(peer: domain::PeerView) -> Self {
        Self {
            id: peer.id,
            kind: peer.kind.into(),
        }
    }
}

impl From<domain::MessageView> for MessageView {
    fn from(m: domain::MessageView) -> Self {
        Self {
            id: m.id,
            peer: m.peer.into(),
            date: m.date,
            text: m.text,
            edit_date: m.edit_date,
            outgoing: m.outgoing,
            media: m.media.map(MediaView::from),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(edit_date: Option<i64>) -> domain::MessageView {
        let at = |s| DateTime::from_timestamp(s, 0).unwrap();
        domain::MessageView {
            id: 7,
            peer: domain::PeerView {
                id: -1000000000055,
                kind: domain::PeerType::Channel,
            },
            date: at(1_700_000_000),
            text: "hello".into(),
            edit_date: edit_date.map(at),
            outgoing: true,
            media: None,
        }
    }

    #[test]
    fn a_channel_message_serializes_to_the_contract_shape() {
        let json = serde_json::to_value(MessageView::from(message(None))).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "id": 7,
                "peer": {"id": -1000000000055_i64, "type": "channel"},
                "date": "2023-11-14T22:13:20Z",
                "text": "hello",
                "outgoing": true
            })
        );
    }

    #[test]
    fn edit_date_appears_once_edited() {
        let json = serde_json::to_value(MessageView::from(message(Some(1_700_000_060)))).unwrap();
        assert_eq!(json["edit_date"], "2023-11-14T22:14:20Z");
    }

    #[test]
    fn peer_types_use_the_contract_names() {
        for (kind, name) in [
            (domain::PeerType::User, "user"),
            (domain::PeerType::Group, "group"),
            (domain::PeerType::Channel, "channel"),
        ] {
            assert_eq!(serde_json::to_value(PeerType::from(kind)).unwrap(), name);
        }
    }
}
