//! The JSON of the chat endpoints: the action callers name (parsed and documented by one
//! type) and the dialog list's answer, built from `domain::chats`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{MessageView, PeerType};
use crate::domain;

/// What the account is doing in a chat, as the other side's client shows it (for about five
/// seconds, or until a message arrives; send it again to keep it showing).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChatAction {
    Typing,
    /// Stops any action shown.
    Cancel,
    RecordVideo,
    UploadVideo,
    RecordVoice,
    UploadVoice,
    UploadPhoto,
    UploadDocument,
    ChooseSticker,
}

/// A chat in the dialog list: `{"id","type","username"?,"title"?}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct ChatPeer {
    /// Bot-API-style id.
    pub id: i64,
    #[serde(rename = "type")]
    pub kind: PeerType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The chat's title, or the user's full name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// One entry of `GET /v1/chats`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct ChatSummary {
    pub peer: ChatPeer,
    /// Incoming messages the account has not read.
    pub unread_count: i32,
    /// The newest message, when Telegram sent it along.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_message: Option<MessageView>,
}

/// One page of the dialog list, most recently active first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct ChatPage {
    pub chats: Vec<ChatSummary>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl From<ChatAction> for domain::ChatAction {
    fn from(action: ChatAction) -> Self {
        match action {
            ChatAction::Typing => Self::Typing,
            ChatAction::Cancel => Self::Cancel,
            ChatAction::RecordVideo => Self::RecordVideo,
            ChatAction::UploadVideo => Self::UploadVideo,
            ChatAction::RecordVoice => Self::RecordVoice,
            ChatAction::UploadVoice => Self::UploadVoice,
            ChatAction::UploadPhoto => Self::UploadPhoto,
            ChatAction::UploadDocument => Self::UploadDocument,
            ChatAction::ChooseSticker => Self::ChooseSticker,
        }
    }
}

impl From<domain::ChatPeer> for ChatPeer {
    fn from(peer: domain::ChatPeer) -> Self {
        Self {
            id: peer.id,
            kind: peer.kind.into(),
            username: peer.username,
            title: peer.title,
        }
    }
}

impl From<domain::ChatSummary> for ChatSummary {
    fn from(chat: domain::ChatSummary) -> Self {
        Self {
            peer: chat.peer.into(),
            unread_count: chat.unread_count,
            last_message: chat.last_message.map(MessageView::from),
        }
    }
}

impl From<domain::ChatPage> for ChatPage {
    fn from(page: domain::ChatPage) -> Self {
        Self {
            chats: page.chats.into_iter().map(ChatSummary::from).collect(),
            next_cursor: page.next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_written_in_snake_case() {
        let parsed: ChatAction = serde_json::from_str("\"upload_photo\"").unwrap();
        assert_eq!(
            domain::ChatAction::from(parsed),
            domain::ChatAction::UploadPhoto
        );
        assert!(serde_json::from_str::<ChatAction>("\"dance\"").is_err());
    }

    #[test]
    fn a_chat_without_username_title_or_message_leaves_them_out() {
        let page = domain::ChatPage {
            chats: vec![domain::ChatSummary {
                peer: domain::ChatPeer {
                    id: 42,
                    kind: domain::PeerType::User,
                    username: None,
                    title: None,
                },
                unread_count: 3,
                last_message: None,
            }],
            next_cursor: None,
        };
        let json = serde_json::to_value(ChatPage::from(page)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "chats": [{"peer": {"id": 42, "type": "user"}, "unread_count": 3}],
                "next_cursor": null
            })
        );
    }
}
