//! Reading Telegram's answers: the message a send or edit produced (found inside an
//! `Updates`), a history page, and the users and chats any answer carries (for the peer
//! cache). Pure functions, so every shape Telegram may answer with is unit-tested.

use grammers_tl_types as tl;

use super::convert::{message_view, peer_id, timestamp};
use crate::domain::{MessageView, PeerType, PeerView};

/// The chat a request was about, as answers should refer to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    /// Bot-API id.
    pub id: i64,
    pub kind: PeerType,
}

impl Target {
    fn view(&self) -> PeerView {
        PeerView {
            id: self.id,
            kind: self.kind,
        }
    }

    /// Whether a raw message belongs to this chat.
    fn owns(&self, message: &tl::enums::Message) -> bool {
        let peer = match message {
            tl::enums::Message::Message(m) => Some(&m.peer_id),
            tl::enums::Message::Service(m) => Some(&m.peer_id),
            tl::enums::Message::Empty(m) => m.peer_id.as_ref(),
        };
        peer.and_then(peer_id).and_then(|p| p.bot_api_dialog_id()) == Some(self.id)
    }
}

/// The users and chats an `Updates` mentions.
pub fn updates_peers(updates: &tl::enums::Updates) -> (&[tl::enums::User], &[tl::enums::Chat]) {
    match updates {
        tl::enums::Updates::Updates(u) => (&u.users, &u.chats),
        tl::enums::Updates::Combined(u) => (&u.users, &u.chats),
        _ => (&[], &[]),
    }
}

fn update_list(updates: &tl::enums::Updates) -> Vec<&tl::enums::Update> {
    match updates {
        tl::enums::Updates::Updates(u) => u.updates.iter().collect(),
        tl::enums::Updates::Combined(u) => u.updates.iter().collect(),
        tl::enums::Updates::UpdateShort(u) => vec![&u.update],
        _ => Vec::new(),
    }
}

/// The message a `messages.sendMessage` created. `sent_text` is what was sent: the short
/// answer Telegram gives for private chats does not repeat it.
pub fn sent_message(
    updates: &tl::enums::Updates,
    random_id: i64,
    target: Target,
    sent_text: &str,
) -> Option<MessageView> {
    if let tl::enums::Updates::UpdateShortSentMessage(short) = updates {
        return Some(MessageView {
            id: short.id,
            peer: target.view(),
            date: timestamp(short.date),
            text: sent_text.to_owned(),
            edit_date: None,
            outgoing: short.out,
            media: super::media_info::media_info(short.media.as_ref()),
        });
    }
    let list = update_list(updates);
    let new_id = list.iter().find_map(|u| match u {
        tl::enums::Update::MessageId(m) if m.random_id == random_id => Some(m.id),
        _ => None,
    });
    let created: Vec<&tl::enums::Message> = list
        .iter()
        .filter_map(|u| match u {
            tl::enums::Update::NewMessage(m) => Some(&m.message),
            tl::enums::Update::NewChannelMessage(m) => Some(&m.message),
            _ => None,
        })
        .filter(|m| target.owns(m))
        .collect();
    let found = match new_id {
        Some(id) => created.into_iter().find(|m| m.id() == id),
        // Without updateMessageID, one new message in the chat can only be ours.
        None if created.len() == 1 => created.into_iter().next(),
        None => None,
    }?;
    message_view(found, target.kind)
}

/// The message a `messages.editMessage` changed.
pub fn edited_message(
    updates: &tl::enums::Updates,
    message_id: i32,
    target: Target,
) -> Option<MessageView> {
    update_list(updates)
        .into_iter()
        .filter_map(|u| match u {
            tl::enums::Update::EditMessage(m) => Some(&m.message),
            tl::enums::Update::EditChannelMessage(m) => Some(&m.message),
            _ => None,
        })
        .find(|m| m.id() == message_id && target.owns(m))
        .and_then(|m| message_view(m, target.kind))
}

/// One `messages.Messages` answer, flattened.
pub struct MessagesPage<'a> {
    pub messages: &'a [tl::enums::Message],
    pub users: &'a [tl::enums::User],
    pub chats: &'a [tl::enums::Chat],
    /// How many messages precede the first one, when Telegram says (slices only).
    offset_id_offset: Option<i32>,
    /// Total count, when this answer is only a slice of it.
    count: Option<i32>,
}

impl<'a> MessagesPage<'a> {
    pub fn of(answer: &'a tl::enums::messages::Messages) -> Self {
        use tl::enums::messages::Messages as M;
        match answer {
            M::Messages(m) => Self {
                messages: &m.messages,
                users: &m.users,
                chats: &m.chats,
                offset_id_offset: None,
                count: None,
            },
            M::Slice(m) => Self {
                messages: &m.messages,
                users: &m.users,
                chats: &m.chats,
                offset_id_offset: m.offset_id_offset,
                count: Some(m.count),
            },
            M::ChannelMessages(m) => Self {
                messages: &m.messages,
                users: &m.users,
                chats: &m.chats,
                offset_id_offset: m.offset_id_offset,
                count: Some(m.count),
            },
            M::NotModified(_) => Self {
                messages: &[],
                users: &[],
                chats: &[],
                offset_id_offset: None,
                count: None,
            },
        }
    }

    /// Text messages of `target`, newest first (service and empty messages have no text and
    /// are left out; they still count for paging).
    pub fn views(&self, target: Target) -> Vec<MessageView> {
        let mut views: Vec<_> = self
            .messages
            .iter()
            .filter(|m| target.owns(m))
            .filter_map(|m| message_view(m, target.kind))
            .collect();
        views.sort_by_key(|m| std::cmp::Reverse(m.id));
        views
    }

