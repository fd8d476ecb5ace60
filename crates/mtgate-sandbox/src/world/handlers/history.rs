//! Reading messages: `messages.getHistory` (newest first, Telegram's offset paging),
//! `messages.getMessages` and `channels.getMessages` (one result per requested id).

use grammers_tl_types::{self as tl, Serializable};

use super::{Ctx, Reply, peers_for};
use crate::world::model::{ChatKey, StoredMessage};
use crate::world::to_tl;

/// Telegram caps one history page at 100 messages.
const MAX_PAGE: i32 = 100;

/// The page of `newest_first` that `getHistory`'s parameters select.
///
/// Telegram's rule: start at the first message older than `offset_id` (or than
/// `offset_date`, or the newest when both are 0), move `add_offset` further (negative moves
/// towards newer messages), take `limit`; `max_id` / `min_id` exclude ids outside
/// (exclusive bounds, 0 = none).
pub fn page<'m>(
    newest_first: &[&'m StoredMessage],
    request: &tl::functions::messages::GetHistory,
) -> Vec<&'m StoredMessage> {
    let filtered: Vec<&StoredMessage> = newest_first
        .iter()
        .copied()
        .filter(|m| request.max_id <= 0 || m.id < request.max_id)
        .filter(|m| request.min_id <= 0 || m.id > request.min_id)
        .collect();
    let start = if request.offset_id > 0 {
        filtered.iter().position(|m| m.id < request.offset_id)
    } else if request.offset_date > 0 {
        filtered.iter().position(|m| m.date < request.offset_date)
    } else {
        Some(0)
    }
    .unwrap_or(filtered.len()) as i64;
    let limit = request.limit.clamp(0, MAX_PAGE) as i64;
    let from = (start + request.add_offset as i64).clamp(0, filtered.len() as i64);
    let to = (start + request.add_offset as i64 + limit).clamp(0, filtered.len() as i64);
    filtered[from as usize..to.max(from) as usize].to_vec()
}

/// Text bytes one history page may carry: 100 messages of 4096 UTF-16 units can exceed the
/// 1 MiB packet limit, so a page ends early instead (the client pages on by `offset_id`).
const MAX_PAGE_TEXT_BYTES: usize = 512 * 1024;

/// The longest prefix of `page` within [`MAX_PAGE_TEXT_BYTES`], never empty if `page` is not.
pub fn fit_in_packet(mut page: Vec<&StoredMessage>) -> Vec<&StoredMessage> {
    let mut total = 0;
    let keep = page
        .iter()
        .position(|m| {
            total += m.text.len();
            total > MAX_PAGE_TEXT_BYTES
        })
        .unwrap_or(page.len())
        .max(1);
    page.truncate(keep);
    page
}

fn senders<'a>(messages: impl IntoIterator<Item = &'a StoredMessage>) -> Vec<i64> {
    messages.into_iter().filter_map(|m| m.from).collect()
}

pub fn get_history(ctx: &mut Ctx, request: tl::functions::messages::GetHistory) -> Reply {
    let chat = ctx.state.input_peer(&request.peer)?;
    ctx.about(chat);
    let all = ctx.state.history(chat);
    let selected = fit_in_packet(page(&all, &request));
    let count = all.len() as i32;
    let (users, chats) = peers_for(ctx.state, [chat], senders(selected.iter().copied()));
    let messages: Vec<tl::enums::Message> = selected.iter().map(|m| to_tl::message(m)).collect();
    let result: tl::enums::messages::Messages = match chat {
        ChatKey::Channel(id) => tl::types::messages::ChannelMessages {
            inexact: false,
            pts: ctx.state.channel_boxes[&id].pts(),
            count,
            offset_id_offset: None,
            messages,
            topics: Vec::new(),
            chats,
            users,
        }
        .into(),
        ChatKey::User(_) if messages.len() as i32 == count => tl::types::messages::Messages {
            messages,
            topics: Vec::new(),
            chats,
            users,
        }
        .into(),
        ChatKey::User(_) => tl::types::messages::MessagesSlice {
            inexact: false,
            count,
            next_rate: None,
            offset_id_offset: None,
            search_flood: None,
            messages,
            topics: Vec::new(),
            chats,
            users,
        }
        .into(),
    };
    Ok(result.to_bytes())
}

fn wanted_id(input: &tl::enums::InputMessage) -> Option<i32> {
    match input {
        tl::enums::InputMessage::Id(m) => Some(m.id),
        _ => None,
    }
}

