//! Chat actions and the dialog list: what the chat-action operations take and answer (their
//! JSON shapes are `api::schemas::chats`).

use super::message::MessageView;
use super::peer::PeerType;

/// What the account is doing in a chat, as the other side's client shows it (for about five
/// seconds, or until a message arrives; send it again to keep it showing).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ChatAction {
    #[default]
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

/// How a forward is made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ForwardOptions {
    /// Post it as the account's own message, without "Forwarded from".
    pub drop_author: bool,
    pub silent: bool,
}

/// A chat in the dialog list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatPeer {
    /// Bot-API-style id.
    pub id: i64,
    pub kind: PeerType,
    pub username: Option<String>,
    /// The chat's title, or the user's full name.
    pub title: Option<String>,
}

/// One entry of the dialog list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatSummary {
    pub peer: ChatPeer,
    /// Incoming messages the account has not read.
    pub unread_count: i32,
    /// The newest message, when Telegram sent it along.
    pub last_message: Option<MessageView>,
}

/// One page of the dialog list, most recently active first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatPage {
    pub chats: Vec<ChatSummary>,
    /// Where the next page starts (an encoded [`DialogCursor`]); `None` on the last page.
    pub next_cursor: Option<String>,
}

/// Where the next dialog page starts: Telegram's offset triple (the last dialog's top
/// message date and id, and its peer), written as one opaque `date_id_peer` string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DialogCursor {
    pub date: i32,
    pub message_id: i32,
    /// Bot-API id of the last dialog's peer.
    pub peer: i64,
}

impl DialogCursor {
    pub fn encode(&self) -> String {
        format!("{}_{}_{}", self.date, self.message_id, self.peer)
    }

    /// Reads a cursor this API handed out; the error is a sentence for the caller.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let bad = || format!("`cursor` {raw:?} is not one this API handed out");
        let mut parts = raw.split('_');
        let mut next = || {
            parts
                .next()
                .and_then(|p| p.parse::<i64>().ok())
                .ok_or_else(bad)
        };
        let (date, message_id, peer) = (next()?, next()?, next()?);
        if parts.next().is_some() || date <= 0 || message_id < 0 {
            return Err(bad());
        }
        Ok(Self {
            date: i32::try_from(date).map_err(|_| bad())?,
            message_id: i32::try_from(message_id).map_err(|_| bad())?,
            peer,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_including_negative_peer_ids() {
        let cursor = DialogCursor {
            date: 1_800_000_000,
            message_id: 42,
            peer: -1_001_500_000_001,
        };
        assert_eq!(DialogCursor::parse(&cursor.encode()), Ok(cursor));
    }

    #[test]
    fn malformed_cursors_are_refused() {
        for raw in [
            "",
            "1_2",
            "1_2_3_4",
            "a_b_c",
            "0_1_2",
            "1_-1_2",
            "99999999999_1_1",
        ] {
            assert!(DialogCursor::parse(raw).is_err(), "{raw:?}");
        }
    }

    #[test]
    fn the_default_action_is_typing() {
        assert_eq!(ChatAction::default(), ChatAction::Typing);
    }
}
