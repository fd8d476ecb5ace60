//! The grammers `Session` mtgate runs on: DC addresses and the auth key come from
//! `TG_SESSION` on every start and stay in memory; what the client *learns* (peers with their
//! access hashes, update state) goes to the account's store, so it survives restarts.
//!
//! - Auth keys are never written: the secret has one home, `TG_SESSION`.
//! - DC addresses come from the string session's DC table (Telegram's published one for a
//!   real session, the pinned address for any other), whatever `help.getConfig` says, so a
//!   session for a test server can never wander off to Telegram's real addresses.
//! - Reads are answered from memory (loaded once at open); changes are queued to the store's
//!   writer, so the client never waits on disk.

use std::fmt;
use std::sync::{Mutex, MutexGuard};

use grammers_session::types::{
    ChannelState, DcOption, PeerId, PeerInfo, UpdateState, UpdatesState,
};
use grammers_session::{BoxFuture, Session, SessionData};
use sha1::{Digest, Sha1};

use mtgate_session::StringSession;

use super::peer_records;
use crate::store::{AccountStore, StoreError, UpdateChange, UpdateStateRecord};

/// A storage failure (the store's writer is gone).
#[derive(Debug)]
pub struct SessionStoreError(String);

impl fmt::Display for SessionStoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "session state storage failed: {}", self.0)
    }
}

impl std::error::Error for SessionStoreError {}

impl From<StoreError> for SessionStoreError {
    fn from(error: StoreError) -> Self {
        tracing::warn!(error = %error, "cannot store session state");
        Self(error.to_string())
    }
}

/// Store-backed grammers session; see the module docs.
pub struct PersistentSession {
    data: Mutex<SessionData>,
    store: AccountStore,
}

impl PersistentSession {
    /// Builds the session for `string` with what earlier runs of `store`'s account learned.
    pub async fn open(store: AccountStore, string: &StringSession) -> Result<Self, StoreError> {
        let mut data = string.to_session_data();
        for record in store.peers().await? {
            if let Some(info) = peer_records::to_peer_info(&record) {
                data.peer_infos.insert(info.id(), info);
            }
        }
        data.updates_state = updates_state(store.update_state().await?);
        Ok(Self {
            data: Mutex::new(data),
            store,
        })
    }

    /// Reads again what the store holds for the account (peers and update state), replacing
    /// the update state in memory: with replicas, the previous holder kept writing both, and
    /// a replica taking the account over must resume from where that one stopped, not from
    /// what it read at its own start.
    pub async fn reload(&self) -> Result<(), StoreError> {
        self.store.store().flush().await?;
        let peers = self.store.peers().await?;
        let state = updates_state(self.store.update_state().await?);
        let mut data = self.data();
        for record in peers {
            if let Some(info) = peer_records::to_peer_info(&record) {
                data.peer_infos.insert(info.id(), info);
            }
        }
        data.updates_state = state;
        Ok(())
    }

    /// Number of peers known (for logs and tests).
    pub fn peer_count(&self) -> usize {
        self.data().peer_infos.len()
    }

    fn data(&self) -> MutexGuard<'_, SessionData> {
        self.data.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Merges `peers` in memory and queues what changed for the store.
    fn learn(&self, peers: Vec<PeerInfo>) -> Result<(), SessionStoreError> {
        let changed: Vec<_> = {
            let mut data = self.data();
            peers
                .into_iter()
                .filter_map(|peer| merge_peer(&mut data, peer))
                .filter_map(|peer| peer_records::from_peer_info(&peer))
                .collect()
        };
        Ok(self.store.save_peers(changed)?)
    }
}

/// MTProto's auth key id: the low 8 bytes of the key's SHA-1, as sent on the wire. Public
/// (it travels in clear), so it may name the key in the store.
pub fn auth_key_id(key: &[u8]) -> u64 {
    let digest = Sha1::digest(key);
    u64::from_le_bytes(digest[12..20].try_into().expect("8 bytes"))
}

fn updates_state(record: UpdateStateRecord) -> UpdatesState {
    UpdatesState {
        pts: record.pts,
        qts: record.qts,
        date: record.date,
        seq: record.seq,
        channels: record
            .channels
            .into_iter()
            .map(|(id, pts)| ChannelState { id, pts })
            .collect(),
    }
}

