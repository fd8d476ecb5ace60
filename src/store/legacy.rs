//! One-time import of a state directory written by mtgate before the store existed:
//! `telegram-<auth key id>.json` (the grammers session's peers and update state) and
//! `resolved-peers.json` (the resolver's peers with names). Each file imported is renamed
//! to `*.imported`, so it is read once and then ignored; an unreadable one is renamed to
//! `*.unreadable` with a warning (both were caches Telegram can refill).
//!
//! The formats are mirrored here rather than borrowed from grammers, so the store stays free
//! of Telegram types and the old layout keeps parsing whatever grammers does next.

use std::io;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::files::run_blocking;
use super::{AccountStore, ChannelKind, PeerRecord, StoreError, UpdateChange, UpdateStateRecord};

/// The resolver's file of the previous layout.
pub const RESOLVER_FILE: &str = "resolved-peers.json";

/// The only version either file ever had.
const VERSION: u32 = 1;

/// Bot-API ids of channels are `-(10^12 + bare id)`.
const CHANNEL_ID_OFFSET: i64 = 1_000_000_000_000;

/// The session file of the previous layout for the key with this id.
pub fn session_file_name(auth_key_id: u64) -> String {
    format!("telegram-{auth_key_id:016x}.json")
}

/// What an import found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Imported {
    pub files: usize,
    pub peers: usize,
}

/// Imports the previous layout's files for the session key `auth_key_id` into `account`.
/// Call after [`AccountStore::bind_session`], so a key change cannot wipe what is imported.
pub async fn import(
    state_dir: &Path,
    account: &AccountStore,
    auth_key_id: u64,
) -> Result<Imported, StoreError> {
    let session_path = state_dir.join(session_file_name(auth_key_id));
    let resolver_path = state_dir.join(RESOLVER_FILE);
    let session: Option<SessionFile> = read(&session_path).await?;
    let resolver: Option<ResolverFile> = read(&resolver_path).await?;
    let mut imported = Imported::default();

    let mut session_self = None;
    if let Some(file) = &session {
        let peers: Vec<PeerRecord> = file.peers.iter().filter_map(LegacyPeer::record).collect();
        session_self = peers.iter().find(|p| p.is_self == Some(true)).map(|p| p.id);
        imported.peers += peers.len();
        account.save_peers(peers)?;
        account.save_update_state(UpdateChange::All(file.updates_state.record()))?;
        imported.files += 1;
    }
    if let Some(file) = &resolver {
        // The resolver recorded whose hashes it held; another user's are useless here.
        let foreign = matches!((file.owner, session_self), (Some(o), Some(s)) if o != s);
        if foreign {
            tracing::warn!("not importing {RESOLVER_FILE}: it belongs to another account");
        } else {
            let peers: Vec<PeerRecord> = file.peers.iter().map(NamedPeer::record).collect();
            imported.peers += peers.len();
            account.save_peers(peers)?;
            if let Some(owner) = file.owner {
                account.bind_self(owner).await?;
            }
        }
        imported.files += 1;
    }
    account.store().flush().await?;
    for (path, done) in [
        (session_path, session.is_some()),
        (resolver_path, resolver.is_some()),
    ] {
        if done {
            rename(path, "imported").await?;
        }
    }
    if imported.files > 0 {
        tracing::info!(
            files = imported.files,
            peers = imported.peers,
            account = account.name(),
            "imported the previous state files into the store"
        );
    }
    Ok(imported)
}

/// The file parsed, `None` if absent; an unreadable one is set aside.
async fn read<T: DeserializeOwned + Send + 'static>(path: &Path) -> Result<Option<T>, StoreError> {
    let owned = path.to_path_buf();
    let bytes = run_blocking(move || match std::fs::read(&owned) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    })
    .await?;
    let Some(bytes) = bytes else {
        return Ok(None);
    };
    match serde_json::from_slice::<Versioned<T>>(&bytes) {
        Ok(file) if file.version == VERSION => Ok(Some(file.content)),
        Ok(_) | Err(_) => {
            tracing::warn!(file = %path.display(), "ignoring an unreadable state file of the previous layout");
            rename(path.to_path_buf(), "unreadable").await?;
            Ok(None)
        }
    }
}

