//! The Telegram side of the message endpoints: resolve the peer, make the raw calls through
//! the client manager, read the answers. Raw TL rather than grammers' `send_message` because
//! mtgate must choose the `random_id` (derived from the Idempotency-Key).

use grammers_tl_types as tl;

use crate::api::{ApiError, AppState};
use crate::domain::answers::{
    MessagesPage, Target, deleted_count, edited_message, sent_message, updates_peers,
};
use crate::domain::{FormattedText, MessageView, PeerSpec};
use crate::telegram::flood::FloodScope;
use crate::telegram::resolver::{KnownPeer, invoke, invoke_in};

use super::HistoryPage;

/// The options of a send besides its text.
#[derive(Clone, Copy, Debug)]
pub struct SendOptions {
    pub reply_to: Option<i32>,
    pub silent: bool,
    pub link_preview: bool,
}

fn target(peer: &KnownPeer) -> Target {
    Target {
        id: peer.id,
        kind: peer.kind,
    }
}

async fn resolve(state: &AppState, spec: &PeerSpec) -> Result<KnownPeer, ApiError> {
    Ok(state.resolver.resolve(&state.telegram, spec).await?)
}

/// Telegram accepted the call but its answer lacks what it should hold: an incompatibility,
/// reported as 502 (logged with the request id by the handler).
fn missing(what: &str) -> ApiError {
    ApiError::Internal {
        message: format!("Telegram's answer did not include {what}"),
        telegram: None,
        upstream: true,
    }
}

/// Entities as a send takes them: mentions by user id need the user's access hash.
fn input_entities(
    state: &AppState,
    entities: &[tl::enums::MessageEntity],
) -> Option<Vec<tl::enums::MessageEntity>> {
    if entities.is_empty() {
        return None;
    }
    let converted = entities
        .iter()
        .map(|entity| match entity {
            tl::enums::MessageEntity::MentionName(m) => {
                let hash = grammers_session::types::PeerId::user(m.user_id)
                    .and_then(|id| id.bot_api_dialog_id())
                    .and_then(|id| state.resolver.cached_by_id(id))
                    .map(|p| p.hash)
                    .unwrap_or(0);
                tl::types::InputMessageEntityMentionName {
                    offset: m.offset,
                    length: m.length,
                    user_id: tl::types::InputUser {
                        user_id: m.user_id,
                        access_hash: hash,
                    }
                    .into(),
                }
                .into()
            }
            other => other.clone(),
        })
        .collect();
    Some(converted)
}

pub async fn send(
    state: &AppState,
    spec: &PeerSpec,
    text: &FormattedText,
    options: SendOptions,
    random_id: i64,
) -> Result<MessageView, ApiError> {
    let peer = resolve(state, spec).await?;
    let request = tl::functions::messages::SendMessage {
        no_webpage: !options.link_preview,
        silent: options.silent,
        background: false,
        clear_draft: false,
        noforwards: false,
        update_stickersets_order: false,
        invert_media: false,
        allow_paid_floodskip: false,
        peer: peer.input_peer(),
        reply_to: options.reply_to.map(|id| {
            tl::types::InputReplyToMessage {
                reply_to_msg_id: id,
                top_msg_id: None,
                reply_to_peer_id: None,
                quote_text: None,
                quote_entities: None,
                quote_offset: None,
                monoforum_peer_id: None,
                todo_item_id: None,
                poll_option: None,
            }
            .into()
        }),
        message: text.text.clone(),
        random_id,
        reply_markup: None,
        entities: input_entities(state, &text.entities),
        schedule_date: None,
        schedule_repeat_period: None,
        send_as: None,
        quick_reply_shortcut: None,
        effect: None,
        allow_paid_stars: None,
        suggested_post: None,
        rich_message: None,
    };
    let scope = FloodScope::chat("messages.sendMessage", peer.id);
    let updates = invoke_in(&state.telegram, scope, request).await?;
    let (users, chats) = updates_peers(&updates);
    state.resolver.learn(users, chats);
    sent_message(&updates, random_id, target(&peer), &text.text)
        .ok_or_else(|| missing("the sent message"))
}

