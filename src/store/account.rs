//! [`AccountStore`]: the store as one account sees it. Everything an account learns is keyed
//! by its name, so several accounts share one database without seeing each other's peers.

use std::sync::Arc;

use super::writer::Write;
use super::{PeerRecord, Store, StoreError, UpdateChange, UpdateStateRecord, peers, updates};

/// One account's view of the store; cheap to clone.
#[derive(Clone)]
pub struct AccountStore {
    store: Store,
    name: Arc<str>,
}

impl AccountStore {
    pub(super) fn new(store: Store, name: &str) -> Self {
        Self {
            store,
            name: name.into(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The whole store this view belongs to.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Records which session key the account runs on (by the key's public id). A different
    /// key than last time may be another Telegram user, whose access hashes and update state
    /// would be wrong here: they are forgotten. Returns whether they were.
    pub async fn bind_session(&self, auth_key_id: u64) -> Result<bool, StoreError> {
        let key_id = format!("{auth_key_id:016x}");
        // IMMEDIATE: this reads, then writes; a deferred transaction would fail with
        // SQLITE_BUSY_SNAPSHOT when another account's writes land in between.
        let mut tx = self.store.begin_write().await?;
        let known: Option<(Option<String>,)> =
            sqlx::query_as("SELECT auth_key_id FROM accounts WHERE name = $1")
                .bind(&*self.name)
                .fetch_optional(&mut *tx)
                .await?;
        let reset = match known {
            None => {
                sqlx::query(
                    "INSERT INTO accounts (name, auth_key_id, created_at) VALUES ($1, $2, $3)",
                )
                .bind(&*self.name)
                .bind(&key_id)
                .bind(super::now())
                .execute(&mut *tx)
                .await?;
                false
            }
            Some((Some(old),)) if old == key_id => false,
            Some((old,)) => {
                // `None`: rows imported before any key was bound keep what they hold.
                let reset = old.is_some();
                if reset {
                    peers::clear(&mut tx, &self.name).await?;
                    updates::clear(&mut tx, &self.name).await?;
                }
                sqlx::query("UPDATE accounts SET auth_key_id = $1, self_id = NULL WHERE name = $2")
                    .bind(&key_id)
                    .bind(&*self.name)
                    .execute(&mut *tx)
                    .await?;
                reset
            }
        };
        tx.commit().await?;
        Ok(reset)
    }

    /// Records the logged-in user's id. If another user was recorded, the peers learned under
    /// it are forgotten (access hashes are per user); returns whether they were.
    pub async fn bind_self(&self, self_id: i64) -> Result<bool, StoreError> {
        // Queued peer writes must land before a possible clear, not after it.
        self.store.flush().await?;
        // IMMEDIATE: this reads, then writes; a deferred transaction would fail with
        // SQLITE_BUSY_SNAPSHOT when another account's writes land in between.
        let mut tx = self.store.begin_write().await?;
        let known: Option<(Option<i64>,)> =
            sqlx::query_as("SELECT self_id FROM accounts WHERE name = $1")
                .bind(&*self.name)
                .fetch_optional(&mut *tx)
                .await?;
        let reset = matches!(known, Some((Some(old),)) if old != self_id);
        if reset {
            peers::clear(&mut tx, &self.name).await?;
            updates::clear(&mut tx, &self.name).await?;
        }
        sqlx::query(
            "INSERT INTO accounts (name, self_id, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET self_id = excluded.self_id",
        )
        .bind(&*self.name)
        .bind(self_id)
        .bind(super::now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(reset)
    }

    /// The logged-in user's id, if recorded.
    pub async fn self_id(&self) -> Result<Option<i64>, StoreError> {
        let row: Option<(Option<i64>,)> =
            sqlx::query_as("SELECT self_id FROM accounts WHERE name = $1")
                .bind(&*self.name)
                .fetch_optional(self.store.pool())
                .await?;
        Ok(row.and_then(|(id,)| id))
    }

    /// Every peer the account knows.
    pub async fn peers(&self) -> Result<Vec<PeerRecord>, StoreError> {
        peers::all(self.store.pool(), &self.name).await
    }

    /// The peer `id` (Bot-API form) as committed so far; [`Store::flush`] first to see
    /// what was queued a moment ago.
    pub async fn peer(&self, id: i64) -> Result<Option<PeerRecord>, StoreError> {
        peers::get(self.store.pool(), &self.name, id).await
    }

    /// The username index: lower-cased name → peer id.
    pub async fn usernames(&self) -> Result<Vec<(String, i64)>, StoreError> {
        peers::usernames(self.store.pool(), &self.name).await
    }

    /// The update state (zeros when nothing was stored yet).
    pub async fn update_state(&self) -> Result<UpdateStateRecord, StoreError> {
        updates::load(self.store.pool(), &self.name).await
    }

    /// Queues peers to store (merged into what is known; see [`PeerRecord`]).
    pub fn save_peers(&self, peers: Vec<PeerRecord>) -> Result<(), StoreError> {
        if peers.is_empty() {
            return Ok(());
        }
        self.store.queue(Write::Peers {
            account: self.name.clone(),
            peers,
        })
    }

    /// Queues `username` (any case) → `peer_id` in the username index.
    pub fn save_username(&self, username: &str, peer_id: i64) -> Result<(), StoreError> {
        self.store.queue(Write::Username {
            account: self.name.clone(),
            username: username.to_owned(),
            peer_id,
        })
    }

    /// Queues a change of the update state.
    pub fn save_update_state(&self, change: UpdateChange) -> Result<(), StoreError> {
        self.store.queue(Write::UpdateState {
            account: self.name.clone(),
            change,
        })
    }
}
