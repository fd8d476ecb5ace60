//! Telegram updates read into domain events, and the update state each one leaves behind
//! (what the store saves together with the events). Pure functions: the pump
//! (`updates_pump`) feeds them what grammers' message box hands out, gaps already filled.

use grammers_session::updates::{MessageBox, State};
use grammers_tl_types as tl;

use super::ops::convert::{peer_id, timestamp};
use crate::domain::{
    DeletedEvent, EventChat, EventEntity, EventSender, EventType, MessageEvent, NewEvent, PeerType,
};
use crate::store::UpdateChange;

/// The event `update` means, if any (`chats`: the chats sent with it, which tell a
/// supergroup from a broadcast channel; `self_id`: the account's user id, for outgoing
/// private messages that name no sender).
pub fn event_of(
    update: &tl::enums::Update,
    chats: &[tl::enums::Chat],
    self_id: Option<i64>,
) -> Option<NewEvent> {
    use tl::enums::Update as U;
    match update {
        U::NewMessage(u) => message(&u.message, chats, self_id).map(|m| NewEvent::message_new(&m)),
        U::NewChannelMessage(u) => {
            message(&u.message, chats, self_id).map(|m| NewEvent::message_new(&m))
        }
        U::EditMessage(u) => {
            message(&u.message, chats, self_id).map(|m| NewEvent::message_edited(&m))
        }
        U::EditChannelMessage(u) => {
            message(&u.message, chats, self_id).map(|m| NewEvent::message_edited(&m))
        }
        U::DeleteMessages(u) => Some(NewEvent::message_deleted(&DeletedEvent {
            chat: None,
            ids: u.messages.clone(),
        })),
        U::DeleteChannelMessages(u) => {
            let peer = tl::types::PeerChannel {
                channel_id: u.channel_id,
            };
            let id = peer_id(&peer.into())?.bot_api_dialog_id()?;
            Some(NewEvent::message_deleted(&DeletedEvent {
                chat: Some(EventChat {
                    id,
                    kind: channel_kind(u.channel_id, chats),
                }),
                ids: u.messages.clone(),
            }))
        }
        _ => None,
    }
}

/// A broadcast channel or a supergroup, as the chats sent along say (channel if unknown).
fn channel_kind(channel_id: i64, chats: &[tl::enums::Chat]) -> PeerType {
    let megagroup = chats.iter().any(|chat| match chat {
        tl::enums::Chat::Channel(c) => c.id == channel_id && c.megagroup,
        tl::enums::Chat::ChannelForbidden(c) => c.id == channel_id && c.megagroup,
        _ => false,
    });
    if megagroup {
        PeerType::Group
    } else {
        PeerType::Channel
    }
}

fn kind_of(peer: &tl::enums::Peer, chats: &[tl::enums::Chat]) -> PeerType {
    match peer {
        tl::enums::Peer::User(_) => PeerType::User,
        tl::enums::Peer::Chat(_) => PeerType::Group,
        tl::enums::Peer::Channel(c) => channel_kind(c.channel_id, chats),
    }
}

fn message(
    message: &tl::enums::Message,
    chats: &[tl::enums::Chat],
    self_id: Option<i64>,
) -> Option<MessageEvent> {
    let tl::enums::Message::Message(m) = message else {
        return None;
    };
    let chat = EventChat {
        id: peer_id(&m.peer_id)?.bot_api_dialog_id()?,
        kind: kind_of(&m.peer_id, chats),
    };
    // Telegram leaves `from_id` out in private chats: the peer wrote it, or the account did.
    let sender = match (&m.from_id, chat.kind) {
        (Some(from), _) => peer_id(from)
            .and_then(|id| id.bot_api_dialog_id())
            .map(|id| EventSender {
                id,
                kind: kind_of(from, chats),
            }),
        (None, PeerType::User) if !m.out => Some(EventSender {
            id: chat.id,
            kind: PeerType::User,
        }),
        (None, PeerType::User) => self_id.map(|id| EventSender {
            id,
            kind: PeerType::User,
        }),
        (None, _) => None,
    };
    let reply_to = match &m.reply_to {
        Some(tl::enums::MessageReplyHeader::Header(h)) => h.reply_to_msg_id,
        _ => None,
    };
    Some(MessageEvent {
        id: m.id,
        chat,
        sender,
        outgoing: m.out,
        text: m.message.clone(),
        entities: m.entities.iter().flatten().filter_map(entity).collect(),
        reply_to,
        date: timestamp(m.date),
        edit_date: m.edit_date.map(timestamp),
    })
}

/// An entity under its Bot API name; `None` for kinds apps have no use for.
fn entity(entity: &tl::enums::MessageEntity) -> Option<EventEntity> {
    use tl::enums::MessageEntity as E;
    let plain = |kind: &str, offset: i32, length: i32| EventEntity {
        kind: kind.to_string(),
        offset,
        length,
        url: None,
        user_id: None,
        language: None,
    };
    Some(match entity {
        E::Bold(e) => plain("bold", e.offset, e.length),
        E::Italic(e) => plain("italic", e.offset, e.length),
        E::Underline(e) => plain("underline", e.offset, e.length),
        E::Strike(e) => plain("strikethrough", e.offset, e.length),
        E::Spoiler(e) => plain("spoiler", e.offset, e.length),
        E::Code(e) => plain("code", e.offset, e.length),
        E::Blockquote(e) => plain("blockquote", e.offset, e.length),
        E::Mention(e) => plain("mention", e.offset, e.length),
        E::Hashtag(e) => plain("hashtag", e.offset, e.length),
        E::Cashtag(e) => plain("cashtag", e.offset, e.length),
        E::BotCommand(e) => plain("bot_command", e.offset, e.length),
        E::Url(e) => plain("url", e.offset, e.length),
        E::Email(e) => plain("email", e.offset, e.length),
        E::Phone(e) => plain("phone_number", e.offset, e.length),
        E::Pre(e) => EventEntity {
            language: (!e.language.is_empty()).then(|| e.language.clone()),
            ..plain("pre", e.offset, e.length)
        },
        E::TextUrl(e) => EventEntity {
            url: Some(e.url.clone()),
            ..plain("text_link", e.offset, e.length)
        },
        E::MentionName(e) => EventEntity {
            user_id: Some(e.user_id),
            ..plain("text_mention", e.offset, e.length)
        },
        _ => return None,
    })
}

/// The update state `state` stands for, as the store keeps it (`None`: no sequence moved).
pub fn state_change(state: &State) -> Option<UpdateChange> {
    Some(match *state.message_box.as_ref()? {
        MessageBox::Common { pts } => UpdateChange::Primary {
            pts,
            date: state.date,
            seq: state.seq,
        },
        MessageBox::Secondary { qts } => UpdateChange::Secondary { qts },
        MessageBox::Channel { channel_id, pts } => UpdateChange::Channel {
            id: channel_id,
            pts,
        },
    })
}

/// Puts new messages before edits and deletions, keeping each group's order: a difference
/// lists what changed before what was created, but an app wants a message before its edit.
pub fn news_first(events: &mut [NewEvent]) {
    events.sort_by_key(|event| event.kind != EventType::MessageNew);
}

#[cfg(test)]
mod tests;
