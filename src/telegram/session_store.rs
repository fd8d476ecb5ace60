//! The grammers `Session` mtgate runs on: DC addresses and the auth key come from
//! `TG_SESSION` on every start and stay in memory; what the client *learns* (peers with their
//! access hashes, update state) is kept in a JSON file under `MTGATE_STATE_DIR`, so it
//! survives restarts.
//!
//! - The file is named after the auth key's id (`SHA1(key)[12..20]`, the id sent in clear in
//!   every MTProto packet): access hashes are per account, so switching `TG_SESSION` to
//!   another account never reuses the old account's peers.
//! - Auth keys are never written: the secret has one home, `TG_SESSION`.
//! - DC addresses stay where the string session points, whatever `help.getConfig` says, so a
//!   session for a test server can never wander off to Telegram's real addresses.
//! - Writes go to a temporary file that is then renamed over the old one, so a crash leaves
//!   either the old or the new state, never half a file.

use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use grammers_session::types::{
    ChannelState, DcOption, PeerId, PeerInfo, UpdateState, UpdatesState,
};
use grammers_session::{BoxFuture, Session, SessionData};
use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};

use mtgate_session::StringSession;

const FORMAT_VERSION: u32 = 1;

/// What goes to disk: only learned state, never keys or addresses.
#[derive(Serialize, Deserialize)]
struct Persisted {
    version: u32,
    peers: Vec<PeerInfo>,
    updates_state: UpdatesState,
}

/// A storage failure (the state directory is unwritable, the disk is full…).
#[derive(Debug)]
pub struct SessionStoreError(String);

impl fmt::Display for SessionStoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "session state storage failed: {}", self.0)
    }
}

impl std::error::Error for SessionStoreError {}

/// File-backed grammers session; see the module docs.
pub struct PersistentSession {
    data: Mutex<SessionData>,
    path: PathBuf,
    /// Serializes writers so a newer snapshot is never overwritten by an older one.
    write_lock: Mutex<()>,
}

impl PersistentSession {
    /// Builds the session for `string` and loads what earlier runs learned from `state_dir`
    /// (created if needed). An unreadable or corrupt file is set aside, not fatal: the state
    /// is a cache that Telegram can refill.
    pub fn open(state_dir: &Path, string: &StringSession) -> io::Result<Self> {
        fs::create_dir_all(state_dir)?;
        let path = state_dir.join(format!(
            "telegram-{:016x}.json",
            auth_key_id(&string.auth_key)
        ));
        let mut data = string.to_session_data();
        match fs::read(&path) {
            Ok(bytes) => match serde_json::from_slice::<Persisted>(&bytes) {
                Ok(persisted) if persisted.version == FORMAT_VERSION => {
                    for peer in persisted.peers {
                        data.peer_infos.insert(peer.id(), peer);
                    }
                    data.updates_state = persisted.updates_state;
                }
                Ok(_) | Err(_) => {
                    let aside = path.with_extension("json.unreadable");
                    tracing::warn!(
                        file = %path.display(),
                        moved_to = %aside.display(),
                        "ignoring an unreadable session state file"
                    );
                    fs::rename(&path, &aside)?;
                }
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let session = Self {
            data: Mutex::new(data),
            path,
            write_lock: Mutex::new(()),
        };
        // Fail at startup, not at the first learned peer, when the directory is unwritable.
        session.save()?;
        Ok(session)
    }

    /// Where the learned state lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of peers known (for logs and tests).
    pub fn peer_count(&self) -> usize {
        self.data().peer_infos.len()
    }

    /// Writes the learned state atomically (temp file + rename).
    pub fn save(&self) -> io::Result<()> {
        let _writer = self.write_lock.lock().unwrap_or_else(|p| p.into_inner());
        let bytes = {
            let data = self.data();
            let mut peers: Vec<PeerInfo> = data.peer_infos.values().cloned().collect();
            peers.sort_by_key(|p| p.id().bot_api_dialog_id_unchecked());
            serde_json::to_vec_pretty(&Persisted {
                version: FORMAT_VERSION,
                peers,
                updates_state: data.updates_state.clone(),
            })
            .map_err(io::Error::other)?
        };
        let tmp = self.path.with_extension("json.tmp");
        let mut file = fs::File::create(&tmp)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, &self.path)
    }

    fn data(&self) -> MutexGuard<'_, SessionData> {
        self.data.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn save_or_error(&self) -> Result<(), SessionStoreError> {
        self.save().map_err(|e| {
            tracing::warn!(error = %e, file = %self.path.display(), "cannot write session state");
            SessionStoreError(e.to_string())
        })
    }
}

/// MTProto's auth key id: the low 8 bytes of the key's SHA-1, as sent on the wire.
fn auth_key_id(key: &[u8]) -> u64 {
    let digest = Sha1::digest(key);
    u64::from_le_bytes(digest[12..20].try_into().expect("8 bytes"))
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

    /// Keeps the key the pool reports; ignores address changes (see the module docs).
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

    fn peer(&self, peer: PeerId) -> BoxFuture<'_, Result<Option<PeerInfo>, Self::Error>> {
        Box::pin(async move { Ok(self.data().peer_infos.get(&peer).cloned()) })
    }

