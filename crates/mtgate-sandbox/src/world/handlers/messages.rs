//! Sending, editing and deleting messages, with the exact reply shapes clients rely on:
//! private chats answer `updateShortSentMessage`, channels `updates{updateMessageID,
//! updateNewChannelMessage}`, deletions `affectedMessages`. Every change advances the right pts
//! box and is logged there for `getDifference`.
//!
//! A private message is stored twice, as on Telegram: the sender's copy and the recipient's
//! (with its own id and pts, pushed live to the recipient's sessions). Edits and deletions
//! change only the caller's copy.

use grammers_tl_types::{self as tl, Serializable};

use super::{Ctx, Reply, check_text, peers_for, push_to_account};
use crate::rpc::UpdateBus;
use crate::world::error::RpcErr;
use crate::world::fixture::{ChannelKind, ME_ID};
use crate::world::model::{ChatKey, StoredMessage};
use crate::world::state::State;
use crate::world::{entities, to_tl};

/// The update announcing a new message in `chat` at `pts`.
pub(super) fn new_message_update(message: &StoredMessage, pts: i32) -> tl::enums::Update {
    let message = to_tl::message(message);
    match message_chat(&message) {
        ChatKey::User(_) => tl::types::UpdateNewMessage {
            message,
            pts,
            pts_count: 1,
        }
        .into(),
        ChatKey::Channel(_) => tl::types::UpdateNewChannelMessage {
            message,
            pts,
            pts_count: 1,
        }
        .into(),
    }
}

fn message_chat(message: &tl::enums::Message) -> ChatKey {
    match message {
        tl::enums::Message::Message(m) => match &m.peer_id {
            tl::enums::Peer::Channel(c) => ChatKey::Channel(c.channel_id),
            tl::enums::Peer::User(u) => ChatKey::User(u.user_id),
            tl::enums::Peer::Chat(c) => ChatKey::User(c.chat_id),
        },
        _ => unreachable!("only stored messages are announced"),
    }
}

/// Stores a new message in `chat` and logs its update; returns it with its pts.
pub(super) fn create(state: &mut State, mut message: StoredMessage) -> (StoredMessage, i32) {
    message.id = state.next_message_id(message.chat);
    state.store(message.clone());
    let pts_box = state.pts_box(message.chat);
    let pts = pts_box.advance(1);
    pts_box.record(new_message_update(&message, pts));
    (message, pts)
}

pub(super) fn updates(
    state: &State,
    list: Vec<tl::enums::Update>,
    chat: ChatKey,
    senders: impl IntoIterator<Item = i64>,
    date: i32,
) -> tl::enums::Updates {
    let (users, chats) = peers_for(state, [chat], senders);
    tl::types::Updates {
        updates: list,
        users,
        chats,
        date,
        seq: 0,
    }
    .into()
}

pub fn send(ctx: &mut Ctx, request: tl::functions::messages::SendMessage) -> Reply {
    let chat = ctx.state.input_peer(&request.peer)?;
    ctx.about(chat);
    ctx.facts.text = Some(request.message.clone());
    if let Some(reply) = ctx.state.sent_by_random_id.get(&request.random_id) {
        return Ok(reply.clone());
    }
    check_text(&request.message)?;
    let viewer = ctx.state.viewer;
    check_may_post(ctx.state, chat)?;
    let reply_to = checked_reply_to(ctx.state, chat, request.reply_to.as_ref())?;
    let kind = ctx.state.channel_kind(chat);
    let is_broadcast = kind.is_some_and(|k| k.is_broadcast());
    let is_group = kind.is_some_and(|k| !k.is_broadcast());
    if let Err((name, seconds)) =
        ctx.state
            .limits
            .admit(viewer, chat, is_group, std::time::Instant::now())
    {
        return Err(RpcErr {
            code: 420,
            name: format!("{name}_{seconds}"),
        });
    }
    let (message, pts) = create(
        ctx.state,
        StoredMessage {
            id: 0,
            chat,
            from: (!is_broadcast).then_some(viewer),
            // Channel messages are stored once, as the account sees them.
            out: matches!(chat, ChatKey::User(_)) || viewer == ME_ID,
            date: ctx.now,
            text: request.message.clone(),
            entities: entities::with_detected(
                &request.message,
                request.entities.clone().unwrap_or_default(),
            ),
            edit_date: None,
            reply_to,
            silent: request.silent,
            link_preview: !request.no_webpage,
            pinned: false,
            fwd_from: None,
            media: None,
            grouped_id: None,
        },
    );
    // Telegram answers a private send with the short form (echoing the entities it stored),
    // but Saved Messages and channels with the full updates.
    let reply: tl::enums::Updates = match chat {
        ChatKey::User(id) if id != ME_ID => tl::types::UpdateShortSentMessage {
            out: true,
            id: message.id,
            pts,
            pts_count: 1,
            date: message.date,
            media: None,
            entities: (!message.entities.is_empty()).then(|| message.entities.clone()),
            ttl_period: None,
        }
        .into(),
        _ => {
            let list = vec![
                tl::types::UpdateMessageId {
                    id: message.id,
                    random_id: request.random_id,
                }
                .into(),
                new_message_update(&message, pts),
            ];
            updates(ctx.state, list, chat, [], ctx.now)
        }
    };
    if ctx.has_other_sessions() {
        let other_sessions = updates(
            ctx.state,
            vec![new_message_update(&message, pts)],
            chat,
            [],
            ctx.now,
        );
        ctx.push_to_other_sessions(&other_sessions);
    }
    if let ChatKey::User(recipient) = chat
        && recipient != viewer
    {
        let copy = StoredMessage {
            chat: ChatKey::User(viewer),
            out: false,
            reply_to: None,
            ..message
        };
        copy_to(ctx.state, ctx.bus, recipient, copy);
    }
    let bytes = reply.to_bytes();
    ctx.state
        .sent_by_random_id
        .insert(request.random_id, bytes.clone());
    Ok(bytes)
}