async fn rename(path: PathBuf, suffix: &'static str) -> Result<(), StoreError> {
    run_blocking(move || {
        let mut target = path.clone().into_os_string();
        target.push(".");
        target.push(suffix);
        std::fs::rename(&path, target)
    })
    .await?;
    Ok(())
}

#[derive(Deserialize)]
struct Versioned<T> {
    version: u32,
    #[serde(flatten)]
    content: T,
}

/// `telegram-<id>.json`.
#[derive(Deserialize)]
struct SessionFile {
    peers: Vec<LegacyPeer>,
    updates_state: LegacyUpdates,
}

/// grammers' `PeerInfo` as serde wrote it (bare ids).
#[derive(Deserialize)]
enum LegacyPeer {
    User {
        id: i64,
        auth: Option<i64>,
        bot: Option<bool>,
        is_self: Option<bool>,
    },
    Chat {
        id: i64,
    },
    Channel {
        id: i64,
        auth: Option<i64>,
        kind: Option<String>,
    },
}

impl LegacyPeer {
    fn record(&self) -> Option<PeerRecord> {
        Some(match self {
            Self::User {
                id,
                auth,
                bot,
                is_self,
            } => PeerRecord {
                id: (*id > 0).then_some(*id)?,
                access_hash: *auth,
                bot: *bot,
                is_self: *is_self,
                ..PeerRecord::default()
            },
            Self::Chat { id } => PeerRecord {
                id: (*id > 0).then_some(-id)?,
                ..PeerRecord::default()
            },
            Self::Channel { id, auth, kind } => PeerRecord {
                id: (*id > 0).then_some(-(CHANNEL_ID_OFFSET + id))?,
                access_hash: *auth,
                channel_kind: kind.as_deref().and_then(|k| match k {
                    "Broadcast" => Some(ChannelKind::Broadcast),
                    "Megagroup" => Some(ChannelKind::Megagroup),
                    "Gigagroup" => Some(ChannelKind::Gigagroup),
                    "Community" => Some(ChannelKind::Community),
                    _ => None,
                }),
                ..PeerRecord::default()
            },
        })
    }
}

#[derive(Deserialize)]
struct LegacyUpdates {
    pts: i32,
    qts: i32,
    date: i32,
    seq: i32,
    channels: Vec<LegacyChannel>,
}

#[derive(Deserialize)]
struct LegacyChannel {
    id: i64,
    pts: i32,
}

impl LegacyUpdates {
    fn record(&self) -> UpdateStateRecord {
        UpdateStateRecord {
            pts: self.pts,
            qts: self.qts,
            date: self.date,
            seq: self.seq,
            channels: self.channels.iter().map(|c| (c.id, c.pts)).collect(),
        }
    }
}

/// `resolved-peers.json`.
#[derive(Deserialize)]
struct ResolverFile {
    owner: Option<i64>,
    peers: Vec<NamedPeer>,
}

/// The resolver's peer (Bot-API ids).
#[derive(Deserialize)]
struct NamedPeer {
    id: i64,
    hash: i64,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    usernames: Vec<String>,
    title: Option<String>,
    #[serde(default)]
    is_self: bool,
}

impl NamedPeer {
    fn record(&self) -> PeerRecord {
        let is_channel = self.id <= -CHANNEL_ID_OFFSET;
        PeerRecord {
            id: self.id,
            // Basic groups need no hash (0); users and channels always carry theirs.
            access_hash: (self.id > 0 || is_channel).then_some(self.hash),
            is_self: Some(self.is_self),
            channel_kind: is_channel.then_some(match self.kind.as_str() {
                "channel" => ChannelKind::Broadcast,
                _ => ChannelKind::Megagroup,
            }),
            title: self.title.clone(),
            usernames: Some(self.usernames.clone()),
            ..PeerRecord::default()
        }
    }
}
