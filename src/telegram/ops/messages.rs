//! Sending and editing text. Raw `messages.sendMessage` rather than grammers' `send_message`
//! because mtgate must choose the `random_id` (derived from the Idempotency-Key).

use grammers_tl_types as tl;

use super::answers::{MessagesPage, edited_message, sent_message};
use super::{TelegramAccount, target};
use crate::domain::{MessageView, PeerId, PeerSpec, SendOptions};
use crate::telegram::TelegramError;
use crate::telegram::invoke::Waits;
use crate::telegram::text::FormattedText;

impl TelegramAccount {
    /// Sends `text` to `spec`'s chat with this `random_id` (the same id never posts twice).
    pub async fn send(
        &self,
        spec: &PeerSpec,
        text: &FormattedText,
        options: SendOptions,
        random_id: i64,
    ) -> Result<MessageView, TelegramError> {
        self.send_with(spec, text, options, random_id, Waits::Sleep)
            .await
    }

    /// [`Self::send`], choosing what happens to short flood waits (the outbox has them all
    /// handed back).
    pub async fn send_with(
        &self,
        spec: &PeerSpec,
        text: &FormattedText,
        options: SendOptions,
        random_id: i64,
        waits: Waits,
    ) -> Result<MessageView, TelegramError> {
        let peer = self.resolve(spec).await?;
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
            reply_to: options.reply_to.map(reply_to),
            message: text.text.clone(),
            random_id,
            reply_markup: None,
            entities: self.input_entities(&text.entities),
            schedule_date: None,
            schedule_repeat_period: None,
            send_as: None,
            quick_reply_shortcut: None,
            effect: None,
            allow_paid_stars: None,
            suggested_post: None,
            rich_message: None,
        };
        let updates = self.call_with(Some(peer.id), request, waits).await?;
        sent_message(&updates, random_id, target(&peer), &text.text)
            .ok_or_else(|| TelegramError::Incomplete("the sent message".into()))
    }

    /// Replaces the text of message `id` in `spec`'s chat.
    pub async fn edit(
        &self,
        spec: &PeerSpec,
        id: i32,
        text: &FormattedText,
        link_preview: bool,
    ) -> Result<MessageView, TelegramError> {
        let peer = self.resolve(spec).await?;
        let request = tl::functions::messages::EditMessage {
            no_webpage: !link_preview,
            invert_media: false,
            peer: peer.input_peer(),
            id,
            message: Some(text.text.clone()),
            media: None,
            reply_markup: None,
            entities: self.input_entities(&text.entities),
            schedule_date: None,
            schedule_repeat_period: None,
            quick_reply_shortcut_id: None,
            rich_message: None,
        };
        let updates = self.call_in_chat(Some(peer.id), request).await?;
        if let Some(view) = edited_message(&updates, id, target(&peer)) {
            return Ok(view);
        }
        // Telegram normally includes the edited message; read it back if it did not.
        let answer = self.get_messages(&peer, &[id]).await?;
        MessagesPage::of(&answer)
            .views(target(&peer))
            .into_iter()
            .next()
            .ok_or_else(|| TelegramError::Incomplete("the edited message".into()))
    }

    /// Entities as a send takes them: mentions by user id need the user's access hash.
    pub(super) fn input_entities(
        &self,
        entities: &[tl::enums::MessageEntity],
    ) -> Option<Vec<tl::enums::MessageEntity>> {
        if entities.is_empty() {
            return None;
        }
        let converted = entities
            .iter()
            .map(|entity| match entity {
                tl::enums::MessageEntity::MentionName(m) => {
                    let hash = PeerId::user(m.user_id)
                        .and_then(|id| self.peers.cached(&PeerSpec::Id(id)))
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
}

pub(super) fn reply_to(id: i32) -> tl::enums::InputReplyTo {
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
}