/// `CHAT_WRITE_FORBIDDEN` where the viewer may not post: only the account owns the
/// broadcast channels; other users may only read them.
pub(super) fn check_may_post(state: &State, chat: ChatKey) -> Result<(), RpcErr> {
    let may_post = match state.channel_kind(chat) {
        Some(ChannelKind::ReadOnlyBroadcast) => false,
        Some(kind) if kind.is_broadcast() => state.viewer == ME_ID,
        _ => true,
    };
    if may_post {
        Ok(())
    } else {
        Err(RpcErr::forbidden("CHAT_WRITE_FORBIDDEN"))
    }
}

/// The message a send replies to, which must exist in the same chat.
pub(super) fn checked_reply_to(
    state: &State,
    chat: ChatKey,
    reply_to: Option<&tl::enums::InputReplyTo>,
) -> Result<Option<i32>, RpcErr> {
    let reply_to = match reply_to {
        Some(tl::enums::InputReplyTo::Message(reply)) => Some(reply.reply_to_msg_id),
        _ => None,
    };
    if reply_to.is_some_and(|id| state.message(chat, id).is_none()) {
        return Err(RpcErr::bad("REPLY_MESSAGE_ID_INVALID"));
    }
    Ok(reply_to)
}

pub fn edit(ctx: &mut Ctx, request: tl::functions::messages::EditMessage) -> Reply {
    let chat = ctx.state.input_peer(&request.peer)?;
    ctx.about(chat);
    ctx.facts.text = request.message.clone();
    let existing = ctx
        .state
        .message(chat, request.id)
        .cloned()
        .ok_or_else(|| RpcErr::bad("MESSAGE_ID_INVALID"))?;
    if !existing.out {
        return Err(RpcErr::forbidden("MESSAGE_AUTHOR_REQUIRED"));
    }
    let text = request
        .message
        .clone()
        .unwrap_or_else(|| existing.text.clone());
    check_text(&text)?;
    let entities = match (&request.message, request.entities) {
        (Some(_), given) => entities::with_detected(&text, given.unwrap_or_default()),
        (None, Some(entities)) => entities,
        (None, None) => existing.entities.clone(),
    };
    if text == existing.text && entities == existing.entities {
        return Err(RpcErr::bad("MESSAGE_NOT_MODIFIED"));
    }
    let edited = StoredMessage {
        text,
        entities,
        edit_date: Some(ctx.now),
        link_preview: !request.no_webpage,
        ..existing
    };
    ctx.state.store(edited.clone());
    let pts_box = ctx.state.pts_box(chat);
    let pts = pts_box.advance(1);
    let message = to_tl::message(&edited);
    let update: tl::enums::Update = match chat {
        ChatKey::User(_) => tl::types::UpdateEditMessage {
            message,
            pts,
            pts_count: 1,
        }
        .into(),
        ChatKey::Channel(_) => tl::types::UpdateEditChannelMessage {
            message,
            pts,
            pts_count: 1,
        }
        .into(),
    };
    ctx.state.pts_box(chat).record(update.clone());
    let reply = updates(ctx.state, vec![update], chat, edited.from, ctx.now);
    ctx.push_to_other_sessions(&reply);
    Ok(reply.to_bytes())
}

pub(super) fn affected(pts: i32, pts_count: i32) -> Vec<u8> {
    tl::enums::messages::AffectedMessages::Messages(tl::types::messages::AffectedMessages {
        pts,
        pts_count,
    })
    .to_bytes()
}

