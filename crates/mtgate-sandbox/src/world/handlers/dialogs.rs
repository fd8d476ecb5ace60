//! `messages.getDialogs`: the account's chats, most recently active first. Clients use it to
//! learn peers (and their access hashes) they only know by id.

use grammers_tl_types::{self as tl, Serializable};

use super::{Ctx, Reply, peers_for};
use crate::world::model::ChatKey;
use crate::world::to_tl;

/// The chats the account has: every channel it belongs to and every private chat with
/// messages, newest top message first.
fn dialogs(ctx: &Ctx) -> Vec<(ChatKey, Option<(i32, i32)>)> {
    let channels = ctx.state.channels.keys().map(|&id| ChatKey::Channel(id));
    let private = ctx
        .state
        .chats
        .iter()
        .filter(|(chat, messages)| matches!(chat, ChatKey::User(_)) && !messages.is_empty())
        .map(|(chat, _)| *chat);
    let mut list: Vec<(ChatKey, Option<(i32, i32)>)> = channels
        .chain(private)
        .map(|chat| {
            let top = ctx.state.history(chat).first().map(|m| (m.date, m.id));
            (chat, top)
        })
        .collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    list
}

pub fn get_dialogs(ctx: &mut Ctx, request: tl::functions::messages::GetDialogs) -> Reply {
    let limit = match request.limit {
        n if n <= 0 => 100,
        n => n.min(100) as usize,
    };
    let all = dialogs(ctx);
    let total = all.len();
    let selected: Vec<(ChatKey, Option<(i32, i32)>)> = all
        .into_iter()
        .filter(|(_, top)| {
            request.offset_date == 0 || top.is_some_and(|(date, _)| date < request.offset_date)
        })
        .take(limit)
        .collect();
    let complete = request.offset_date == 0 && selected.len() == total;
    let mut messages = Vec::new();
    let mut senders = Vec::new();
    let dialogs = selected
        .iter()
        .map(|(chat, top)| {
            if let Some((_, id)) = top
                && let Some(message) = ctx.state.message(*chat, *id)
            {
                messages.push(to_tl::message(message));
                senders.extend(message.from);
            }
            tl::types::Dialog {
                pinned: false,
                unread_mark: false,
                view_forum_as_messages: false,
                peer: chat.tl_peer(),
                top_message: top.map(|(_, id)| id).unwrap_or(0),
                read_inbox_max_id: top.map(|(_, id)| id).unwrap_or(0),
                read_outbox_max_id: top.map(|(_, id)| id).unwrap_or(0),
                unread_count: 0,
                unread_mentions_count: 0,
                unread_reactions_count: 0,
                unread_poll_votes_count: 0,
                notify_settings: to_tl::notify_settings(),
                pts: match chat {
                    ChatKey::Channel(id) => Some(ctx.state.channel_boxes[id].pts()),
                    ChatKey::User(_) => None,
                },
                draft: None,
                folder_id: None,
                ttl_period: None,
            }
            .into()
        })
        .collect();
    let (users, chats) = peers_for(ctx.state, selected.iter().map(|(c, _)| *c), senders);
    // A partial answer is a slice with the full count, as Telegram gives it.
    let answer: tl::enums::messages::Dialogs = if complete {
        tl::types::messages::Dialogs {
            dialogs,
            messages,
            chats,
            users,
        }
        .into()
    } else {
        tl::types::messages::DialogsSlice {
            count: total as i32,
            dialogs,
            messages,
            chats,
            users,
        }
        .into()
    };
    Ok(answer.to_bytes())
}