    fn cache_peer(&self, peer: PeerInfo) -> BoxFuture<'_, Result<(), Self::Error>> {
        Box::pin(async move {
            if self.merge_peer(peer) {
                self.save_or_error()?;
            }
            Ok(())
        })
    }

    fn cache_peers(&self, peers: Vec<PeerInfo>) -> BoxFuture<'_, Result<(), Self::Error>> {
        Box::pin(async move {
            let mut changed = false;
            for peer in peers {
                changed |= self.merge_peer(peer);
            }
            if changed {
                self.save_or_error()?;
            }
            Ok(())
        })
    }

    fn updates_state(&self) -> BoxFuture<'_, Result<UpdatesState, Self::Error>> {
        Box::pin(async move { Ok(self.data().updates_state.clone()) })
    }

    fn set_update_state(&self, update: UpdateState) -> BoxFuture<'_, Result<(), Self::Error>> {
        Box::pin(async move {
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
            self.save_or_error()
        })
    }
}

impl PersistentSession {
    /// Merges `peer` into the cache; true when something new was learned.
    fn merge_peer(&self, peer: PeerInfo) -> bool {
        let mut data = self.data();
        match data.peer_infos.get_mut(&peer.id()) {
            Some(known) => {
                let before = known.clone();
                known.extend_info(&peer);
                *known != before
            }
            None => {
                data.peer_infos.insert(peer.id(), peer);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use grammers_session::types::PeerAuth;

    use super::*;
    use mtgate_session::{AUTH_KEY_LEN, SessionFormat};

    fn string_session(seed: u8) -> StringSession {
        StringSession {
            dc_id: 2,
            addr: "127.0.0.1:4567".parse().unwrap(),
            auth_key: [seed; AUTH_KEY_LEN],
            format: SessionFormat::Telethon,
        }
    }

    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> Self {
            let dir = std::env::temp_dir().join(format!(
                "mtgate-session-{name}-{}-{}",
                std::process::id(),
                rand::random::<u32>()
            ));
            Self(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
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
    async fn learned_peers_and_update_state_survive_a_restart() {
        let dir = TempDir::new("restart");
        let session = PersistentSession::open(&dir.0, &string_session(1)).unwrap();
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

        let reopened = PersistentSession::open(&dir.0, &string_session(1)).unwrap();
        let peer = reopened.peer(PeerId::user_unchecked(42)).await.unwrap();
        assert_eq!(peer, Some(user(42, 4242)));
        assert_eq!(reopened.updates_state().await.unwrap().pts, 7);
    }

    #[tokio::test]
    async fn another_account_does_not_see_the_first_accounts_peers() {
        let dir = TempDir::new("accounts");
        let first = PersistentSession::open(&dir.0, &string_session(1)).unwrap();
        first.cache_peer(user(42, 4242)).await.unwrap();
        let second = PersistentSession::open(&dir.0, &string_session(2)).unwrap();
        assert_eq!(second.peer(PeerId::user_unchecked(42)).await.unwrap(), None);
    }

    #[tokio::test]
    async fn the_file_never_holds_the_auth_key() {
        let dir = TempDir::new("nokey");
        let session = PersistentSession::open(&dir.0, &string_session(0xAB)).unwrap();
        let mut option = session.dc_option(2).unwrap().unwrap();
        option.auth_key = Some([0xCD; AUTH_KEY_LEN]);
        session.set_dc_option(&option).await.unwrap();
        session.cache_peer(user(1, 2)).await.unwrap();
        let text = fs::read_to_string(session.path()).unwrap();
        assert!(!text.to_lowercase().contains("abababab"), "{text}");
        assert!(!text.to_lowercase().contains("cdcdcdcd"), "{text}");
        assert_eq!(
            session.dc_option(2).unwrap().unwrap().auth_key,
            Some([0xCD; AUTH_KEY_LEN])
        );
    }

    #[tokio::test]
    async fn server_supplied_addresses_are_ignored() {
        let dir = TempDir::new("addr");
        let session = PersistentSession::open(&dir.0, &string_session(1)).unwrap();
        let mut option = session.dc_option(4).unwrap().unwrap();
        option.ipv4 = "149.154.167.91:443".parse().unwrap();
        session.set_dc_option(&option).await.unwrap();
        assert_eq!(
            session.dc_option(4).unwrap().unwrap().ipv4,
            "127.0.0.1:4567".parse().unwrap()
        );
    }

    #[tokio::test]
    async fn a_corrupt_file_is_set_aside() {
        let dir = TempDir::new("corrupt");
        let first = PersistentSession::open(&dir.0, &string_session(1)).unwrap();
        let path = first.path().to_path_buf();
        drop(first);
        fs::write(&path, b"{ not json").unwrap();
        let session = PersistentSession::open(&dir.0, &string_session(1)).unwrap();
        assert_eq!(session.peer_count(), 0);
        assert!(path.with_extension("json.unreadable").exists());
    }

    #[test]
    fn an_unwritable_state_dir_fails_at_open() {
        let dir = TempDir::new("file");
        fs::create_dir_all(dir.0.parent().unwrap()).unwrap();
        fs::write(&dir.0, b"a file, not a directory").unwrap();
        let error = PersistentSession::open(&dir.0, &string_session(1));
        let _ = fs::remove_file(&dir.0);
        assert!(error.is_err());
    }
}
