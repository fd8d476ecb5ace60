//! Typed operations on one account's Telegram: send, edit, delete, history, resolve, session
//! info. Each resolves the peer, makes its calls through the client manager and learns the
//! peers the answers carry, in one place, and answers with `domain` types or a
//! [`TelegramError`]. Raw TL rather than grammers' high-level calls where mtgate must choose
//! details itself (the `random_id` derived from an Idempotency-Key, the ids a delete may touch).
//!
//! - [`resolve`]: peers from the cache, or one coalesced Telegram lookup per peer.
//! - [`messages`]: send and edit; [`delete`]; [`history`].
//! - `media_upload` (streaming parts), `media` (send, album, download windows),
//!   `media_input` (what a send names a file by), `media_stored` (files registered for
//!   the outbox),
//!   [`media_info`] (raw media read into domain types).
//! - [`actions`]: forward, pin, mark read, typing; [`dialogs`]: the chat list.
//! - `learn`: the one call path (invoke, then learn the answer's peers) every op uses.
//! - [`answers`] / [`convert`]: reading Telegram's answers into domain types (pure, unit-tested).

mod actions;
pub mod answers;
pub mod convert;
mod delete;
mod dialogs;
mod history;
mod learn;
mod media;
pub mod media_info;
mod media_input;
mod media_stored;
mod media_upload;
mod messages;
mod resolve;

use std::sync::Arc;

use super::resolver::{KnownPeer, PeerResolver};
use super::{ClientManager, TelegramError};
use crate::domain::{Peer, SessionInfo};
use answers::Target;
pub use media::{FileLocation, MAX_ALBUM};
pub use media_input::guess_mime;
pub use media_upload::{BIG_FILE_THRESHOLD, FileUpload, UploadError, UploadedFile};

/// One account's side of Telegram: its client manager and what it knows of peers.
pub struct TelegramAccount {
    manager: Arc<ClientManager>,
    peers: Arc<PeerResolver>,
    lookups: resolve::Lookups,
}

impl TelegramAccount {
    pub fn new(manager: Arc<ClientManager>, peers: Arc<PeerResolver>) -> Self {
        Self {
            manager,
            peers,
            lookups: resolve::Lookups::default(),
        }
    }

    /// The client manager (connection health, metrics, shutdown).
    pub fn manager(&self) -> &Arc<ClientManager> {
        &self.manager
    }

    /// The peer cache (how many peers are known, for tests and metrics).
    pub fn peers(&self) -> &Arc<PeerResolver> {
        &self.peers
    }

    /// Who the session is logged in as, fetched live (so a revoked key is noticed here).
    pub async fn session_info(&self) -> Result<SessionInfo, TelegramError> {
        let me = self.manager.me().await?;
        Ok(SessionInfo {
            me,
            dc_id: self.manager.dc_id(),
        })
    }
}

fn target(peer: &KnownPeer) -> Target {
    Target {
        id: peer.id,
        kind: peer.kind,
    }
}

impl From<&KnownPeer> for Peer {
    fn from(peer: &KnownPeer) -> Self {
        Self {
            id: peer.id,
            kind: peer.kind,
            username: peer.username().map(str::to_owned),
            title: peer.title.clone(),
        }
    }
}
