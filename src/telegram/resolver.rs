//! Peer resolution: what callers write (`@name`, `-100…`, `me`) to peers Telegram accepts.
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

use grammers_session::types::{PeerId, PeerKind};
use grammers_tl_types as tl;
use serde::{Deserialize, Serialize};

use super::flood::FloodScope;
use super::{ClientManager, TelegramError};
use crate::domain::PeerSpec;

mod known_peer;

pub use known_peer::KnownPeer;

const FILE_NAME: &str = "resolved-peers.json";
const FILE_VERSION: u32 = 1;

/// Why a peer could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// Telegram has no such peer, or mtgate has no way to address it yet (`telegram`: the
    /// RPC error name that said so, if any).
    #[error("{message}")]
    NotFound {
        message: String,
        telegram: Option<String>,
    },
    #[error(transparent)]
    Telegram(#[from] TelegramError),
}

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

/// Turns what callers write into peers Telegram accepts, caching what it learns.
pub struct PeerResolver {
    cache: Mutex<Cache>,
    file: PathBuf,
    /// Serializes Telegram lookups on cache misses, so concurrent requests for the same new
    /// username make one resolve call, not many.
    misses: tokio::sync::Mutex<()>,
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
            misses: tokio::sync::Mutex::new(()),
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

    /// The logged-in account, asked of Telegram once per process. Learning it also checks the
    /// saved cache belongs to this account (and drops it if not).
    pub async fn me(&self, tg: &ClientManager) -> Result<KnownPeer, ResolveError> {
        if let Some(me) = self.lock().me.clone() {
            return Ok(me);
        }
        let users = invoke(
            tg,
            "users.getUsers",
            tl::functions::users::GetUsers {
                id: vec![tl::enums::InputUser::UserSelf],
            },
        )
        .await?;
        let me = users
            .iter()
            .filter_map(KnownPeer::from_user)
            .find(|p| p.is_self)
            .ok_or_else(|| {
                TelegramError::Other("users.getUsers([self]) returned no self user".into())
            })?;
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
        Ok(me)
    }

    /// Resolves `spec`: from the cache when possible, else with one Telegram lookup.
    pub async fn resolve(
        &self,
        tg: &ClientManager,
        spec: &PeerSpec,
    ) -> Result<KnownPeer, ResolveError> {
        let me = self.me(tg).await?;
        if let Some(hit) = self.cached(spec, &me) {
            return Ok(hit);
        }
        let _one_at_a_time = self.misses.lock().await;
        if let Some(hit) = self.cached(spec, &me) {
            return Ok(hit);
        }
        match spec {
            PeerSpec::Me => Ok(me),
            PeerSpec::Username(name) => self.resolve_username(tg, name).await,
            PeerSpec::Id(id) => self.fetch_by_id(tg, *id).await,
        }
    }

    fn cached(&self, spec: &PeerSpec, me: &KnownPeer) -> Option<KnownPeer> {
        let cache = self.lock();
        match spec {
            PeerSpec::Me => Some(me.clone()),
            PeerSpec::Username(name) => cache.by_username(name),
            PeerSpec::Id(id) => cache.peers.get(&id.bot_api_dialog_id()?).cloned(),
        }
    }

    async fn resolve_username(
        &self,
        tg: &ClientManager,
        name: &str,
    ) -> Result<KnownPeer, ResolveError> {
        let tl::enums::contacts::ResolvedPeer::Peer(resolved) = invoke(
            tg,
            "contacts.resolveUsername",
            tl::functions::contacts::ResolveUsername {
                username: name.to_owned(),
                referer: None,
            },
        )
        .await?;
        self.learn(&resolved.users, &resolved.chats);
        let id = crate::domain::message::peer_id(&resolved.peer)
            .and_then(PeerId::bot_api_dialog_id)
            .ok_or_else(|| not_found(format!("@{name} resolved to an invalid id")))?;
        let mut cache = self.lock();
        let peer =
            cache.peers.get(&id).cloned().ok_or_else(|| {
                not_found(format!("Telegram gave no usable access hash for @{name}"))
            })?;
        // Index the name as asked, even if Telegram lists it differently.
        cache.usernames.insert(name.to_owned(), id);
        Ok(peer)
    }

