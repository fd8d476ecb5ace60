//! `messages.updatePinnedMessage`: pin or unpin one message, answered with `updates` holding
//! `updatePinnedMessages` (private chats, account pts) or `updatePinnedChannelMessages`.
//! Telegram's "pinned a message" service message is not modelled.

use grammers_tl_types::{self as tl, Serializable};

use super::messages::updates;
use super::{Ctx, Reply};
use crate::world::error::RpcErr;
use crate::world::model::ChatKey;

pub fn update_pinned(
    ctx: &mut Ctx,
    request: tl::functions::messages::UpdatePinnedMessage,
) -> Reply {
    let chat = ctx.state.input_peer(&request.peer)?;
    ctx.about(chat);
    if ctx.state.channel_kind(chat).is_some_and(|k| !k.is_owner()) {
        return Err(RpcErr::bad("CHAT_ADMIN_REQUIRED"));
    }
    let pinned = !request.unpin;
    let message = ctx
        .state
        .chats
        .get_mut(&chat)
        .and_then(|messages| messages.get_mut(&request.id))
        .ok_or_else(|| RpcErr::bad("MESSAGE_ID_INVALID"))?;
    message.pinned = pinned;
    let pts_box = ctx.state.pts_box(chat);
    let pts = pts_box.advance(1);
    let update: tl::enums::Update = match chat {
        ChatKey::User(_) => tl::types::UpdatePinnedMessages {
            pinned,
            peer: chat.tl_peer(),
            messages: vec![request.id],
            pts,
            pts_count: 1,
        }
        .into(),
        ChatKey::Channel(channel_id) => tl::types::UpdatePinnedChannelMessages {
            pinned,
            channel_id,
            messages: vec![request.id],
            pts,
            pts_count: 1,
        }
        .into(),
    };
    pts_box.record(update.clone());
    let reply = updates(ctx.state, vec![update], chat, [], ctx.now);
    ctx.push_to_other_sessions(&reply);
    Ok(reply.to_bytes())
}
