//! The everyday chat actions: forward, pin / unpin, mark read, typing. Raw TL so mtgate
//! chooses the forward's `random_id` (from the Idempotency-Key) and the read's method
//! (channels have their own).

use grammers_tl_types as tl;

use super::answers::sent_message;
use super::{TelegramAccount, target};
use crate::domain::{ChatAction, ForwardOptions, MessageView, PeerSpec};
use crate::telegram::TelegramError;

impl TelegramAccount {
    /// Forwards message `id` of `from`'s chat to `to`'s chat; answers the new message.
    pub async fn forward(
        &self,
        from: &PeerSpec,
        id: i32,
        to: &PeerSpec,
        options: ForwardOptions,
        random_id: i64,
    ) -> Result<MessageView, TelegramError> {
        let source = self.resolve(from).await?;
        let destination = self.resolve(to).await?;
        let request = tl::functions::messages::ForwardMessages {
            silent: options.silent,
            background: false,
            with_my_score: false,
            drop_author: options.drop_author,
            drop_media_captions: false,
            noforwards: false,
            allow_paid_floodskip: false,
            from_ephemeral: false,
            from_peer: source.input_peer(),
            id: vec![id],
            random_id: vec![random_id],
            to_peer: destination.input_peer(),
            top_msg_id: None,
            reply_to: None,
            schedule_date: None,
            schedule_repeat_period: None,
            send_as: None,
            quick_reply_shortcut: None,
            effect: None,
            video_timestamp: None,
            allow_paid_stars: None,
            suggested_post: None,
        };
        let updates = self.call(request).await?;
        // A forward is never answered in the short form, so the text comes from Telegram.
        sent_message(&updates, random_id, target(&destination), "")
            .ok_or_else(|| TelegramError::Incomplete("the forwarded message".into()))
    }

    /// Pins (or unpins) message `id` in `spec`'s chat; `silent` pins without notifying.
    pub async fn set_pinned(
        &self,
        spec: &PeerSpec,
        id: i32,
        pinned: bool,
        silent: bool,
    ) -> Result<(), TelegramError> {
        let peer = self.resolve(spec).await?;
        let request = tl::functions::messages::UpdatePinnedMessage {
            silent,
            unpin: !pinned,
            pm_oneside: false,
            peer: peer.input_peer(),
            id,
        };
        self.call(request).await?;
        Ok(())
    }

    /// Marks `spec`'s chat read up to `max_id` (everything when `None`).
    pub async fn mark_read(
        &self,
        spec: &PeerSpec,
        max_id: Option<i32>,
    ) -> Result<(), TelegramError> {
        let peer = self.resolve(spec).await?;
        let max_id = max_id.unwrap_or(0);
        if peer.is_channel() {
            let request = tl::functions::channels::ReadHistory {
                channel: peer.peer_ref().into(),
                max_id,
            };
            self.call(request).await?;
        } else {
            let request = tl::functions::messages::ReadHistory {
                peer: peer.input_peer(),
                max_id,
            };
            self.call(request).await?;
        }
        Ok(())
    }

    /// Shows `action` in `spec`'s chat.
    pub async fn send_action(
        &self,
        spec: &PeerSpec,
        action: ChatAction,
    ) -> Result<(), TelegramError> {
        let peer = self.resolve(spec).await?;
        let request = tl::functions::messages::SetTyping {
            peer: peer.input_peer(),
            top_msg_id: None,
            action: tl_action(action),
        };
        self.call(request).await?;
        Ok(())
    }
}

fn tl_action(action: ChatAction) -> tl::enums::SendMessageAction {
    use tl::enums::SendMessageAction as A;
    match action {
        ChatAction::Typing => A::SendMessageTypingAction,
        ChatAction::Cancel => A::SendMessageCancelAction,
        ChatAction::RecordVideo => A::SendMessageRecordVideoAction,
        ChatAction::UploadVideo => tl::types::SendMessageUploadVideoAction { progress: 0 }.into(),
        ChatAction::RecordVoice => A::SendMessageRecordAudioAction,
        ChatAction::UploadVoice => tl::types::SendMessageUploadAudioAction { progress: 0 }.into(),
        ChatAction::UploadPhoto => tl::types::SendMessageUploadPhotoAction { progress: 0 }.into(),
        ChatAction::UploadDocument => {
            tl::types::SendMessageUploadDocumentAction { progress: 0 }.into()
        }
        ChatAction::ChooseSticker => A::SendMessageChooseStickerAction,
    }
}
