//! The peer cache: what this account learned of peers (ids, access hashes, usernames).
//! Looking a peer up on Telegram after a miss is `telegram::ops::resolve`'s job.
//!
//! Telegram needs an *access hash* to talk to a user or channel, and only hands it out in
//! objects it returns (a username resolve, history, a send's updates). Everything learned is
//! kept in memory and in `MTGATE_STATE_DIR/resolved-peers.json`, so after a restart a numeric
//! id learned before still works without asking Telegram again (the old "Could not find the
//! input entity" pain), and `contacts.resolveUsername` — expensive, flood-prone — is only
//! called on a cache miss. We keep our own file rather than lean on grammers' session cache:
//! its persistence is the runtime's choice and undocumented for this use.
//!
//! The file records the account it belongs to; hashes are per account, so a file written
//! under another `TG_SESSION` is discarded on the first call (which learns `me`).

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use grammers_session::types::PeerId;
use grammers_tl_types as tl;
use serde::{Deserialize, Serialize};

use crate::domain::PeerSpec;

mod known_peer;

pub use known_peer::KnownPeer;

const FILE_NAME: &str = "resolved-peers.json";
const FILE_VERSION: u32 = 1;

#[derive(Default, Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    /// The account the hashes belong to.
    owner: Option<i64>,
    peers: Vec<KnownPeer>,
}

#[derive(Default)]
struct Cache {
    owner: Option<i64>,
    /// The logged-in account, learned once per process (this also validates `owner`).
    me: Option<KnownPeer>,
    peers: HashMap<i64, KnownPeer>,
    /// Lower-cased username → id.
    usernames: HashMap<String, i64>,
}

impl Cache {
    /// Records `peer`; true when something changed.
    fn learn(&mut self, peer: KnownPeer) -> bool {
        if self.peers.get(&peer.id) == Some(&peer) {
            return false;
        }
        if let Some(old) = self.peers.get(&peer.id) {
            for name in &old.usernames {
                let key = name.to_ascii_lowercase();
                if self.usernames.get(&key) == Some(&peer.id) {
                    self.usernames.remove(&key);
                }
            }
        }
        for name in &peer.usernames {
            self.usernames.insert(name.to_ascii_lowercase(), peer.id);
        }
        if peer.is_self {
            self.me = Some(peer.clone());
        }
        self.peers.insert(peer.id, peer);
        true
    }

    fn by_username(&self, name: &str) -> Option<KnownPeer> {
        let id = self.usernames.get(name)?;
        self.peers.get(id).cloned()
    }

    fn snapshot(&self) -> CacheFile {
        let mut peers: Vec<_> = self.peers.values().cloned().collect();
        peers.sort_by_key(|p| p.id);
        CacheFile {
            version: FILE_VERSION,
            owner: self.owner,
            peers,
        }
    }
}

/// What this account knows of peers (Telegram lookups on a miss are `telegram::ops`' job).
pub struct PeerResolver {
    cache: Mutex<Cache>,
    file: PathBuf,
}

