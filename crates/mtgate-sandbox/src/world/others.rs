//! Control operations for what other users do in the account's chats: edits, deletions and
//! bursts of incoming messages (for tests and benchmarks of update handling).

use super::handlers;
use super::{ControlError, MessageView, World, now};

impl World {
    /// The sender of message `id` in `peer` (the account's view of the chat) edits it.
    pub fn incoming_edit(
        &self,
        peer: &str,
        id: i32,
        text: &str,
    ) -> Result<MessageView, ControlError> {
        let mut state = self.lock();
        let chat = state
            .parse_peer(peer)
            .ok_or_else(|| ControlError::UnknownPeer(peer.to_string()))?;
        let message = handlers::edit_by_other(&mut state, &self.bus, chat, id, text, now())?;
        Ok(MessageView::of(
            &message,
            state.channel_kind(chat),
            state.is_read(&message),
        ))
    }

    /// The senders of messages `ids` in `peer` delete them for everyone; the ids deleted.
    pub fn incoming_delete(&self, peer: &str, ids: &[i32]) -> Result<Vec<i32>, ControlError> {
        let mut state = self.lock();
        let chat = state
            .parse_peer(peer)
            .ok_or_else(|| ControlError::UnknownPeer(peer.to_string()))?;
        Ok(handlers::delete_by_other(
            &mut state,
            &self.bus,
            chat,
            ids,
            now(),
        )?)
    }

    /// Delivers `count` messages `"{text} #{n}"` (n from 1) from `from`, as
    /// [`World::incoming`] does one by one; the delivered messages' ids, in order.
    pub fn incoming_burst(
        &self,
        from: &str,
        peer: Option<&str>,
        text: &str,
        count: u32,
    ) -> Result<Vec<i32>, ControlError> {
        let mut ids = Vec::with_capacity(count as usize);
        for n in 1..=count {
            ids.push(self.incoming(from, peer, &format!("{text} #{n}"))?.id);
        }
        Ok(ids)
    }
}
