//! `users.*`: who someone is.

use grammers_tl_types::{self as tl, Serializable};

use super::{Ctx, Reply};
use crate::world::model::ChatKey;
use crate::world::{full_info, to_tl};

/// One `User` per input, in order (`get_me` insists on exactly one for `[inputUserSelf]`).
pub fn get_users(ctx: &mut Ctx, request: tl::functions::users::GetUsers) -> Reply {
    let mut users = Vec::with_capacity(request.id.len());
    for input in &request.id {
        let id = ctx.state.input_user(input)?;
        if request.id.len() == 1 {
            ctx.about(ChatKey::User(id));
        }
        users.push(to_tl::user(&ctx.state.users[&id], id == ctx.state.viewer));
    }
    Ok(users.to_bytes())
}

pub fn get_full_user(ctx: &mut Ctx, request: tl::functions::users::GetFullUser) -> Reply {
    let id = ctx.state.input_user(&request.id)?;
    ctx.about(ChatKey::User(id));
    Ok(full_info::user_full(&ctx.state.users[&id], id == ctx.state.viewer).to_bytes())
}