fn update_change(update: &UpdateState) -> UpdateChange {
    match update {
        UpdateState::All(all) => UpdateChange::All(UpdateStateRecord {
            pts: all.pts,
            qts: all.qts,
            date: all.date,
            seq: all.seq,
            channels: all.channels.iter().map(|c| (c.id, c.pts)).collect(),
        }),
        &UpdateState::Primary { pts, date, seq } => UpdateChange::Primary { pts, date, seq },
        &UpdateState::Secondary { qts } => UpdateChange::Secondary { qts },
        &UpdateState::Channel { id, pts } => UpdateChange::Channel { id, pts },
    }
}

/// Merges `peer` into the cache; the merged peer when something new was learned.
fn merge_peer(data: &mut SessionData, peer: PeerInfo) -> Option<PeerInfo> {
    match data.peer_infos.get_mut(&peer.id()) {
        Some(known) => {
            let before = known.clone();
            known.extend_info(&peer);
            (*known != before).then(|| known.clone())
        }
        None => {
            data.peer_infos.insert(peer.id(), peer.clone());
            Some(peer)
        }
    }
}

impl Session for PersistentSession {
    type Error = SessionStoreError;

    fn home_dc_id(&self) -> Result<i32, Self::Error> {
        Ok(self.data().home_dc)
    }

    fn set_home_dc_id(&self, dc_id: i32) -> BoxFuture<'_, Result<(), Self::Error>> {
        Box::pin(async move {
            self.data().home_dc = dc_id;
            Ok(())
        })
    }

    fn dc_option(&self, dc_id: i32) -> Result<Option<DcOption>, Self::Error> {
        Ok(self.data().dc_options.get(&dc_id).cloned())
    }

    /// Keeps the key the pool reports (in memory only); ignores address changes (see the
    /// module docs).
    fn set_dc_option(&self, dc_option: &DcOption) -> BoxFuture<'_, Result<(), Self::Error>> {
        let dc_option = dc_option.clone();
        Box::pin(async move {
            let mut data = self.data();
            match data.dc_options.get_mut(&dc_option.id) {
                Some(known) => known.auth_key = dc_option.auth_key,
                None => {
                    tracing::warn!(
                        dc_id = dc_option.id,
                        "ignoring an unknown DC from the server"
                    );
                }
            }
            Ok(())
        })
    }

    /// `PeerId::self_user()` names the logged-in user (cached with `is_self`): grammers'
    /// update receiver asks for it to know it may start from `updates.getState`.
    fn peer(&self, peer: PeerId) -> BoxFuture<'_, Result<Option<PeerInfo>, Self::Error>> {
        Box::pin(async move {
            let data = self.data();
            if peer == PeerId::self_user() {
                return Ok(data
                    .peer_infos
                    .values()
                    .find(|info| {
                        matches!(
                            info,
                            PeerInfo::User {
                                is_self: Some(true),
                                ..
                            }
                        )
                    })
                    .cloned());
            }
            Ok(data.peer_infos.get(&peer).cloned())
        })
    }

    fn cache_peer(&self, peer: PeerInfo) -> BoxFuture<'_, Result<(), Self::Error>> {
        Box::pin(async move { self.learn(vec![peer]) })
    }

    fn cache_peers(&self, peers: Vec<PeerInfo>) -> BoxFuture<'_, Result<(), Self::Error>> {
        Box::pin(async move { self.learn(peers) })
    }

    fn updates_state(&self) -> BoxFuture<'_, Result<UpdatesState, Self::Error>> {
        Box::pin(async move { Ok(self.data().updates_state.clone()) })
    }

    fn set_update_state(&self, update: UpdateState) -> BoxFuture<'_, Result<(), Self::Error>> {
        Box::pin(async move {
            let change = update_change(&update);
            {
                let mut data = self.data();
                let state = &mut data.updates_state;
                match update {
                    UpdateState::All(all) => *state = all,
                    UpdateState::Primary { pts, date, seq } => {
                        state.pts = pts;
                        state.date = date;
                        state.seq = seq;
                    }
                    UpdateState::Secondary { qts } => state.qts = qts,
                    UpdateState::Channel { id, pts } => {
                        state.channels.retain(|c| c.id != id);
                        state.channels.push(ChannelState { id, pts });
                    }
                }
            }
            Ok(self.store.save_update_state(change)?)
        })
    }
}

