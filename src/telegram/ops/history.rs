//! Reading messages: a chat's history page, and messages by id.

use grammers_tl_types as tl;

use super::answers::MessagesPage;
use super::{TelegramAccount, target};
use crate::domain::{HistoryPage, PeerSpec};
use crate::telegram::TelegramError;
use crate::telegram::resolver::KnownPeer;

impl TelegramAccount {
    /// Up to `limit` messages of `spec`'s chat older than `before_id`, newest first.
    pub async fn history(
        &self,
        spec: &PeerSpec,
        limit: usize,
        before_id: Option<i32>,
    ) -> Result<HistoryPage, TelegramError> {
        let peer = self.resolve(spec).await?;
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
        let answer = self.call_in_chat(Some(peer.id), request).await?;
        let page = MessagesPage::of(&answer);
        Ok(HistoryPage {
            messages: page.views(target(&peer)),
            next_before_id: page.next_before_id(limit),
        })
    }

    /// `messages.getMessages` (or the channel variant) for `ids`; the answer's peers are
    /// learned.
    pub(super) async fn get_messages(
        &self,
        peer: &KnownPeer,
        ids: &[i32],
    ) -> Result<tl::enums::messages::Messages, TelegramError> {
        let id: Vec<tl::enums::InputMessage> = ids
            .iter()
            .map(|&id| tl::types::InputMessageId { id }.into())
            .collect();
        let answer = if peer.is_channel() {
            let request = tl::functions::channels::GetMessages {
                channel: peer.peer_ref().into(),
                id,
            };
            self.call(request).await?
        } else {
            self.call(tl::functions::messages::GetMessages { id })
                .await?
        };
        Ok(answer)
    }
}
