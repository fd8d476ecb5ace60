//! `messages.forwardMessages`: copies messages into another chat with a `messageFwdHeader`
//! naming the original author (the first one, when a forward is forwarded again), or without
//! it when `drop_author` is set. Answered like a channel send: `updates` with one
//! `updateMessageID` per `random_id` and the new messages.

use grammers_tl_types::{self as tl, Serializable};

use super::messages::{create, new_message_update};
use super::{Ctx, Reply, peers_for};
use crate::world::error::RpcErr;
use crate::world::fixture::{ChannelKind, ME_ID};
use crate::world::model::{ChatKey, FwdFrom, StoredMessage};

/// Where `original` came from, as its forward header says.
fn origin_of(original: &StoredMessage) -> FwdFrom {
    original.fwd_from.unwrap_or(match original.from {
        Some(user) => FwdFrom {
            from: ChatKey::User(user),
            date: original.date,
            channel_post: None,
        },
        None => FwdFrom {
            from: original.chat,
            date: original.date,
            channel_post: Some(original.id),
        },
    })
}

pub fn forward(ctx: &mut Ctx, request: tl::functions::messages::ForwardMessages) -> Reply {
    let from_chat = ctx.state.input_peer(&request.from_peer)?;
    let to_chat = ctx.state.input_peer(&request.to_peer)?;
    ctx.about(to_chat);
    if let Some(&first) = request.random_id.first()
        && let Some(reply) = ctx.state.sent_by_random_id.get(&first)
    {
        return Ok(reply.clone());
    }
    if request.id.is_empty() || request.id.len() != request.random_id.len() {
        return Err(RpcErr::bad("RANDOM_ID_INVALID"));
    }
    if ctx.state.channel_kind(to_chat) == Some(ChannelKind::ReadOnlyBroadcast) {
        return Err(RpcErr::forbidden("CHAT_WRITE_FORBIDDEN"));
    }
    // Missing ids are skipped, as Telegram does; none at all is an error.
    let originals: Vec<(i64, StoredMessage)> = request
        .id
        .iter()
        .zip(&request.random_id)
        .filter_map(|(id, random_id)| {
            let message = ctx.state.message(from_chat, *id)?;
            Some((*random_id, message.clone()))
        })
        .collect();
    if originals.is_empty() {
        return Err(RpcErr::bad("MESSAGE_ID_INVALID"));
    }
    let to_broadcast = ctx
        .state
        .channel_kind(to_chat)
        .is_some_and(|k| k.is_broadcast());
    let mut id_updates = Vec::new();
    let mut new_updates = Vec::new();
    let mut senders = Vec::new();
    let mut origin_chats = Vec::new();
    for (random_id, original) in originals {
        let fwd_from = (!request.drop_author).then(|| origin_of(&original));
        match fwd_from.map(|f| f.from) {
            Some(ChatKey::User(user)) => senders.push(user),
            Some(channel) => origin_chats.push(channel),
            None => {}
        }
        let (message, pts) = create(
            ctx.state,
            StoredMessage {
                id: 0,
                chat: to_chat,
                from: (!to_broadcast).then_some(ME_ID),
                out: true,
                date: ctx.now,
                text: original.text,
                entities: original.entities,
                edit_date: None,
                reply_to: None,
                silent: request.silent,
                link_preview: original.link_preview,
                pinned: false,
                fwd_from,
                media: original.media.clone(),
                grouped_id: None,
            },
        );
        id_updates.push(
            tl::types::UpdateMessageId {
                id: message.id,
                random_id,
            }
            .into(),
        );
        new_updates.push(new_message_update(&message, pts));
    }
    // The source chat and the original authors travel along: the forward headers name them.
    let chats = [to_chat, from_chat].into_iter().chain(origin_chats);
    let (users, chats) = peers_for(ctx.state, chats, senders);
    let with_peers = |list: Vec<tl::enums::Update>| -> tl::enums::Updates {
        tl::types::Updates {
            updates: list,
            users: users.clone(),
            chats: chats.clone(),
            date: ctx.now,
            seq: 0,
        }
        .into()
    };
    ctx.push_to_other_sessions(&with_peers(new_updates.clone()));
    let mut list = id_updates;
    list.extend(new_updates);
    let reply = with_peers(list).to_bytes();
    ctx.state
        .sent_by_random_id
        .insert(request.random_id[0], reply.clone());
    Ok(reply)
}
