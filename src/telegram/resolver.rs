//! The peer cache: what this account learned of peers (ids, access hashes, usernames).
//! Looking a peer up on Telegram after a miss is `telegram::ops::resolve`'s job.
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

use grammers_tl_types as tl;

use super::peer_records;
use crate::domain::{self, PeerSpec};
use crate::store::{AccountStore, PeerRecord, StoreError};

mod known_peer;

pub use known_peer::KnownPeer;

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

/// What this account knows of peers (Telegram lookups on a miss are `telegram::ops`' job).
pub struct PeerResolver {
    cache: Mutex<Cache>,
    store: AccountStore,
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
    fn persist(&self, peers: Vec<PeerRecord>) {
        if let Err(e) = self.store.save_peers(peers) {
            tracing::error!(error = %e, "could not store learned peers");
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

    /// Every form the cache knows `spec`'s chat by, without asking Telegram: its Bot-API id,
    /// the usernames that point at it now (a name that moved to another chat no longer
    /// counts), and `me` for the account itself. Empty when the chat is unknown.
    pub fn known_forms(&self, spec: &PeerSpec) -> Vec<PeerSpec> {
        let cache = self.lock();
        let id = match spec {
            PeerSpec::Me => cache.me.as_ref().map(|me| me.id),
            PeerSpec::Username(name) => cache.usernames.get(name).copied(),
            PeerSpec::Id(id) => Some(id.value()),
        };
        let Some(peer) = id.and_then(|id| cache.peers.get(&id)) else {
            return Vec::new();
        };
        let mut forms: Vec<PeerSpec> = cache
            .usernames
            .iter()
            .filter(|(_, owner)| **owner == peer.id)
            .map(|(name, _)| PeerSpec::Username(name.clone()))
            .collect();
        forms.extend(domain::PeerId::from_bot_api_dialog_id(peer.id).map(PeerSpec::Id));
        if peer.is_self {
            forms.push(PeerSpec::Me);
        }
        forms
    }

    /// A user or channel the store knows with an access hash although this cache does not:
    /// the grammers session shares the peer table and learns peers from updates and answers
    /// this cache never sees. Found peers join the cache. Basic groups are left to Telegram
    /// (they need no hash, and the lookup tells whether the account is in the group).
    pub async fn stored(&self, id: domain::PeerId) -> Result<Option<KnownPeer>, StoreError> {
        if id.kind() == domain::PeerKind::Chat {
            return Ok(None);
        }
        // What grammers queued a moment ago (the update that named this peer) counts too.
        if let Err(e) = self.store.store().flush().await {
            tracing::warn!(error = %e, "some learned peers were not stored; reading the rest");
        }
        let Some(peer) = self
            .store
            .peer(id.value())
            .await?
            .as_ref()
            .and_then(peer_records::to_known)
            .filter(|peer| peer.hash != 0)
        else {
            return Ok(None);
        };
        // Already stored: only the cache learns it (storing it again would mark its
        // usernames, unknown to grammers, as none).
        self.lock().learn(peer.clone());
        Ok(Some(peer))
    }

    /// Records the logged-in account. Stored hashes belong to one Telegram user: when they
    /// were learned under another one, they are dropped (here and in the store).
    pub async fn adopt_owner(&self, me: &KnownPeer) {
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
        self.lock().learn(me.clone());
        self.persist(vec![peer_records::from_known(me)]);
    }

    /// Indexes `name` (as the caller wrote it) for the known peer `id`, even when Telegram
    /// lists the name differently; `None` when `id` is not known.
    pub fn index_username(&self, name: &str, id: i64) -> Option<KnownPeer> {
        let mut cache = self.lock();
        let peer = cache.peers.get(&id).cloned()?;
        cache.usernames.insert(name.to_owned(), id);
        if let Err(e) = self.store.save_username(name, id) {
            tracing::error!(error = %e, "could not store a username");
        }
        Some(peer)
    }

    /// The account's view of the store (its name names the account).
    pub fn store(&self) -> &AccountStore {
        &self.store
    }
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

    #[tokio::test]
    async fn known_forms_pair_ids_with_the_names_that_point_at_them_now() {
        let store = Store::open_in_memory().await.unwrap();
        let resolver = PeerResolver::open(store.account("default")).await.unwrap();
        let spec = |s: &str| PeerSpec::parse(s).unwrap();
        resolver.learn(&[user(1, Some(10), Some("name"), false)], &[]);
        assert_eq!(
            resolver.known_forms(&spec("@name")),
            [spec("@name"), spec("1")]
        );
        assert_eq!(resolver.known_forms(&spec("1")), [spec("@name"), spec("1")]);
        assert!(resolver.known_forms(&spec("@nobody")).is_empty());
        assert!(resolver.known_forms(&spec("2")).is_empty());
        // The name moves to user 2 before user 1 is seen again: it no longer names user 1.
        resolver.learn(&[user(2, Some(20), Some("name"), false)], &[]);
        assert_eq!(resolver.known_forms(&spec("1")), [spec("1")]);
        assert_eq!(
            resolver.known_forms(&spec("@name")),
            [spec("@name"), spec("2")]
        );
    }

    #[tokio::test]
    async fn a_miss_finds_users_and_channels_the_session_stored_but_not_basic_groups() {
        let store = Store::open_in_memory().await.unwrap();
        let resolver = PeerResolver::open(store.account("default")).await.unwrap();
        let session_learned = |id: i64, hash: Option<i64>| PeerRecord {
            id,
            access_hash: hash,
            ..PeerRecord::default()
        };
        let account = store.account("default");
        account
            .save_peers(vec![
                session_learned(42, Some(4242)),
                session_learned(43, None),
                session_learned(-1000000000005, Some(55)),
                session_learned(-9, None),
            ])
            .unwrap();
        let id = |id| domain::PeerId::from_bot_api_dialog_id(id).unwrap();

        let user = resolver
            .stored(id(42))
            .await
            .unwrap()
            .expect("a stored user");
        assert_eq!(
            (user.hash, user.kind),
            (4242, crate::domain::PeerType::User)
        );
        assert_eq!(resolver.cached_by_id(42), Some(user), "the cache learns it");
        let channel = resolver.stored(id(-1000000000005)).await.unwrap();
        assert_eq!(channel.map(|c| c.hash), Some(55));
        assert_eq!(resolver.stored(id(43)).await.unwrap(), None, "no hash");
        assert_eq!(resolver.stored(id(-9)).await.unwrap(), None, "basic group");
        assert_eq!(resolver.stored(id(44)).await.unwrap(), None, "not stored");
        assert!(store.account("other").peer(42).await.unwrap().is_none());
    }
}
