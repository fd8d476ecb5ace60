//! The durable store: the only code that touches disk for what mtgate learns and promises —
//! per account, peers with access hashes, the self user, update state, and idempotency
//! records (later: outbox jobs and events).
//!
//! - SQLite by default, at `MTGATE_STATE_DIR/mtgate.db`, in WAL mode with a small pool.
//!   sqlx runs each SQLite connection on its own thread, so no query blocks a runtime thread.
//!   The SQL is portable to PostgreSQL (see [`migrations`]), for the replicas to come.
//! - The directory is 0700 and the database files 0600, whatever the umask.
//! - Migrations run at [`Store::open`]; a database from a newer mtgate is refused.
//! - Learned state is written by one background task ([`writer`]); idempotency records are
//!   written before the answer is given, so a replay after a crash finds them.
//! - The auth key is never stored: the secret has one home, `TG_SESSION`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use tokio::sync::{mpsc, oneshot};

mod account;
pub mod events;
mod files;
mod idempotency;
pub mod legacy;
mod migrations;
mod peers;
mod updates;
mod webhooks;
mod writer;

pub use account::AccountStore;
pub use idempotency::{IdempotencyRecord, IdempotencyScope};
pub use peers::{ChannelKind, PeerRecord};
pub use updates::{UpdateChange, UpdateStateRecord};
pub use webhooks::{FailureRecord, WebhookRecord};

/// The database file under the state directory.
pub const DB_FILE: &str = "mtgate.db";

/// Connections in the SQLite pool: one writer at a time anyway, a few readers beside it.
const POOL_SIZE: u32 = 4;

/// How long a connection waits for another's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("database schema: {0}")]
    Schema(String),
    #[error("unreadable stored value: {0}")]
    Corrupt(String),
    #[error("the store's writer has stopped")]
    WriterGone,
    #[error("some learned state could not be stored (see the logged errors)")]
    WriteFailed,
}

/// A handle on the store; cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    pool: SqlitePool,
    writes: mpsc::UnboundedSender<writer::Write>,
    /// The database file (`None` in memory).
    path: Option<PathBuf>,
}

impl Store {
    /// Opens (creating if needed) the database under `state_dir` and migrates it.
    pub async fn open(state_dir: &Path) -> Result<Self, StoreError> {
        let path = state_dir.join(DB_FILE);
        files::prepare(state_dir.to_path_buf(), path.clone()).await?;
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(false)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(POOL_SIZE)
            .connect_with(options)
            .await?;
        files::restrict_side_files(path.clone()).await?;
        Self::start(pool, Some(path)).await
    }

    /// A private in-memory database (tests): one connection, kept for the store's life.
    pub async fn open_in_memory() -> Result<Self, StoreError> {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(SqliteConnectOptions::new().in_memory(true))
            .await?;
        Self::start(pool, None).await
    }

    async fn start(pool: SqlitePool, path: Option<PathBuf>) -> Result<Self, StoreError> {
        migrations::apply(&pool).await?;
        let (writes, queue) = mpsc::unbounded_channel();
        tokio::spawn(writer::run(pool.clone(), queue));
        Ok(Self {
            inner: Arc::new(Inner { pool, writes, path }),
        })
    }

    /// The database file, if on disk.
    pub fn path(&self) -> Option<&Path> {
        self.inner.path.as_deref()
    }

    /// The view of one account, by its name (see `accounts::Account::name`).
    pub fn account(&self, name: &str) -> AccountStore {
        AccountStore::new(self.clone(), name)
    }

    /// Waits until every write queued so far is committed.
    pub async fn flush(&self) -> Result<(), StoreError> {
        let (done, committed) = oneshot::channel();
        self.queue(writer::Write::Flush(done))?;
        match committed.await {
            Ok(true) => Ok(()),
            Ok(false) => Err(StoreError::WriteFailed),
            Err(_) => Err(StoreError::WriterGone),
        }
    }

    /// Flushes queued writes and closes the database (at shutdown).
    pub async fn close(&self) -> Result<(), StoreError> {
        let flushed = self.flush().await;
        self.inner.pool.close().await;
        flushed
    }

    /// The live idempotency record for `key` in `scope`.
    pub async fn idempotency_record(
        &self,
        scope: &IdempotencyScope,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        idempotency::get(&self.inner.pool, scope, key, now()).await
    }

    /// Stores an answer; committed when this returns.
    pub async fn save_idempotency_record(
        &self,
        scope: &IdempotencyScope,
        key: &str,
        record: &IdempotencyRecord,
    ) -> Result<(), StoreError> {
        idempotency::put(&self.inner.pool, scope, key, record).await
    }

    /// Deletes expired idempotency records; returns how many.
    pub async fn purge_expired_idempotency(&self) -> Result<u64, StoreError> {
        idempotency::purge(&self.inner.pool, now()).await
    }

    fn pool(&self) -> &SqlitePool {
        &self.inner.pool
    }

    fn queue(&self, write: writer::Write) -> Result<(), StoreError> {
        self.inner
            .writes
            .send(write)
            .map_err(|_| StoreError::WriterGone)
    }
}

/// Unix time in milliseconds (event times).
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Unix time in seconds, the store's clock for every timestamp.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[cfg(test)]
mod tests;
