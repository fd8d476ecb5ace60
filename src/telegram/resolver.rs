//! Peer resolution: domain peers to Telegram peers, cached in memory and under
//! `MTGATE_STATE_DIR` (stub: the messages API work fills it in).

use std::path::Path;

/// Turns what callers write (`@name`, `-100…`, `me`) into peers Telegram accepts.
pub struct PeerResolver {}

impl PeerResolver {
    /// Loads what earlier runs learned from `state_dir` (creating it if needed).
    pub fn open(state_dir: &Path) -> std::io::Result<Self> {
        let _ = state_dir;
        Ok(Self {})
    }
}
