//! Telegram's raw messages and peers read into mtgate's domain types, in one place so every
//! operation shows them the same way.

use chrono::{DateTime, Utc};
use grammers_session::types::PeerId;
use grammers_tl_types as tl;

use crate::domain::{MessageView, PeerType, PeerView};

/// A Unix time from Telegram as UTC (0 when out of range, which Telegram never sends).
pub fn timestamp(seconds: i32) -> DateTime<Utc> {
    DateTime::from_timestamp(i64::from(seconds), 0).unwrap_or_default()
}

/// The Bot-API id of a raw peer, or `None` if Telegram sent one outside the valid ranges.
pub fn peer_id(peer: &tl::enums::Peer) -> Option<PeerId> {
    match peer {
        tl::enums::Peer::User(u) => PeerId::user(u.user_id),
        tl::enums::Peer::Chat(c) => PeerId::chat(c.chat_id),
        tl::enums::Peer::Channel(c) => PeerId::channel(c.channel_id),
    }
}

/// The view of a raw message, with `kind` the type of the chat it belongs to (which a raw
/// `peer_id` cannot tell for supergroups). `None` for empty and service messages, which have
/// no text to show.
pub fn message_view(message: &tl::enums::Message, kind: PeerType) -> Option<MessageView> {
    let tl::enums::Message::Message(m) = message else {
        return None;
    };
    let id = peer_id(&m.peer_id)?.bot_api_dialog_id()?;
    Some(MessageView {
        id: m.id,
        peer: PeerView { id, kind },
        date: timestamp(m.date),
        text: m.message.clone(),
        edit_date: m.edit_date.map(timestamp),
        outgoing: m.out,
        media: super::media_info::media_info(m.media.as_ref()),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A raw text message as Telegram would send it (shared with other unit tests).
    pub(crate) fn raw_message(id: i32, peer: tl::enums::Peer, text: &str) -> tl::enums::Message {
        tl::types::Message {
            out: true,
            mentioned: false,
            media_unread: false,
            silent: false,
            post: false,
            from_scheduled: false,
            legacy: false,
            edit_hide: false,
            pinned: false,
            noforwards: false,
            invert_media: false,
            offline: false,
            video_processing_pending: false,
            paid_suggested_post_stars: false,
            paid_suggested_post_ton: false,
            id,
            from_id: None,
            from_boosts_applied: None,
            from_rank: None,
            peer_id: peer,
            saved_peer_id: None,
            fwd_from: None,
            via_bot_id: None,
            via_business_bot_id: None,
            guestchat_via_from: None,
            reply_to: None,
            date: 1_700_000_000,
            message: text.into(),
            media: None,
            reply_markup: None,
            entities: None,
            views: None,
            forwards: None,
            replies: None,
            edit_date: None,
            post_author: None,
            grouped_id: None,
            reactions: None,
            restriction_reason: None,
            ttl_period: None,
            quick_reply_shortcut_id: None,
            effect: None,
            factcheck: None,
            report_delivery_until_date: None,
            paid_message_stars: None,
            suggested_post: None,
            schedule_repeat_period: None,
            summary_from_language: None,
            rich_message: None,
        }
        .into()
    }

    #[test]
    fn a_channel_message_reads_into_its_view() {
        let raw = raw_message(7, tl::types::PeerChannel { channel_id: 55 }.into(), "hello");
        let view = message_view(&raw, PeerType::Channel).unwrap();
        assert_eq!(view.id, 7);
        assert_eq!(
            view.peer,
            PeerView {
                id: -1000000000055,
                kind: PeerType::Channel
            }
        );
        assert_eq!(view.date, timestamp(1_700_000_000));
        assert_eq!(view.text, "hello");
        assert_eq!(view.edit_date, None);
        assert!(view.outgoing);
    }

    #[test]
    fn edit_date_is_read_once_edited() {
        let mut raw = raw_message(1, tl::types::PeerUser { user_id: 9 }.into(), "x");
        if let tl::enums::Message::Message(m) = &mut raw {
            m.edit_date = Some(1_700_000_060);
        }
        let view = message_view(&raw, PeerType::User).unwrap();
        assert_eq!(view.edit_date, Some(timestamp(1_700_000_060)));
        assert_eq!(view.peer.id, 9);
    }

    #[test]
    fn basic_group_ids_are_negative() {
        let raw = raw_message(1, tl::types::PeerChat { chat_id: 12 }.into(), "x");
        let view = message_view(&raw, PeerType::Group).unwrap();
        assert_eq!(view.peer.id, -12);
    }

    #[test]
    fn empty_messages_have_no_view() {
        let raw = tl::enums::Message::Empty(tl::types::MessageEmpty {
            id: 3,
            peer_id: None,
        });
        assert!(message_view(&raw, PeerType::User).is_none());
    }
}
