//! The dialog list: one `messages.getDialogs` page read into [`ChatPage`], with Telegram's
//! offset triple as the cursor.

use grammers_tl_types as tl;

use super::TelegramAccount;
use super::convert::{message_view, peer_id};
use crate::domain::{ChatPage, ChatPeer, ChatSummary, DialogCursor, PeerId, PeerType};
use crate::telegram::TelegramError;

/// One `messages.Dialogs` answer, flattened.
pub(super) struct DialogsAnswer<'a> {
    dialogs: &'a [tl::enums::Dialog],
    messages: &'a [tl::enums::Message],
    pub(super) users: &'a [tl::enums::User],
    pub(super) chats: &'a [tl::enums::Chat],
    /// Whether Telegram said this is only a slice of the list.
    partial: bool,
}

impl<'a> DialogsAnswer<'a> {
    pub(super) fn of(answer: &'a tl::enums::messages::Dialogs) -> Self {
        use tl::enums::messages::Dialogs as D;
        match answer {
            D::Dialogs(d) => Self {
                dialogs: &d.dialogs,
                messages: &d.messages,
                users: &d.users,
                chats: &d.chats,
                partial: false,
            },
            D::Slice(d) => Self {
                dialogs: &d.dialogs,
                messages: &d.messages,
                users: &d.users,
                chats: &d.chats,
                partial: true,
            },
            D::NotModified(_) => Self {
                dialogs: &[],
                messages: &[],
                users: &[],
                chats: &[],
                partial: false,
            },
        }
    }

    /// The top message of the chat `peer` (Bot-API id) with message id `id`.
    fn top_message(&self, peer: i64, id: i32) -> Option<&'a tl::enums::Message> {
        self.messages.iter().find(|m| {
            let tl::enums::Message::Message(m) = m else {
                return false;
            };
            m.id == id && peer_id(&m.peer_id).and_then(|p| p.bot_api_dialog_id()) == Some(peer)
        })
    }
}

impl TelegramAccount {
    /// Up to `limit` chats, most recently active first, starting after `cursor`.
    pub async fn chats(
        &self,
        limit: usize,
        cursor: Option<DialogCursor>,
    ) -> Result<ChatPage, TelegramError> {
        let offset_peer = cursor
            .and_then(|c| self.peers.cached_by_id(c.peer))
            .map_or(tl::enums::InputPeer::Empty, |p| p.input_peer());
        let request = tl::functions::messages::GetDialogs {
            exclude_pinned: false,
            folder_id: None,
            offset_date: cursor.map_or(0, |c| c.date),
            offset_id: cursor.map_or(0, |c| c.message_id),
            offset_peer,
            limit: i32::try_from(limit).unwrap_or(100),
            hash: 0,
        };
        let answer = self.call(request).await?;
        let answer = DialogsAnswer::of(&answer);
        let mut chats = Vec::with_capacity(answer.dialogs.len());
        let mut last = None;
        for dialog in answer.dialogs {
            let tl::enums::Dialog::Dialog(dialog) = dialog else {
                continue;
            };
            let Some(id) = peer_id(&dialog.peer).and_then(|p| p.bot_api_dialog_id()) else {
                continue;
            };
            let peer = self.chat_peer(id);
            let top = answer.top_message(id, dialog.top_message);
            last = top.map(|m| DialogCursor {
                date: message_date(m),
                message_id: dialog.top_message,
                peer: id,
            });
            chats.push(ChatSummary {
                last_message: top.and_then(|m| message_view(m, peer.kind)),
                unread_count: dialog.unread_count,
                peer,
            });
        }
        let more = answer.partial && chats.len() >= limit;
        Ok(ChatPage {
            chats,
            next_cursor: last.filter(|_| more).map(|c| c.encode()),
        })
    }

    /// A dialog's peer as the list shows it: from the cache (just filled from the answer).
    fn chat_peer(&self, id: i64) -> ChatPeer {
        match self.peers.cached_by_id(id) {
            Some(known) => ChatPeer {
                id,
                kind: known.kind,
                username: known.username().map(str::to_owned),
                title: known.title.clone(),
            },
            None => ChatPeer {
                id,
                kind: PeerId::from_bot_api_dialog_id(id).map_or(PeerType::User, PeerType::from_id),
                username: None,
                title: None,
            },
        }
    }
}

fn message_date(message: &tl::enums::Message) -> i32 {
    match message {
        tl::enums::Message::Message(m) => m.date,
        tl::enums::Message::Service(m) => m.date,
        tl::enums::Message::Empty(_) => 0,
    }
}
