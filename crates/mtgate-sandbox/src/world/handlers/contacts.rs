//! `contacts.resolveUsername`: the only way a client learns a peer's access hash by name.

use grammers_tl_types::{self as tl, Serializable};

use super::{Ctx, Reply, peers_for};
use crate::world::error::RpcErr;
use crate::world::peers::is_valid_username;

pub fn resolve_username(ctx: &mut Ctx, request: tl::functions::contacts::ResolveUsername) -> Reply {
    let name = request.username.trim_start_matches('@');
    if !is_valid_username(name) {
        return Err(RpcErr::bad("USERNAME_INVALID"));
    }
    let chat = ctx
        .state
        .by_username(name)
        .ok_or_else(|| RpcErr::bad("USERNAME_NOT_OCCUPIED"))?;
    ctx.about(chat);
    let (users, chats) = peers_for(ctx.state, [chat], []);
    Ok(
        tl::enums::contacts::ResolvedPeer::Peer(tl::types::contacts::ResolvedPeer {
            peer: chat.tl_peer(),
            chats,
            users,
        })
        .to_bytes(),
    )
}