impl PeerResolver {
    /// Loads what earlier runs learned from `state_dir` (creating it if needed). An unreadable
    /// file is moved aside with a warning: a cache must never stop the service.
    pub fn open(state_dir: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(state_dir)?;
        let file = state_dir.join(FILE_NAME);
        let mut cache = Cache::default();
        match std::fs::read(&file) {
            Ok(bytes) => match serde_json::from_slice::<CacheFile>(&bytes) {
                Ok(saved) if saved.version == FILE_VERSION => {
                    cache.owner = saved.owner;
                    for peer in saved.peers {
                        if PeerId::from_bot_api_dialog_id(peer.id).is_some() {
                            cache.learn(peer);
                        }
                    }
                    // `me` is re-learned from Telegram before first use.
                    cache.me = None;
                }
                Ok(_) | Err(_) => {
                    let aside = file.with_extension("json.unreadable");
                    tracing::warn!(path = %file.display(), "peer cache unreadable; starting empty");
                    std::fs::rename(&file, aside)?;
                }
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        Ok(Self {
            cache: Mutex::new(cache),
            file,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many peers are known (for tests and metrics).
    pub fn known(&self) -> usize {
        self.lock().peers.len()
    }

    /// A peer already known by its Bot-API id (no Telegram call).
    pub fn cached_by_id(&self, id: i64) -> Option<KnownPeer> {
        self.lock().peers.get(&id).cloned()
    }

    /// Records every usable peer in a Telegram answer (and persists if anything is new).
    pub fn learn(&self, users: &[tl::enums::User], chats: &[tl::enums::Chat]) {
        let learned = users
            .iter()
            .filter_map(KnownPeer::from_user)
            .chain(chats.iter().filter_map(KnownPeer::from_chat));
        let mut cache = self.lock();
        let mut changed = false;
        for peer in learned {
            changed |= cache.learn(peer);
        }
        if changed {
            self.persist(&cache);
        }
    }

    /// Writes the cache atomically (temp file + rename). Holding the lock while writing keeps
    /// writes ordered; the file is small. A failure is logged, not fatal: the in-memory cache
    /// still serves, only the restart guarantee is lost.
    fn persist(&self, cache: &Cache) {
        let result = serde_json::to_vec(&cache.snapshot())
            .map_err(io::Error::other)
            .and_then(|bytes| {
                let tmp = self.file.with_extension("json.tmp");
                std::fs::write(&tmp, bytes)?;
                restrict_permissions(&tmp)?;
                std::fs::rename(&tmp, &self.file)
            });
        if let Err(e) = result {
            tracing::error!(error = %e, path = %self.file.display(), "could not save the peer cache");
        }
    }

    /// A peer already known for `spec` (no Telegram call). `me` is known once
    /// [`Self::adopt_owner`] ran in this process.
    pub fn cached(&self, spec: &PeerSpec) -> Option<KnownPeer> {
        let cache = self.lock();
        match spec {
            PeerSpec::Me => cache.me.clone(),
            PeerSpec::Username(name) => cache.by_username(name),
            PeerSpec::Id(id) => cache.peers.get(&id.value()).cloned(),
        }
    }

    /// Records the logged-in account. The saved hashes belong to one account: when they were
    /// written under another one, they are dropped.
    pub fn adopt_owner(&self, me: &KnownPeer) {
        let mut cache = self.lock();
        if cache.owner != Some(me.id) {
            if cache.owner.is_some() {
                tracing::warn!("the saved peer cache belongs to another account; discarding it");
                cache.peers.clear();
                cache.usernames.clear();
            }
            cache.owner = Some(me.id);
        }
        cache.learn(me.clone());
        self.persist(&cache);
    }

    /// Indexes `name` (as the caller wrote it) for the known peer `id`, even when Telegram
    /// lists the name differently; `None` when `id` is not known.
    pub fn index_username(&self, name: &str, id: i64) -> Option<KnownPeer> {
        let mut cache = self.lock();
        let peer = cache.peers.get(&id).cloned()?;
        cache.usernames.insert(name.to_owned(), id);
        Some(peer)
    }
}

#[cfg(unix)]
fn restrict_permissions(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn restrict_permissions(_: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::known_peer::fixtures::*;
    use super::*;

    #[test]
    fn what_is_learned_survives_a_reopen_of_the_state_dir() {
        let dir = tempdir();
        let resolver = PeerResolver::open(&dir).unwrap();
        resolver.learn(
            &[user(42, Some(99), Some("ada"), false)],
            &[forbidden_channel(5, true)],
        );
        assert_eq!(resolver.known(), 2);
        drop(resolver);

        let reopened = PeerResolver::open(&dir).unwrap();
        assert_eq!(reopened.known(), 2);
        let cache = reopened.lock();
        assert_eq!(cache.by_username("ada").map(|p| p.hash), Some(99));
        assert_eq!(cache.peers[&-1000000000005].hash, 77);
    }

    #[test]
    fn a_username_that_moves_points_at_its_new_owner() {
        let dir = tempdir();
        let resolver = PeerResolver::open(&dir).unwrap();
        resolver.learn(&[user(1, Some(10), Some("name"), false)], &[]);
        resolver.learn(&[user(2, Some(20), Some("name"), false)], &[]);
        resolver.learn(&[user(1, Some(10), Some("other"), false)], &[]);
        let cache = resolver.lock();
        assert_eq!(cache.by_username("name").map(|p| p.id), Some(2));
        assert_eq!(cache.by_username("other").map(|p| p.id), Some(1));
    }

    #[test]
    fn an_unreadable_cache_file_is_set_aside_not_fatal() {
        let dir = tempdir();
        std::fs::write(dir.join(FILE_NAME), b"{not json").unwrap();
        let resolver = PeerResolver::open(&dir).unwrap();
        assert_eq!(resolver.known(), 0);
        assert!(dir.join("resolved-peers.json.unreadable").exists());
    }

    /// A fresh directory under the system temp dir, unique per test.
    fn tempdir() -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "mtgate-resolver-{}-{}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    /// Removed with its contents when dropped.
    struct TempDir(PathBuf);

    impl std::ops::Deref for TempDir {
        type Target = Path;
        fn deref(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
