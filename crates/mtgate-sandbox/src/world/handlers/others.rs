//! What other users do to messages the account can see: edit their own messages and delete
//! them (for everyone). Each change advances the chat's pts box, is logged for
//! `getDifference`, and is pushed live to the account's sessions, as Telegram does.
//!
//! Only the account's copy changes: in a private chat the sender's own copy (another id in
//! another mailbox) is left as it was, which no test of the account can observe.

use grammers_tl_types as tl;

use super::messages::{update_short, updates};
use super::{IncomingError, check_text, push_to_account};
use crate::rpc::UpdateBus;
use crate::world::model::{ChatKey, StoredMessage};
use crate::world::state::State;
use crate::world::{entities, to_tl};

/// The sender edits message `id` of `chat` (as the account sees it) to `text`.
pub fn edit_by_other(
    state: &mut State,
    bus: &UpdateBus,
    chat: ChatKey,
    id: i32,
    text: &str,
    now: i32,
) -> Result<StoredMessage, IncomingError> {
    let existing = state
        .message(chat, id)
        .cloned()
        .ok_or(IncomingError::UnknownMessage(id))?;
    if existing.out || existing.from.is_none() {
        // The account's own messages (and its channels' posts) are edited through the API.
        return Err(IncomingError::NotByOthers(id));
    }
    check_text(text).map_err(|e| IncomingError::BadText(e.name))?;
    let edited = StoredMessage {
        text: text.to_string(),
        entities: entities::with_detected(text, Vec::new()),
        edit_date: Some(now),
        ..existing
    };
    state.store(edited.clone());
    let pts_box = state.pts_box(chat);
    let pts = pts_box.advance(1);
    let message = to_tl::message(&edited);
    let update: tl::enums::Update = match chat {
        ChatKey::User(_) => tl::types::UpdateEditMessage {
            message,
            pts,
            pts_count: 1,
        }
        .into(),
        ChatKey::Channel(_) => tl::types::UpdateEditChannelMessage {
            message,
            pts,
            pts_count: 1,
        }
        .into(),
    };
    state.pts_box(chat).record(update.clone());
    let push = updates(state, vec![update], chat, edited.from, now);
    push_to_account(state, bus, &push, None);
    Ok(edited)
}

/// The senders delete messages `ids` of `chat` for everyone; returns the ids deleted.
pub fn delete_by_other(
    state: &mut State,
    bus: &UpdateBus,
    chat: ChatKey,
    ids: &[i32],
    now: i32,
) -> Result<Vec<i32>, IncomingError> {
    for &id in ids {
        let message = state
            .message(chat, id)
            .ok_or(IncomingError::UnknownMessage(id))?;
        if message.out || message.from.is_none() {
            return Err(IncomingError::NotByOthers(id));
        }
    }
    let mut deleted: Vec<i32> = ids.to_vec();
    deleted.sort_unstable();
    deleted.dedup();
    if deleted.is_empty() {
        return Ok(deleted);
    }
    for &id in &deleted {
        state.remove_message(chat, id);
    }
    let count = deleted.len() as i32;
    let pts_box = state.pts_box(chat);
    let pts = pts_box.advance(count);
    let update: tl::enums::Update = match chat {
        ChatKey::User(_) => tl::types::UpdateDeleteMessages {
            messages: deleted.clone(),
            pts,
            pts_count: count,
        }
        .into(),
        ChatKey::Channel(channel_id) => tl::types::UpdateDeleteChannelMessages {
            channel_id,
            messages: deleted.clone(),
            pts,
            pts_count: count,
        }
        .into(),
    };
    state.pts_box(chat).record(update.clone());
    let push = match chat {
        // Telegram sends a private deletion as a bare short update (it names no chat).
        ChatKey::User(_) => update_short(update, now),
        ChatKey::Channel(_) => updates(state, vec![update], chat, [], now),
    };
    push_to_account(state, bus, &push, None);
    Ok(deleted)
}
