//! `messages.getDialogs` and `messages.getPeerDialogs`: the account's chats, most recently
//! active first, with their read state. Clients use them to learn peers (and their access
//! hashes) they only know by id, and to show unread counts.

use grammers_tl_types::{self as tl, Serializable};

use super::{Ctx, Reply, peers_for};
use crate::world::error::RpcErr;
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
        .map(|chat| (chat, top_of(ctx, chat)))
        .collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    list
}

/// `(date, id)` of a chat's newest message.
fn top_of(ctx: &Ctx, chat: ChatKey) -> Option<(i32, i32)> {
    ctx.state.history(chat).first().map(|m| (m.date, m.id))
}

/// The dialogs of `chats` with their top messages and the peers they name.
struct DialogList {
    dialogs: Vec<tl::enums::Dialog>,
    messages: Vec<tl::enums::Message>,
    chats: Vec<tl::enums::Chat>,
    users: Vec<tl::enums::User>,
}

fn dialog_list(ctx: &Ctx, selected: &[(ChatKey, Option<(i32, i32)>)]) -> DialogList {
    let mut messages = Vec::new();
    let mut senders = Vec::new();
    let dialogs = selected
        .iter()
        .map(|(chat, top)| {
            let top_id = top.map(|(_, id)| id).unwrap_or(0);
            if let Some(message) = ctx.state.message(*chat, top_id) {
                messages.push(to_tl::message(message));
                senders.extend(message.from);
            }
            tl::types::Dialog {
                pinned: false,
                unread_mark: false,
                view_forum_as_messages: false,
                peer: chat.tl_peer(),
                top_message: top_id,
                read_inbox_max_id: ctx.state.read_max(*chat),
                // Nobody else reads in the sandbox's world: the account's messages count as
                // read by the other side once sent.
                read_outbox_max_id: top_id,
                unread_count: ctx.state.unread_count(*chat),
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
    DialogList {
        dialogs,
        messages,
        chats,
        users,
    }
}

pub fn get_dialogs(ctx: &mut Ctx, request: tl::functions::messages::GetDialogs) -> Reply {
    let limit = match request.limit {
        n if n <= 0 => 100,
        n => n.min(100) as usize,
    };
    let all = dialogs(ctx);
    let total = all.len();
    // Telegram's offset is the (date, id) of the last dialog's top message: continue below it.
    // Chats without messages sort last (`None` is below every offset), so paging reaches them.
    let offset = Some((request.offset_date, request.offset_id));
    let selected: Vec<(ChatKey, Option<(i32, i32)>)> = all
        .into_iter()
        .filter(|(_, top)| request.offset_date == 0 || *top < offset)
        .take(limit)
        .collect();
    let complete = request.offset_date == 0 && selected.len() == total;
    let list = dialog_list(ctx, &selected);
    // A partial answer is a slice with the full count, as Telegram gives it.
    let answer: tl::enums::messages::Dialogs = if complete {
        tl::types::messages::Dialogs {
            dialogs: list.dialogs,
            messages: list.messages,
            chats: list.chats,
            users: list.users,
        }
        .into()
    } else {
        tl::types::messages::DialogsSlice {
            count: total as i32,
            dialogs: list.dialogs,
            messages: list.messages,
            chats: list.chats,
            users: list.users,
        }
        .into()
    };
    Ok(answer.to_bytes())
}

/// The dialogs of the peers asked for, in order; folders are not modelled.
pub fn get_peer_dialogs(ctx: &mut Ctx, request: tl::functions::messages::GetPeerDialogs) -> Reply {
    let mut selected = Vec::with_capacity(request.peers.len());
    for peer in &request.peers {
        let tl::enums::InputDialogPeer::Peer(peer) = peer else {
            return Err(RpcErr::bad("PEER_ID_INVALID"));
        };
        let chat = ctx.state.input_peer(&peer.peer)?;
        if request.peers.len() == 1 {
            ctx.about(chat);
        }
        selected.push((chat, top_of(ctx, chat)));
    }
    let list = dialog_list(ctx, &selected);
    Ok(
        tl::enums::messages::PeerDialogs::Dialogs(tl::types::messages::PeerDialogs {
            dialogs: list.dialogs,
            messages: list.messages,
            chats: list.chats,
            users: list.users,
            state: super::updates::state(ctx),
        })
        .to_bytes(),
    )
}
