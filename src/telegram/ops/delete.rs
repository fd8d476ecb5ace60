//! Deleting messages of one chat.

use grammers_tl_types as tl;

use super::answers::{MessagesPage, deleted_count};
use super::{TelegramAccount, target};
use crate::domain::PeerSpec;
use crate::telegram::TelegramError;

impl TelegramAccount {
    /// Deletes `ids` in `spec`'s chat; answers how many were deleted (Telegram's `pts_count`:
    /// one event per message actually removed, so ids already gone do not count).
    pub async fn delete(
        &self,
        spec: &PeerSpec,
        ids: &[i32],
        revoke: bool,
    ) -> Result<usize, TelegramError> {
        let peer = self.resolve(spec).await?;
        let affected = if peer.is_channel() {
            let request = tl::functions::channels::DeleteMessages {
                channel: peer.peer_ref().into(),
                id: ids.to_vec(),
            };
            self.call(request).await?
        } else {
            // messages.deleteMessages takes no peer, and ids are per account: keep only the
            // ids that are in this chat, so a wrong peer never deletes another chat's message.
            let answer = self.get_messages(&peer, ids).await?;
            let mine = MessagesPage::of(&answer).owned_ids(target(&peer));
            if mine.is_empty() {
                return Ok(0);
            }
            let request = tl::functions::messages::DeleteMessages { revoke, id: mine };
            self.call(request).await?
        };
        Ok(deleted_count(&affected))
    }
}
