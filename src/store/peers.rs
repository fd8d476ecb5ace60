//! Peers an account has learned: ids, access hashes, what they are, their usernames. One
//! table for every writer (the grammers session and the resolver), so peer knowledge is kept
//! once; each writer sets what it knows and leaves the rest (`NULL` = not known) untouched.

use sqlx::{AnyConnection, AnyPool};

use super::StoreError;

/// What a channel is, as far as Telegram told (decides whether it is a group to people).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelKind {
    Broadcast,
    Megagroup,
    Gigagroup,
    Community,
}

impl ChannelKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Broadcast => "broadcast",
            Self::Megagroup => "megagroup",
            Self::Gigagroup => "gigagroup",
            Self::Community => "community",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "broadcast" => Self::Broadcast,
            "megagroup" => Self::Megagroup,
            "gigagroup" => Self::Gigagroup,
            "community" => Self::Community,
            _ => return None,
        })
    }
}

/// One peer as stored. `None` fields are unknown and never overwrite a known value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerRecord {
    /// Bot-API dialog id (`123`, `-123`, `-100123`).
    pub id: i64,
    pub access_hash: Option<i64>,
    pub bot: Option<bool>,
    pub is_self: Option<bool>,
    pub channel_kind: Option<ChannelKind>,
    /// Chat title or a user's full name.
    pub title: Option<String>,
    /// Active usernames, the primary first (`Some(vec![])`: known to have none).
    pub usernames: Option<Vec<String>>,
}

/// Inserts or completes `peer`; when its usernames are known they replace the old ones, and a
/// name now held by this peer is taken from whoever held it before.
pub(super) async fn upsert(
    conn: &mut AnyConnection,
    account: &str,
    peer: &PeerRecord,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO peers
            (account, id, access_hash, bot, is_self, channel_kind, title, usernames, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (account, id) DO UPDATE SET
            access_hash = COALESCE(excluded.access_hash, peers.access_hash),
            bot = COALESCE(excluded.bot, peers.bot),
            is_self = COALESCE(excluded.is_self, peers.is_self),
            channel_kind = COALESCE(excluded.channel_kind, peers.channel_kind),
            title = COALESCE(excluded.title, peers.title),
            usernames = COALESCE(excluded.usernames, peers.usernames),
            updated_at = excluded.updated_at",
    )
    .bind(account)
    .bind(peer.id)
    .bind(peer.access_hash)
    .bind(peer.bot)
    .bind(peer.is_self)
    .bind(peer.channel_kind.map(ChannelKind::as_str))
    .bind(peer.title.as_deref())
    .bind(peer.usernames.as_ref().map(|names| names.join(" ")))
    .bind(super::now())
    .execute(&mut *conn)
    .await?;
    if let Some(names) = &peer.usernames {
        sqlx::query("DELETE FROM peer_usernames WHERE account = $1 AND peer_id = $2")
            .bind(account)
            .bind(peer.id)
            .execute(&mut *conn)
            .await?;
        for name in names {
            index_username(conn, account, name, peer.id).await?;
        }
    }
    Ok(())
}

/// Points `username` (any case) at `peer_id`.
pub(super) async fn index_username(
    conn: &mut AnyConnection,
    account: &str,
    username: &str,
    peer_id: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO peer_usernames (account, username, peer_id) VALUES ($1, $2, $3)
         ON CONFLICT (account, username) DO UPDATE SET peer_id = excluded.peer_id",
    )
    .bind(account)
    .bind(username.to_ascii_lowercase())
    .bind(peer_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// `bot` and `is_self` are read as integers: sqlx's `Any` driver cannot decode SQLite's
/// `BOOLEAN` columns as such.
type PeerRow = (
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Every peer of `account`.
pub(super) async fn all(pool: &AnyPool, account: &str) -> Result<Vec<PeerRecord>, StoreError> {
    let rows: Vec<PeerRow> = sqlx::query_as(
        "SELECT id, access_hash, CAST(bot AS INTEGER), CAST(is_self AS INTEGER), channel_kind,
                title, usernames
         FROM peers WHERE account = $1 ORDER BY id",
    )
    .bind(account)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(record).collect())
}

/// The peer `id` of `account`, if stored.
pub(super) async fn get(
    pool: &AnyPool,
    account: &str,
    id: i64,
) -> Result<Option<PeerRecord>, StoreError> {
    let row: Option<PeerRow> = sqlx::query_as(
        "SELECT id, access_hash, CAST(bot AS INTEGER), CAST(is_self AS INTEGER), channel_kind,
                title, usernames
         FROM peers WHERE account = $1 AND id = $2",
    )
    .bind(account)
    .bind(id)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(record))
}

/// The username index of `account`: lower-cased name → peer id.
pub(super) async fn usernames(
    pool: &AnyPool,
    account: &str,
) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT username, peer_id FROM peer_usernames WHERE account = $1 ORDER BY username",
    )
    .bind(account)
    .fetch_all(pool)
    .await?)
}

/// Forgets every peer of `account` (its session now belongs to someone else).
pub(super) async fn clear(conn: &mut AnyConnection, account: &str) -> Result<(), StoreError> {
    for statement in [
        "DELETE FROM peers WHERE account = $1",
        "DELETE FROM peer_usernames WHERE account = $1",
    ] {
        sqlx::query(statement)
            .bind(account)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

fn record(row: PeerRow) -> PeerRecord {
    let (id, access_hash, bot, is_self, channel_kind, title, usernames) = row;
    PeerRecord {
        id,
        access_hash,
        bot: bot.map(|b| b != 0),
        is_self: is_self.map(|b| b != 0),
        channel_kind: channel_kind.as_deref().and_then(ChannelKind::parse),
        title,
        usernames: usernames.map(|joined| joined.split_whitespace().map(str::to_owned).collect()),
    }
}
