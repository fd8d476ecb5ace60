//! Peer resolution: what callers write (`@name`, `-100…`, `me`) to peers Telegram accepts.
//!
//! Telegram needs an *access hash* to talk to a user or channel, and only hands it out in
//! objects it returns (a username resolve, history, a send's updates). Everything learned is
//! kept in memory and in the account's store (the one peer table the grammers session also
//! fills), so after a restart a numeric id learned before still works without asking
//! Telegram again (the old "Could not find the input entity" pain), and
//! `contacts.resolveUsername` — expensive, flood-prone — is only called on a cache miss.
//!
//! Hashes are per Telegram user: the first call learns `me`, and if the store knew another
//! self user, the peers learned under it are forgotten.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use grammers_session::types::{PeerId, PeerKind};
use grammers_tl_types as tl;

use super::{ClientManager, TelegramError, peer_records};
use crate::domain::PeerSpec;
use crate::store::{AccountStore, StoreError};

mod known_peer;

pub use known_peer::KnownPeer;

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

#[derive(Default)]
struct Cache {
    /// The logged-in account, learned once per process (which also checks the stored peers).
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
}

/// Turns what callers write into peers Telegram accepts, caching what it learns.
pub struct PeerResolver {
    cache: Mutex<Cache>,
    store: AccountStore,
    /// Serializes Telegram lookups on cache misses, so concurrent requests for the same new
    /// username make one resolve call, not many.
    misses: tokio::sync::Mutex<()>,
}

impl PeerResolver {
    /// Loads what earlier runs of `store`'s account learned (peers with a usable hash, and
    /// the username index).
    pub async fn open(store: AccountStore) -> Result<Self, StoreError> {
        let mut cache = Cache::default();
        for record in store.peers().await? {
            if let Some(peer) = peer_records::to_known(&record) {
                cache.learn(peer);
            }
        }
        // The stored index is the truth for names (it keeps names moved and names as asked).
        cache.usernames = store
            .usernames()
            .await?
            .into_iter()
            .filter(|(_, id)| cache.peers.contains_key(id))
            .collect();
        // `me` is re-learned from Telegram before first use.
        cache.me = None;
        Ok(Self {
            cache: Mutex::new(cache),
            store,
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
        let changed: Vec<_> = learned
            .filter(|peer| cache.learn(peer.clone()))
            .map(|peer| peer_records::from_known(&peer))
            .collect();
        self.persist(changed);
    }

    /// Queues learned peers for the store. A failure is logged, not fatal: the in-memory
    /// cache still serves, only the restart guarantee is lost.
    fn persist(&self, peers: Vec<crate::store::PeerRecord>) {
        if let Err(e) = self.store.save_peers(peers) {
            tracing::error!(error = %e, "could not store learned peers");
        }
    }

    /// The logged-in account, asked of Telegram once per process. Learning it also checks the
    /// stored peers belong to this account (and drops them if not).
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
        match self.store.bind_self(me.id).await {
            Ok(false) => {}
            Ok(true) => {
                tracing::warn!("the stored peers belonged to another Telegram user; discarded");
                let mut cache = self.lock();
                cache.peers.clear();
                cache.usernames.clear();
            }
            Err(e) => tracing::error!(error = %e, "could not record the self user"),
        }
        let mut cache = self.lock();
        cache.learn(me.clone());
        self.persist(vec![peer_records::from_known(&me)]);
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
        if let Err(e) = self.store.save_username(name, id) {
            tracing::error!(error = %e, "could not store a username");
        }
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
    tg.call(method, |client| {
        let request = request.clone();
        async move { client.invoke(&request).await }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::known_peer::fixtures::*;
    use super::*;
    use crate::store::Store;

    #[tokio::test]
    async fn what_is_learned_survives_a_reopen_of_the_store() {
        let store = Store::open_in_memory().await.unwrap();
        let resolver = PeerResolver::open(store.account("default")).await.unwrap();
        resolver.learn(
            &[user(42, Some(99), Some("ada"), false)],
            &[forbidden_channel(5, true)],
        );
        assert_eq!(resolver.known(), 2);
        drop(resolver);
        store.flush().await.unwrap();

        let reopened = PeerResolver::open(store.account("default")).await.unwrap();
        assert_eq!(reopened.known(), 2);
        let cache = reopened.lock();
        assert_eq!(cache.by_username("ada").map(|p| p.hash), Some(99));
        assert_eq!(cache.peers[&-1000000000005].hash, 77);
        assert_eq!(
            cache.peers[&-1000000000005].kind,
            crate::domain::PeerType::Channel
        );
    }

    #[tokio::test]
    async fn a_username_that_moves_points_at_its_new_owner() {
        let store = Store::open_in_memory().await.unwrap();
        let resolver = PeerResolver::open(store.account("default")).await.unwrap();
        resolver.learn(&[user(1, Some(10), Some("name"), false)], &[]);
        resolver.learn(&[user(2, Some(20), Some("name"), false)], &[]);
        resolver.learn(&[user(1, Some(10), Some("other"), false)], &[]);
        {
            let cache = resolver.lock();
            assert_eq!(cache.by_username("name").map(|p| p.id), Some(2));
            assert_eq!(cache.by_username("other").map(|p| p.id), Some(1));
        }
        store.flush().await.unwrap();
        let reopened = PeerResolver::open(store.account("default")).await.unwrap();
        let cache = reopened.lock();
        assert_eq!(cache.by_username("name").map(|p| p.id), Some(2));
        assert_eq!(cache.by_username("other").map(|p| p.id), Some(1));
    }
}