pub async fn edit(
    state: &AppState,
    spec: &PeerSpec,
    id: i32,
    text: &FormattedText,
    link_preview: bool,
) -> Result<MessageView, ApiError> {
    let peer = resolve(state, spec).await?;
    let request = tl::functions::messages::EditMessage {
        no_webpage: !link_preview,
        invert_media: false,
        peer: peer.input_peer(),
        id,
        message: Some(text.text.clone()),
        media: None,
        reply_markup: None,
        entities: input_entities(state, &text.entities),
        schedule_date: None,
        schedule_repeat_period: None,
        quick_reply_shortcut_id: None,
        rich_message: None,
    };
    let scope = FloodScope::chat("messages.editMessage", peer.id);
    let updates = invoke_in(&state.telegram, scope, request).await?;
    let (users, chats) = updates_peers(&updates);
    state.resolver.learn(users, chats);
    if let Some(view) = edited_message(&updates, id, target(&peer)) {
        return Ok(view);
    }
    // Telegram normally includes the edited message; read it back if it did not.
    let answer = get_messages(state, &peer, &[id]).await?;
    MessagesPage::of(&answer)
        .views(target(&peer))
        .into_iter()
        .next()
        .ok_or_else(|| missing("the edited message"))
}

/// `messages.getMessages` (or the channel variant) for `ids`; the answer's peers are learned.
async fn get_messages(
    state: &AppState,
    peer: &KnownPeer,
    ids: &[i32],
) -> Result<tl::enums::messages::Messages, ApiError> {
    let id: Vec<tl::enums::InputMessage> = ids
        .iter()
        .map(|&id| tl::types::InputMessageId { id }.into())
        .collect();
    let answer = if peer.is_channel() {
        let request = tl::functions::channels::GetMessages {
            channel: peer.peer_ref().into(),
            id,
        };
        invoke(&state.telegram, "channels.getMessages", request).await?
    } else {
        let request = tl::functions::messages::GetMessages { id };
        invoke(&state.telegram, "messages.getMessages", request).await?
    };
    let page = MessagesPage::of(&answer);
    state.resolver.learn(page.users, page.chats);
    Ok(answer)
}

/// Deletes `ids` in `spec`'s chat; answers how many were deleted (Telegram's `pts_count`:
/// one event per message actually removed, so ids already gone do not count).
pub async fn delete(
    state: &AppState,
    spec: &PeerSpec,
    ids: &[i32],
    revoke: bool,
) -> Result<usize, ApiError> {
    let peer = resolve(state, spec).await?;
    let affected = if peer.is_channel() {
        let request = tl::functions::channels::DeleteMessages {
            channel: peer.peer_ref().into(),
            id: ids.to_vec(),
        };
        invoke(&state.telegram, "channels.deleteMessages", request).await?
    } else {
        // messages.deleteMessages takes no peer, and ids are per account: keep only the ids
        // that are in this chat, so a wrong peer never deletes another chat's message.
        let answer = get_messages(state, &peer, ids).await?;
        let mine = MessagesPage::of(&answer).owned_ids(target(&peer));
        if mine.is_empty() {
            return Ok(0);
        }
        let request = tl::functions::messages::DeleteMessages { revoke, id: mine };
        invoke(&state.telegram, "messages.deleteMessages", request).await?
    };
    Ok(deleted_count(&affected))
}

pub async fn history(
    state: &AppState,
    spec: &PeerSpec,
    limit: usize,
    before_id: Option<i32>,
) -> Result<HistoryPage, ApiError> {
    let peer = resolve(state, spec).await?;
    let request = tl::functions::messages::GetHistory {
        peer: peer.input_peer(),
        offset_id: before_id.unwrap_or(0),
        offset_date: 0,
        add_offset: 0,
        limit: i32::try_from(limit).unwrap_or(100),
        max_id: 0,
        min_id: 0,
        hash: 0,
    };
    let scope = FloodScope::chat("messages.getHistory", peer.id);
    let answer = invoke_in(&state.telegram, scope, request).await?;
    let page = MessagesPage::of(&answer);
    state.resolver.learn(page.users, page.chats);
    Ok(HistoryPage {
        messages: page.views(target(&peer)),
        next_before_id: page.next_before_id(limit),
    })
}