/// Private-chat messages by account-wide id; `messageEmpty` where there is none.
pub fn get_messages(ctx: &mut Ctx, request: tl::functions::messages::GetMessages) -> Reply {
    let found: Vec<Option<&StoredMessage>> = request
        .id
        .iter()
        .map(|input| wanted_id(input).and_then(|id| ctx.state.private_message(id)))
        .collect();
    let chats_seen: Vec<ChatKey> = found.iter().flatten().map(|m| m.chat).collect();
    let (users, chats) = peers_for(
        ctx.state,
        chats_seen,
        senders(found.iter().flatten().copied()),
    );
    let messages = request
        .id
        .iter()
        .zip(&found)
        .map(|(input, m)| match m {
            Some(m) => to_tl::message(m),
            None => to_tl::empty_message(wanted_id(input).unwrap_or(0)),
        })
        .collect();
    Ok(
        tl::enums::messages::Messages::Messages(tl::types::messages::Messages {
            messages,
            topics: Vec::new(),
            chats,
            users,
        })
        .to_bytes(),
    )
}

pub fn get_channel_messages(ctx: &mut Ctx, request: tl::functions::channels::GetMessages) -> Reply {
    let channel_id = ctx.state.input_channel(&request.channel)?;
    let chat = ChatKey::Channel(channel_id);
    ctx.about(chat);
    let found: Vec<Option<&StoredMessage>> = request
        .id
        .iter()
        .map(|input| wanted_id(input).and_then(|id| ctx.state.message(chat, id)))
        .collect();
    let (users, chats) = peers_for(ctx.state, [chat], senders(found.iter().flatten().copied()));
    let messages: Vec<tl::enums::Message> = request
        .id
        .iter()
        .zip(&found)
        .map(|(input, m)| match m {
            Some(m) => to_tl::message(m),
            None => to_tl::empty_message(wanted_id(input).unwrap_or(0)),
        })
        .collect();
    Ok(
        tl::enums::messages::Messages::ChannelMessages(tl::types::messages::ChannelMessages {
            inexact: false,
            pts: ctx.state.channel_boxes[&channel_id].pts(),
            count: messages.len() as i32,
            offset_id_offset: None,
            messages,
            topics: Vec::new(),
            chats,
            users,
        })
        .to_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(id: i32) -> StoredMessage {
        StoredMessage {
            id,
            chat: ChatKey::User(1),
            from: Some(1),
            out: true,
            date: 1000 + id,
            text: format!("m{id}"),
            entities: Vec::new(),
            edit_date: None,
            reply_to: None,
            silent: false,
            link_preview: true,
            pinned: false,
            fwd_from: None,
            media: None,
            grouped_id: None,
        }
    }

    fn request(offset_id: i32, add_offset: i32, limit: i32) -> tl::functions::messages::GetHistory {
        tl::functions::messages::GetHistory {
            peer: tl::enums::InputPeer::PeerSelf,
            offset_id,
            offset_date: 0,
            add_offset,
            limit,
            max_id: 0,
            min_id: 0,
            hash: 0,
        }
    }

    fn ids(messages: &[StoredMessage], r: tl::functions::messages::GetHistory) -> Vec<i32> {
        let newest_first: Vec<&StoredMessage> = messages.iter().rev().collect();
        page(&newest_first, &r).iter().map(|m| m.id).collect()
    }

    #[test]
    fn history_pages_go_newest_first_and_continue_below_offset_id() {
        let messages: Vec<StoredMessage> = (1..=10).map(stored).collect();
        assert_eq!(ids(&messages, request(0, 0, 3)), vec![10, 9, 8]);
        assert_eq!(ids(&messages, request(8, 0, 3)), vec![7, 6, 5]);
        assert_eq!(ids(&messages, request(2, 0, 3)), vec![1]);
        assert_eq!(ids(&messages, request(1, 0, 3)), Vec::<i32>::new());
    }

    #[test]
    fn a_negative_add_offset_reaches_newer_messages() {
        let messages: Vec<StoredMessage> = (1..=10).map(stored).collect();
        // offset_id is exclusive: the window below it is empty, so a negative add_offset
        // reaches back up to the oldest messages (grammers' reverse iteration start).
        assert_eq!(ids(&messages, request(1, -2, 3)), vec![2, 1]);
        assert_eq!(ids(&messages, request(5, -3, 3)), vec![7, 6, 5]);
    }

    #[test]
    fn a_page_of_long_texts_stops_before_the_packet_limit() {
        let messages: Vec<StoredMessage> = (1..=100)
            .map(|id| StoredMessage {
                text: "字".repeat(4096),
                ..stored(id)
            })
            .collect();
        let newest_first: Vec<&StoredMessage> = messages.iter().rev().collect();
        let fitted = fit_in_packet(page(&newest_first, &request(0, 0, 100)));
        assert!(!fitted.is_empty() && fitted.len() < 100);
        assert!(fitted.iter().map(|m| m.text.len()).sum::<usize>() <= MAX_PAGE_TEXT_BYTES);
        assert_eq!(fitted[0].id, 100);
    }

    #[test]
    fn limits_are_capped_at_one_hundred() {
        let messages: Vec<StoredMessage> = (1..=250).map(stored).collect();
        assert_eq!(ids(&messages, request(0, 0, 500)).len(), 100);
    }
}