    /// A numeric id seen for the first time: ask Telegram about it with no access hash, which
    /// works for basic groups and for users and channels Telegram lets this account see.
    async fn fetch_by_id(&self, tg: &ClientManager, id: PeerId) -> Result<KnownPeer, ResolveError> {
        let key = id.bot_api_dialog_id().unwrap_or_default();
        let unknown = |telegram: Option<String>| ResolveError::NotFound {
            message: format!(
                "peer {key} is unknown to this account: refer to it once by @username (or read a chat it writes in through this API) so mtgate learns its access hash"
            ),
            telegram,
        };
        // Without an access hash Telegram answers these for peers it will not show us.
        let no_access = |e: TelegramError| match e.rpc() {
            Some(rpc) if rpc.code == 400 && rpc.name.ends_with("_INVALID") => {
                unknown(Some(rpc.name.clone()))
            }
            _ => ResolveError::Telegram(e),
        };
        let bare = id.bare_id().unwrap_or_default();
        match id.kind() {
            PeerKind::User => {
                let users = invoke(
                    tg,
                    "users.getUsers",
                    tl::functions::users::GetUsers {
                        id: vec![
                            tl::types::InputUser {
                                user_id: bare,
                                access_hash: 0,
                            }
                            .into(),
                        ],
                    },
                )
                .await
                .map_err(no_access)?;
                self.learn(&users, &[]);
            }
            PeerKind::Chat => {
                let chats = invoke(
                    tg,
                    "messages.getChats",
                    tl::functions::messages::GetChats { id: vec![bare] },
                )
                .await
                .map_err(no_access)?;
                self.learn(&[], chats_of(&chats));
            }
            PeerKind::Channel => {
                let chats = invoke(
                    tg,
                    "channels.getChannels",
                    tl::functions::channels::GetChannels {
                        id: vec![
                            tl::types::InputChannel {
                                channel_id: bare,
                                access_hash: 0,
                            }
                            .into(),
                        ],
                    },
                )
                .await
                .map_err(no_access)?;
                self.learn(&[], chats_of(&chats));
            }
        }
        self.lock()
            .peers
            .get(&key)
            .cloned()
            .ok_or_else(|| unknown(None))
    }
}

fn not_found(message: String) -> ResolveError {
    ResolveError::NotFound {
        message,
        telegram: None,
    }
}

fn chats_of(chats: &tl::enums::messages::Chats) -> &[tl::enums::Chat] {
    match chats {
        tl::enums::messages::Chats::Chats(c) => &c.chats,
        tl::enums::messages::Chats::Slice(c) => &c.chats,
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

/// The one way mtgate's API code sends a raw TL request: through the client manager (span,
/// metrics, timeout, flood-wait policy, health bookkeeping). The request is cloned per
/// attempt so the manager may retry it (the bytes, `random_id` included, stay the same).
pub async fn invoke<R>(
    tg: &ClientManager,
    method: &'static str,
    request: R,
) -> Result<R::Return, TelegramError>
where
    R: tl::RemoteCall + Clone + Send + Sync + 'static,
{
    invoke_in(tg, FloodScope::method(method), request).await
}

/// [`invoke`] within a flood scope (e.g. one chat: a wait learned there blocks only it).
pub async fn invoke_in<R>(
    tg: &ClientManager,
    scope: FloodScope,
    request: R,
) -> Result<R::Return, TelegramError>
where
    R: tl::RemoteCall + Clone + Send + Sync + 'static,
{
    // `call_in` runs the closure once: the request moves in, no copy of its text.
    tg.call_in(
        scope,
        move |client| async move { client.invoke(&request).await },
    )
    .await
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