#[cfg(test)]
mod tests {
    use grammers_session::types::PeerAuth;

    use super::*;
    use crate::store::Store;
    use mtgate_session::{AUTH_KEY_LEN, SessionFormat};

    fn string_session(seed: u8) -> StringSession {
        StringSession {
            dc_id: 2,
            addr: "127.0.0.1:4567".parse().unwrap(),
            auth_key: [seed; AUTH_KEY_LEN],
            format: SessionFormat::Telethon,
        }
    }

    fn user(id: i64, hash: i64) -> PeerInfo {
        PeerInfo::User {
            id,
            auth: Some(PeerAuth::from_hash(hash)),
            bot: Some(false),
            is_self: None,
        }
    }

    #[tokio::test]
    async fn learned_peers_and_update_state_survive_a_reopen() {
        let store = Store::open_in_memory().await.unwrap();
        let session = PersistentSession::open(store.account("default"), &string_session(1))
            .await
            .unwrap();
        session.cache_peer(user(42, 4242)).await.unwrap();
        session
            .set_update_state(UpdateState::Primary {
                pts: 7,
                date: 8,
                seq: 9,
            })
            .await
            .unwrap();
        drop(session);
        store.flush().await.unwrap();

        let reopened = PersistentSession::open(store.account("default"), &string_session(1))
            .await
            .unwrap();
        let peer = reopened.peer(PeerId::user_unchecked(42)).await.unwrap();
        assert_eq!(peer, Some(user(42, 4242)));
        assert_eq!(reopened.updates_state().await.unwrap().pts, 7);
    }

    #[tokio::test]
    async fn another_account_does_not_see_the_first_accounts_peers() {
        let store = Store::open_in_memory().await.unwrap();
        let first = PersistentSession::open(store.account("first"), &string_session(1))
            .await
            .unwrap();
        first.cache_peer(user(42, 4242)).await.unwrap();
        store.flush().await.unwrap();
        let second = PersistentSession::open(store.account("second"), &string_session(2))
            .await
            .unwrap();
        assert_eq!(second.peer(PeerId::user_unchecked(42)).await.unwrap(), None);
    }

    #[tokio::test]
    async fn the_database_never_holds_the_auth_key() {
        let dir = crate::store::tests::TempDir::new("session-nokey");
        let store = Store::open(&dir).await.unwrap();
        let session = PersistentSession::open(store.account("default"), &string_session(0xAB))
            .await
            .unwrap();
        let mut option = session.dc_option(2).unwrap().unwrap();
        option.auth_key = Some([0xCD; AUTH_KEY_LEN]);
        session.set_dc_option(&option).await.unwrap();
        session.cache_peer(user(1, 2)).await.unwrap();
        store.flush().await.unwrap();
        let mut bytes = Vec::new();
        for entry in std::fs::read_dir(&*dir).unwrap() {
            bytes.extend(std::fs::read(entry.unwrap().path()).unwrap());
        }
        store.close().await.unwrap();
        for key in [[0xAB_u8; 32], [0xCD; 32]] {
            assert!(!bytes.windows(32).any(|w| w == key), "a key was written");
        }
        assert_eq!(
            session.dc_option(2).unwrap().unwrap().auth_key,
            Some([0xCD; AUTH_KEY_LEN])
        );
    }

    #[tokio::test]
    async fn server_supplied_addresses_are_ignored() {
        let store = Store::open_in_memory().await.unwrap();
        let session = PersistentSession::open(store.account("default"), &string_session(1))
            .await
            .unwrap();
        let mut option = session.dc_option(4).unwrap().unwrap();
        option.ipv4 = "149.154.167.91:443".parse().unwrap();
        session.set_dc_option(&option).await.unwrap();
        assert_eq!(
            session.dc_option(4).unwrap().unwrap().ipv4,
            "127.0.0.1:4567".parse().unwrap()
        );
    }
}
