//! `channels.getChannels` and `channels.getFullChannel`: channel info by id and access hash;
//! `messages.getChats` for basic groups, which the sandbox world has none of.

use grammers_tl_types::{self as tl, Serializable};

use super::{Ctx, Reply};
use crate::world::error::RpcErr;
use crate::world::model::ChatKey;
use crate::world::{full_info, to_tl};

pub fn get_channels(ctx: &mut Ctx, request: tl::functions::channels::GetChannels) -> Reply {
    let mut chats = Vec::with_capacity(request.id.len());
    for input in &request.id {
        let id = ctx.state.input_channel(input)?;
        if request.id.len() == 1 {
            ctx.about(ChatKey::Channel(id));
        }
        chats.push(to_tl::channel(&ctx.state.channels[&id]));
    }
    Ok(tl::enums::messages::Chats::Chats(tl::types::messages::Chats { chats }).to_bytes())
}

/// `channels.getFullChannel`: about, read state, pinned message and pts of one channel.
pub fn get_full_channel(ctx: &mut Ctx, request: tl::functions::channels::GetFullChannel) -> Reply {
    let id = ctx.state.input_channel(&request.channel)?;
    let chat = ChatKey::Channel(id);
    ctx.about(chat);
    let record = &ctx.state.channels[&id];
    let full = full_info::channel_full(
        record,
        full_info::ChannelReadState {
            read_inbox_max_id: ctx.state.read_max(chat),
            read_outbox_max_id: ctx.state.history(chat).first().map_or(0, |m| m.id),
            unread_count: ctx.state.unread_count(chat),
            pinned_msg_id: ctx.state.pinned_id(chat),
            pts: ctx.state.channel_boxes[&id].pts(),
        },
    );
    Ok(
        tl::enums::messages::ChatFull::Full(tl::types::messages::ChatFull {
            full_chat: full,
            chats: vec![to_tl::channel(record)],
            users: Vec::new(),
        })
        .to_bytes(),
    )
}

/// `messages.getChats`: the sandbox world has no basic groups, so every id names a group this
/// account is not in, and Telegram's answer for that is `CHAT_ID_INVALID`.
pub fn get_chats(_: &mut Ctx, _: tl::functions::messages::GetChats) -> Reply {
    Err(RpcErr::bad("CHAT_ID_INVALID"))
}
