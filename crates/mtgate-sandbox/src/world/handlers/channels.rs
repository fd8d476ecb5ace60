//! `channels.getChannels`: channel info by id and access hash; `messages.getChats` for basic
//! groups, of which the world has none.

use grammers_tl_types::{self as tl, Serializable};

use super::{Ctx, Reply, RpcErr};
use crate::world::model::ChatKey;
use crate::world::to_tl;

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

/// `messages.getChats`: the world has no basic groups, so every id is unknown, answered as
/// Telegram answers a chat the account is not in.
pub fn get_chats(_ctx: &mut Ctx, request: tl::functions::messages::GetChats) -> Reply {
    if request.id.is_empty() {
        let none = tl::types::messages::Chats { chats: Vec::new() };
        return Ok(tl::enums::messages::Chats::Chats(none).to_bytes());
    }
    Err(RpcErr::bad("CHAT_ID_INVALID"))
}