/// `messages.deleteMessages`: ids are account-wide in private chats; missing ones are skipped.
pub fn delete_private(ctx: &mut Ctx, request: tl::functions::messages::DeleteMessages) -> Reply {
    let mut deleted = Vec::new();
    for id in request.id {
        if let Some(chat) = ctx.state.private_message(id).map(|m| m.chat) {
            ctx.state.remove_message(chat, id);
            if deleted.is_empty() {
                ctx.about(chat);
            }
            deleted.push(id);
        }
    }
    let count = deleted.len() as i32;
    let pts_box = ctx.state.private_box();
    let pts = pts_box.advance(count);
    if count > 0 {
        let update: tl::enums::Update = tl::types::UpdateDeleteMessages {
            messages: deleted,
            pts,
            pts_count: count,
        }
        .into();
        pts_box.record(update.clone());
        ctx.push_to_other_sessions(&update_short(update, ctx.now));
    }
    Ok(affected(pts, count))
}

pub(super) fn update_short(update: tl::enums::Update, date: i32) -> tl::enums::Updates {
    tl::types::UpdateShort { update, date }.into()
}

/// `channels.deleteMessages`: only where the account may delete (it owns the channel).
pub fn delete_channel(ctx: &mut Ctx, request: tl::functions::channels::DeleteMessages) -> Reply {
    let channel_id = ctx.state.input_channel(&request.channel)?;
    let chat = ChatKey::Channel(channel_id);
    ctx.about(chat);
    let owner = ctx.state.channels[&channel_id].kind.is_owner() && ctx.state.viewer == ME_ID;
    let present: Vec<i32> = request
        .id
        .iter()
        .copied()
        .filter(|id| ctx.state.message(chat, *id).is_some())
        .collect();
    if !owner && !present.is_empty() {
        return Err(RpcErr::forbidden("MESSAGE_DELETE_FORBIDDEN"));
    }
    for id in &present {
        ctx.state.remove_message(chat, *id);
    }
    let count = present.len() as i32;
    let pts_box = ctx.state.pts_box(chat);
    let pts = pts_box.advance(count);
    if count > 0 {
        let update: tl::enums::Update = tl::types::UpdateDeleteChannelMessages {
            channel_id,
            messages: present,
            pts,
            pts_count: count,
        }
        .into();
        pts_box.record(update.clone());
        ctx.push_to_other_sessions(&update_short(update, ctx.now));
    }
    Ok(affected(pts, count))
}

/// Why the control API could not deliver an incoming message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IncomingError {
    #[error("unknown sender {0}")]
    UnknownSender(String),
    #[error("unknown peer {0}")]
    UnknownPeer(String),
    #[error("the sender must be another user, not the account itself")]
    SenderIsSelf,
    #[error("{0}")]
    BadText(String),
    #[error("no message {0} in that chat")]
    UnknownMessage(i32),
    #[error("message {0} was not sent by another user")]
    NotByOthers(i32),
}

/// Delivers a message from another user to the account, as Telegram would: stored, counted
/// in the right pts box and pushed as a live update to every session of the account.
/// `chat` is the private chat with the sender, or a channel / supergroup.
pub fn deliver_incoming(
    state: &mut State,
    bus: &UpdateBus,
    from: i64,
    chat: ChatKey,
    text: &str,
    now: i32,
) -> Result<StoredMessage, IncomingError> {
    if from == ME_ID {
        return Err(IncomingError::SenderIsSelf);
    }
    check_text(text).map_err(|e| IncomingError::BadText(e.name))?;
    let is_broadcast = state.channel_kind(chat).is_some_and(|k| k.is_broadcast());
    let (message, pts) = create(
        state,
        StoredMessage {
            id: 0,
            chat,
            from: (!is_broadcast).then_some(from),
            out: false,
            date: now,
            text: text.to_string(),
            entities: entities::with_detected(text, Vec::new()),
            edit_date: None,
            reply_to: None,
            silent: false,
            link_preview: true,
            pinned: false,
            fwd_from: None,
            media: None,
            grouped_id: None,
        },
    );
    let push = updates(
        state,
        vec![new_message_update(&message, pts)],
        chat,
        message.from,
        now,
    );
    push_to_account(state, bus, &push, None);
    if let ChatKey::User(_) = chat {
        // The sender's own copy, as if it had sent the message from one of its sessions.
        let copy = StoredMessage {
            chat: ChatKey::User(ME_ID),
            out: true,
            ..message.clone()
        };
        copy_to(state, bus, from, copy);
    }
    Ok(message)
}

/// Stores `owner`'s copy of a private message (a fresh id and pts in `owner`'s sequence) and
/// pushes it to `owner`'s sessions.
pub(super) fn copy_to(state: &mut State, bus: &UpdateBus, owner: i64, copy: StoredMessage) {
    state.with_viewer(owner, |state| {
        let date = copy.date;
        let (message, pts) = create(state, copy);
        let push = updates(
            state,
            vec![new_message_update(&message, pts)],
            message.chat,
            message.from,
            date,
        );
        push_to_account(state, bus, &push, None);
    });
}