    /// Ids of the messages (text or service) that belong to `target`.
    pub fn owned_ids(&self, target: Target) -> Vec<i32> {
        self.messages
            .iter()
            .filter(|m| !matches!(m, tl::enums::Message::Empty(_)) && target.owns(m))
            .map(|m| m.id())
            .collect()
    }

    /// The `before_id` of the next page, or `None` when this page reached the oldest message.
    /// A full page may have more behind it; a short one has more only if Telegram says so
    /// (`offset_id_offset` + length < `count`), since it may return fewer than asked.
    pub fn next_before_id(&self, limit: usize) -> Option<i32> {
        let oldest = self.messages.iter().map(|m| m.id()).min()?;
        let returned = self.messages.len() as i64;
        let said_more = match (self.offset_id_offset, self.count) {
            (Some(before), Some(count)) => i64::from(before) + returned < i64::from(count),
            _ => false,
        };
        let more = self.messages.len() >= limit || said_more;
        (more && oldest > 1).then_some(oldest)
    }
}

/// How many messages an `affectedMessages` answer says were deleted.
pub fn deleted_count(affected: &tl::enums::messages::AffectedMessages) -> usize {
    let tl::enums::messages::AffectedMessages::Messages(a) = affected;
    usize::try_from(a.pts_count).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::super::convert::tests::raw_message;
    use super::*;

    const CHANNEL: Target = Target {
        id: -1000000000055,
        kind: PeerType::Channel,
    };
    const USER: Target = Target {
        id: 9,
        kind: PeerType::User,
    };

    fn in_channel(id: i32, text: &str) -> tl::enums::Message {
        raw_message(id, tl::types::PeerChannel { channel_id: 55 }.into(), text)
    }

    fn updates(list: Vec<tl::enums::Update>) -> tl::enums::Updates {
        tl::types::Updates {
            updates: list,
            users: vec![],
            chats: vec![],
            date: 0,
            seq: 0,
        }
        .into()
    }

    fn new_channel_message(message: tl::enums::Message) -> tl::enums::Update {
        tl::types::UpdateNewChannelMessage {
            message,
            pts: 1,
            pts_count: 1,
        }
        .into()
    }

    #[test]
    fn a_short_sent_message_becomes_a_view_with_the_sent_text() {
        let answer = tl::types::UpdateShortSentMessage {
            out: true,
            id: 31,
            pts: 5,
            pts_count: 1,
            date: 1_700_000_000,
            media: None,
            entities: None,
            ttl_period: None,
        }
        .into();
        let view = sent_message(&answer, 1, USER, "bold").unwrap();
        assert_eq!(view.id, 31);
        assert_eq!(view.peer.id, 9);
        assert_eq!(view.text, "bold");
        assert!(view.outgoing);
    }

    #[test]
    fn a_channel_send_is_found_by_its_random_id() {
        let answer = updates(vec![
            new_channel_message(in_channel(40, "someone else's")),
            tl::types::UpdateMessageId {
                id: 41,
                random_id: 777,
            }
            .into(),
            new_channel_message(in_channel(41, "mine")),
        ]);
        let view = sent_message(&answer, 777, CHANNEL, "mine").unwrap();
        assert_eq!(view.id, 41);
        assert_eq!(view.text, "mine");
        assert_eq!(view.peer.id, -1000000000055);
        assert!(sent_message(&answer, 778, CHANNEL, "mine").is_none());
    }

    #[test]
    fn an_edit_is_found_by_message_id_and_chat() {
        let answer = updates(vec![
            tl::types::UpdateEditChannelMessage {
                message: in_channel(7, "new text"),
                pts: 2,
                pts_count: 1,
            }
            .into(),
        ]);
        assert_eq!(
            edited_message(&answer, 7, CHANNEL).map(|m| m.text),
            Some("new text".into())
        );
        assert!(edited_message(&answer, 8, CHANNEL).is_none());
        assert!(edited_message(&answer, 7, USER).is_none());
    }

    fn slice(ids: &[i32], count: i32, offset: Option<i32>) -> tl::enums::messages::Messages {
        tl::types::messages::ChannelMessages {
            inexact: false,
            pts: 0,
            count,
            offset_id_offset: offset,
            messages: ids.iter().map(|&id| in_channel(id, "t")).collect(),
            topics: vec![],
            chats: vec![],
            users: vec![],
        }
        .into()
    }

    #[test]
    fn a_full_page_pages_on_from_its_oldest_message() {
        let answer = slice(&[250, 249, 248], 250, None);
        let page = MessagesPage::of(&answer);
        assert_eq!(page.next_before_id(3), Some(248));
        assert_eq!(
            page.views(CHANNEL).iter().map(|m| m.id).collect::<Vec<_>>(),
            [250, 249, 248]
        );
    }

    #[test]
    fn a_short_page_ends_unless_telegram_says_more_remain() {
        let answer = slice(&[3, 2], 250, None);
        assert_eq!(MessagesPage::of(&answer).next_before_id(5), None);
        let answer = slice(&[3, 2], 250, Some(100));
        assert_eq!(MessagesPage::of(&answer).next_before_id(5), Some(2));
        let answer = slice(&[], 250, None);
        assert_eq!(MessagesPage::of(&answer).next_before_id(5), None);
        let answer = slice(&[2, 1], 2, None);
        assert_eq!(MessagesPage::of(&answer).next_before_id(2), None);
    }

    #[test]
    fn affected_messages_count_is_the_deleted_count() {
        let affected = tl::types::messages::AffectedMessages {
            pts: 10,
            pts_count: 3,
        }
        .into();
        assert_eq!(deleted_count(&affected), 3);
    }
}
