//! `updates.*`: the account's and channels' update state, and replay of what a client missed.
//! seq is always 0: the sandbox never sends seq-numbered containers, so clients skip seq checks.

use grammers_tl_types::{self as tl, Serializable};

use super::{Ctx, Reply, peers_for};
use crate::world::model::ChatKey;
use crate::world::pts::Missed;

pub(super) fn state(ctx: &Ctx) -> tl::enums::updates::State {
    tl::types::updates::State {
        pts: ctx.state.private_pts(),
        qts: 0,
        date: ctx.now,
        seq: 0,
        unread_count: 0,
    }
    .into()
}

pub fn get_state(ctx: &mut Ctx, _: tl::functions::updates::GetState) -> Reply {
    Ok(state(ctx).to_bytes())
}

/// Splits replayed updates into new messages and everything else, as a difference carries them.
fn split(updates: Vec<tl::enums::Update>) -> (Vec<tl::enums::Message>, Vec<tl::enums::Update>) {
    let mut messages = Vec::new();
    let mut others = Vec::new();
    for update in updates {
        match update {
            tl::enums::Update::NewMessage(u) => messages.push(u.message),
            tl::enums::Update::NewChannelMessage(u) => messages.push(u.message),
            other => others.push(other),
        }
    }
    (messages, others)
}

fn all_private_chats(ctx: &Ctx) -> Vec<ChatKey> {
    ctx.state
        .users
        .keys()
        .map(|&id| ChatKey::User(id))
        .collect()
}

/// `updateChannelTooLong` (no pts: the client keeps its own) for every channel that moved
/// since `date`, as Telegram tells a client coming back which channels to catch up on.
fn channel_notices(ctx: &Ctx, date: i32) -> Vec<tl::enums::Update> {
    let mut ids: Vec<i64> = ctx
        .state
        .channel_boxes
        .iter()
        .filter(|(_, b)| b.changed_since(date))
        .map(|(&id, _)| id)
        .collect();
    ids.sort_unstable();
    ids.into_iter()
        .map(|channel_id| {
            tl::types::UpdateChannelTooLong {
                channel_id,
                pts: None,
            }
            .into()
        })
        .collect()
}

pub fn get_difference(ctx: &mut Ctx, request: tl::functions::updates::GetDifference) -> Reply {
    let notices = channel_notices(ctx, request.date);
    let channels: Vec<ChatKey> = notices
        .iter()
        .filter_map(|u| match u {
            tl::enums::Update::ChannelTooLong(u) => Some(ChatKey::Channel(u.channel_id)),
            _ => None,
        })
        .collect();
    let missed = match ctx.state.private_box().missed_since(request.pts) {
        Missed::Nothing if !notices.is_empty() => Missed::Updates(Vec::new()),
        missed => missed,
    };
    let difference: tl::enums::updates::Difference = match missed {
        Missed::Nothing => tl::types::updates::DifferenceEmpty {
            date: ctx.now,
            seq: 0,
        }
        .into(),
        Missed::TooLong => tl::types::updates::DifferenceTooLong {
            pts: ctx.state.private_pts(),
        }
        .into(),
        Missed::Updates(updates) => {
            let (new_messages, mut other_updates) = split(updates);
            other_updates.extend(notices);
            let chats = all_private_chats(ctx).into_iter().chain(channels);
            let (users, chats) = peers_for(ctx.state, chats, []);
            tl::types::updates::Difference {
                new_messages,
                new_encrypted_messages: Vec::new(),
                other_updates,
                chats,
                users,
                state: state(ctx),
            }
            .into()
        }
    };
    Ok(difference.to_bytes())
}

pub fn get_channel_difference(
    ctx: &mut Ctx,
    request: tl::functions::updates::GetChannelDifference,
) -> Reply {
    let channel_id = ctx.state.input_channel(&request.channel)?;
    ctx.about(ChatKey::Channel(channel_id));
    let pts_box = &ctx.state.channel_boxes[&channel_id];
    let pts = pts_box.pts();
    let limit = usize::try_from(request.limit).unwrap_or(0);
    let (missed, reached) = pts_box.missed_up_to(request.pts, limit);
    let difference: tl::enums::updates::ChannelDifference = match missed {
        Missed::Nothing => tl::types::updates::ChannelDifferenceEmpty {
            r#final: true,
            pts,
            timeout: None,
        }
        .into(),
        missed => {
            // "Too long" is answered as an empty, final difference at the current pts: the
            // client jumps there, exactly what channelDifferenceTooLong would make it do.
            let updates = match missed {
                Missed::Updates(updates) => updates,
                _ => Vec::new(),
            };
            let (new_messages, other_updates) = split(updates);
            let senders: Vec<i64> = ctx
                .state
                .history(ChatKey::Channel(channel_id))
                .iter()
                .filter_map(|m| m.from)
                .collect();
            let (users, chats) = peers_for(ctx.state, [ChatKey::Channel(channel_id)], senders);
            // Cut by the request's `limit` (grammers asks 100 for a user account), it says
            // more follows and names the pts it reached; the client asks again from there.
            // grammers sets the channel's pts before applying a *final* difference's other
            // updates, and so drops them (edits, deletions); a difference that says more may
            // follow has them applied. The next call finds nothing and ends it.
            let r#final = reached == pts && other_updates.is_empty();
            tl::types::updates::ChannelDifference {
                r#final,
                pts: reached,
                timeout: None,
                new_messages,
                other_updates,
                chats,
                users,
            }
            .into()
        }
    };
    Ok(difference.to_bytes())
}
