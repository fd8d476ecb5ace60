//! Peers from what callers write: from the cache when known, else from the store (a peer
//! the grammers session learned), else one Telegram lookup.
//!
//! Misses are coalesced per peer: concurrent requests for the same unknown peer share one
//! lookup (one `contacts.resolveUsername`, which is expensive and flood-prone), while lookups
//! of different peers run side by side, so one that sleeps through a flood wait holds up
//! nobody else.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use grammers_session::types::PeerId;
use grammers_tl_types as tl;
use tokio::sync::OnceCell;

use super::TelegramAccount;
use super::convert::peer_id;
use crate::domain::{self, Peer, PeerSpec};
use crate::telegram::TelegramError;
use crate::telegram::error::RefusalKind;
use crate::telegram::resolver::KnownPeer;

type Outcome = Result<KnownPeer, TelegramError>;

/// The lookups in flight, one per peer.
#[derive(Default)]
pub(super) struct Lookups {
    inflight: Mutex<HashMap<PeerSpec, Arc<OnceCell<Outcome>>>>,
}

impl Lookups {
    /// Runs `lookup` for `key`, or, when one is already running, waits for its outcome. If
    /// the caller running it goes away, a waiting caller takes over.
    async fn coalesce<F, Fut>(&self, key: &PeerSpec, lookup: F) -> Outcome
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Outcome>,
    {
        let cell = self.map().entry(key.clone()).or_default().clone();
        let outcome = cell.get_or_init(lookup).await.clone();
        let mut map = self.map();
        if map.get(key).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
            map.remove(key);
        }
        outcome
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<PeerSpec, Arc<OnceCell<Outcome>>>> {
        self.inflight.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl TelegramAccount {
    /// Every form the cache knows `spec`'s chat by (see [`PeerResolver::known_forms`]).
    ///
    /// [`PeerResolver::known_forms`]: crate::telegram::resolver::PeerResolver::known_forms
    pub fn known_forms(&self, spec: &PeerSpec) -> Vec<PeerSpec> {
        self.peers.known_forms(spec)
    }

    /// Describes the peer `spec` names.
    pub async fn describe(&self, spec: &PeerSpec) -> Result<Peer, TelegramError> {
        Ok(Peer::from(&self.resolve(spec).await?))
    }

    /// The logged-in account, asked of Telegram once per process. Learning it also checks
    /// that the stored peers belong to this Telegram user.
    pub(super) async fn me(&self) -> Outcome {
        if let Some(me) = self.peers.cached(&PeerSpec::Me) {
            return Ok(me);
        }
        self.lookups
            .coalesce(&PeerSpec::Me, || self.fetch_me())
            .await
    }

    /// Resolves `spec`: from the cache when possible, else with one (shared) lookup.
    pub(super) async fn resolve(&self, spec: &PeerSpec) -> Outcome {
        let me = self.me().await?;
        if matches!(spec, PeerSpec::Me) {
            return Ok(me);
        }
        if let Some(hit) = self.peers.cached(spec) {
            return Ok(hit);
        }
        self.lookups
            .coalesce(spec, || async move {
                // A lookup that finished between our miss and now taught the cache.
                if let Some(hit) = self.peers.cached(spec) {
                    return Ok(hit);
                }
                match spec {
                    PeerSpec::Me => Ok(me),
                    PeerSpec::Username(name) => self.resolve_username(name).await,
                    PeerSpec::Id(id) => match self.stored(*id).await {
                        Some(peer) => Ok(peer),
                        None => self.fetch_by_id(*id).await,
                    },
                }
            })
            .await
    }

    async fn fetch_me(&self) -> Outcome {
        let users = self
            .call(tl::functions::users::GetUsers {
                id: vec![tl::enums::InputUser::UserSelf],
            })
            .await?;
        let me = users
            .iter()
            .filter_map(KnownPeer::from_user)
            .find(|p| p.is_self)
            .ok_or_else(|| TelegramError::Incomplete("the logged-in user".into()))?;
        self.peers.adopt_owner(&me).await;
        Ok(me)
    }

    /// A peer the grammers session learned during this run (from an update or an answer
    /// this cache did not read), found in the store. A store failure is logged and the
    /// lookup goes on to Telegram: the store is a cache here.
    async fn stored(&self, id: domain::PeerId) -> Option<KnownPeer> {
        self.peers.stored(id).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "could not read stored peers; asking Telegram");
            None
        })
    }

    async fn resolve_username(&self, name: &str) -> Outcome {
        let tl::enums::contacts::ResolvedPeer::Peer(resolved) = self
            .call(tl::functions::contacts::ResolveUsername {
                username: name.to_owned(),
                referer: None,
            })
            .await?;
        let id = peer_id(&resolved.peer)
            .and_then(PeerId::bot_api_dialog_id)
            .ok_or_else(|| not_found(format!("@{name} resolved to an invalid id")))?;
        self.peers
            .index_username(name, id)
            .ok_or_else(|| not_found(format!("Telegram gave no usable access hash for @{name}")))
    }

    /// A numeric id seen for the first time: ask Telegram about it with no access hash, which
    /// works for basic groups and for users and channels Telegram lets this account see.
    async fn fetch_by_id(&self, id: domain::PeerId) -> Outcome {
        let key = id.value();
        let message = match id.kind() {
            // Basic groups need no access hash: Telegram simply does not show this one.
            domain::PeerKind::Chat => {
                format!("basic group {key} is not a group this account is in")
            }
            _ => format!(
                "peer {key} is unknown to this account: refer to it once by @username (or read a chat it writes in through this API) so mtgate learns its access hash"
            ),
        };
        let unknown = |telegram: Option<String>| TelegramError::PeerNotFound {
            message: message.clone(),
            telegram,
        };
        // Without an access hash Telegram answers these for peers it will not show us.
        let no_access = |e: TelegramError| match e.refusal() {
            Some(r) if r.kind == RefusalKind::PeerNotFound || r.name.ends_with("_INVALID") => {
                unknown(Some(r.telegram_name()))
            }
            _ => e,
        };
        let bare = id.bare_id().unwrap_or_default();
        match id.kind() {
            domain::PeerKind::User => {
                let input = tl::types::InputUser {
                    user_id: bare,
                    access_hash: 0,
                };
                let request = tl::functions::users::GetUsers {
                    id: vec![input.into()],
                };
                self.call(request).await.map_err(no_access)?;
            }
            domain::PeerKind::Chat => {
                let request = tl::functions::messages::GetChats { id: vec![bare] };
                self.call(request).await.map_err(no_access)?;
            }
            domain::PeerKind::Channel => {
                let input = tl::types::InputChannel {
                    channel_id: bare,
                    access_hash: 0,
                };
                let request = tl::functions::channels::GetChannels {
                    id: vec![input.into()],
                };
                self.call(request).await.map_err(no_access)?;
            }
        }
        self.peers
            .cached(&PeerSpec::Id(id))
            .ok_or_else(|| unknown(None))
    }
}

