//! Read receipts and chat actions: `messages.readHistory` (private chats, `affectedMessages`
//! on the account's pts), `channels.readHistory` (`Bool`, channel inbox), `messages.setTyping`.
//! The account's other sessions hear of reads as Telegram tells them.

use grammers_tl_types::{self as tl, Serializable};

use super::messages::{affected, update_short};
use super::{Ctx, Reply};
use crate::world::error::RpcErr;
use crate::world::fixture::ChannelKind;
use crate::world::model::ChatKey;

/// The id reads go up to: `max_id` (0 = everything), never past the newest message.
fn read_up_to(ctx: &Ctx, chat: ChatKey, max_id: i32) -> i32 {
    let top = ctx.state.history(chat).first().map_or(0, |m| m.id);
    if max_id <= 0 { top } else { max_id.min(top) }
}

pub fn read_history(ctx: &mut Ctx, request: tl::functions::messages::ReadHistory) -> Reply {
    let chat = ctx.state.input_peer(&request.peer)?;
    ctx.about(chat);
    if matches!(chat, ChatKey::Channel(_)) {
        // Channels have their own method (and their own pts); Telegram refuses them here.
        return Err(RpcErr::bad("PEER_ID_INVALID"));
    }
    let max_id = read_up_to(ctx, chat, request.max_id);
    if max_id <= ctx.state.read_max(chat) {
        return Ok(affected(ctx.state.account_box.pts(), 0));
    }
    ctx.state.read_inbox.insert(chat, max_id);
    let still_unread_count = ctx.state.unread_count(chat);
    let pts = ctx.state.account_box.advance(1);
    let update: tl::enums::Update = tl::types::UpdateReadHistoryInbox {
        folder_id: None,
        peer: chat.tl_peer(),
        top_msg_id: None,
        max_id,
        still_unread_count,
        pts,
        pts_count: 1,
    }
    .into();
    ctx.state.account_box.record(update.clone());
    ctx.push_to_other_sessions(&update_short(update, ctx.now));
    Ok(affected(pts, 1))
}

pub fn read_channel_history(ctx: &mut Ctx, request: tl::functions::channels::ReadHistory) -> Reply {
    let channel_id = ctx.state.input_channel(&request.channel)?;
    let chat = ChatKey::Channel(channel_id);
    ctx.about(chat);
    let max_id = read_up_to(ctx, chat, request.max_id);
    if max_id > ctx.state.read_max(chat) {
        ctx.state.read_inbox.insert(chat, max_id);
        let update: tl::enums::Update = tl::types::UpdateReadChannelInbox {
            folder_id: None,
            channel_id,
            max_id,
            still_unread_count: ctx.state.unread_count(chat),
            pts: ctx.state.channel_boxes[&channel_id].pts(),
        }
        .into();
        ctx.push_to_other_sessions(&update_short(update, ctx.now));
    }
    Ok(true.to_bytes())
}

/// The TL name of an action (`sendMessageTypingAction`), for the request log.
fn action_name(action: &tl::enums::SendMessageAction) -> String {
    let bytes = action.to_bytes();
    let id = u32::from_le_bytes(bytes[..4].try_into().expect("a constructor id"));
    tl::name_for_id(id).to_string()
}

/// Typing and upload indicators: checked and logged; no other party is watching in the
/// sandbox's world, so nothing is pushed.
pub fn set_typing(ctx: &mut Ctx, request: tl::functions::messages::SetTyping) -> Reply {
    let chat = ctx.state.input_peer(&request.peer)?;
    ctx.about(chat);
    ctx.facts.action = Some(action_name(&request.action));
    if ctx.state.channel_kind(chat) == Some(ChannelKind::ReadOnlyBroadcast) {
        return Err(RpcErr::forbidden("CHAT_WRITE_FORBIDDEN"));
    }
    Ok(true.to_bytes())
}