fn not_found(message: String) -> TelegramError {
    TelegramError::PeerNotFound {
        message,
        telegram: None,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;
    use crate::telegram::resolver::KnownPeer;

    fn peer(id: i64) -> KnownPeer {
        KnownPeer {
            id,
            hash: 1,
            kind: crate::domain::PeerType::User,
            usernames: vec![],
            title: None,
            is_self: false,
        }
    }

    #[tokio::test]
    async fn concurrent_lookups_of_one_peer_run_once() {
        let lookups = Lookups::default();
        let runs = AtomicUsize::new(0);
        let key = PeerSpec::Username("ada".into());
        let lookup = || async {
            runs.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(50)).await;
            Ok(peer(7))
        };
        let (a, b) = tokio::join!(
            lookups.coalesce(&key, lookup),
            lookups.coalesce(&key, lookup)
        );
        assert_eq!((a.unwrap().id, b.unwrap().id), (7, 7));
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert!(lookups.map().is_empty(), "finished lookups are forgotten");
    }

    #[tokio::test]
    async fn a_slow_lookup_does_not_hold_up_another_peer() {
        let lookups = Lookups::default();
        let slow_key = PeerSpec::Username("slow".into());
        let fast_key = PeerSpec::Username("fast".into());
        let slow = lookups.coalesce(&slow_key, || async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok(peer(1))
        });
        let fast = async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            lookups.coalesce(&fast_key, || async { Ok(peer(2)) }).await
        };
        tokio::select! {
            _ = slow => panic!("the slow lookup finished first"),
            fast = fast => assert_eq!(fast.unwrap().id, 2),
        }
    }

    #[tokio::test]
    async fn a_failed_lookup_is_shared_but_not_remembered() {
        let lookups = Lookups::default();
        let key = PeerSpec::Username("gone".into());
        let fail = || async { Err(TelegramError::Timeout) };
        assert_eq!(
            lookups.coalesce(&key, fail).await,
            Err(TelegramError::Timeout)
        );
        let ok = lookups.coalesce(&key, || async { Ok(peer(3)) }).await;
        assert_eq!(ok.unwrap().id, 3);
    }
}
