//! The durable store: the only code that touches disk for what mtgate learns and promises —
//! per account, peers with access hashes, the self user, update state, and idempotency
//! records, outbox jobs (later: events).
//!
//! - SQLite by default, at `MTGATE_STATE_DIR/mtgate.db`, in WAL mode with a small pool.
//!   sqlx runs each SQLite connection on its own thread, so no query blocks a runtime thread.
//! - PostgreSQL when `MTGATE_DATABASE_URL` is set ([`Store::connect`]), for replicas sharing
//!   one database. Both run the same SQL through sqlx's `Any` driver: `$N` placeholders,
//!   portable types (see [`migrations`]); the few differences live in [`backend`].
//! - The directory is 0700 and the database files 0600, whatever the umask.
//! - Migrations run at [`Store::open`]; a database from a newer mtgate is refused.
//! - Learned state is written by one background task ([`writer`]); idempotency records are
//!   written before the answer is given, so a replay after a crash finds them.
//! - The auth key is never stored: the secret has one home, `TG_SESSION`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sqlx::AnyPool;
use tokio::sync::{mpsc, oneshot};

mod account;
mod backend;
mod cluster;
mod event_append;
mod event_json;
pub mod events;
mod files;
mod idempotency;
pub mod jobs;
pub mod legacy;
mod log_conn;
mod migrations;
mod peers;
mod script;
mod updates;
mod webhooks;
mod writer;

pub use account::AccountStore;
pub use backend::Backend;
pub use cluster::{Granted, LeaseRecord, ReplicaRecord};
pub use idempotency::{IdempotencyRecord, IdempotencyScope};
pub use jobs::{EnqueueKey, Enqueued, JobFilter, Transitioned};
pub use peers::{ChannelKind, PeerRecord};
pub use updates::{UpdateChange, UpdateStateRecord};

/// What one append to the event log logged: how many events (repeats of a fact already
/// logged are skipped) and the newest id, if any.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Appended {
    pub count: usize,
    pub last_id: Option<i64>,
}
pub use webhooks::{FailureRecord, WebhookRecord};

/// The database file under the state directory.
pub const DB_FILE: &str = "mtgate.db";

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
    pool: AnyPool,
    backend: Backend,
    writes: mpsc::UnboundedSender<writer::Write>,
    /// Where the event log commits on SQLite (unused on PostgreSQL).
    log: log_conn::LogConnection,
    /// The database file (`None` in memory).
    path: Option<PathBuf>,
}

impl Store {
    /// Opens (creating if needed) the SQLite database under `state_dir` and migrates it.
    pub async fn open(state_dir: &Path) -> Result<Self, StoreError> {
        let path = state_dir.join(DB_FILE);
        files::prepare(state_dir.to_path_buf(), path.clone()).await?;
        let (pool, url) = backend::sqlite_file(&path).await?;
        files::restrict_side_files(path.clone()).await?;
        let store = Self::start(pool, Backend::Sqlite, Some(path)).await?;
        // After the migrations: the log's connection must see the final schema.
        let log = log_conn::LogConnection::own(url).await?;
        Ok(store.with_log_connection(log))
    }

    /// Connects to the PostgreSQL database at `url` (`postgres://…`) and migrates it; safe
    /// when several replicas start together.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = backend::postgres(url).await?;
        Self::start(pool, Backend::Postgres, None).await
    }

    /// A private in-memory SQLite database (tests): one connection, kept for the store's life.
    pub async fn open_in_memory() -> Result<Self, StoreError> {
        let pool = backend::sqlite_memory().await?;
        Self::start(pool, Backend::Sqlite, None).await
    }

    async fn start(
        pool: AnyPool,
        backend: Backend,
        path: Option<PathBuf>,
    ) -> Result<Self, StoreError> {
        migrations::apply(&pool, backend).await?;
        let (writes, queue) = mpsc::unbounded_channel();
        tokio::spawn(writer::run(pool.clone(), queue));
        Ok(Self {
            inner: Arc::new(Inner {
                log: log_conn::LogConnection::Pool(pool.clone()),
                pool,
                backend,
                writes,
                path,
            }),
        })
    }

    /// The same store with the event log on `log` (called once, before the store is shared).
    fn with_log_connection(self, log: log_conn::LogConnection) -> Self {
        let inner = Arc::try_unwrap(self.inner)
            .unwrap_or_else(|_| unreachable!("the store was not shared yet"));
        Self {
            inner: Arc::new(Inner { log, ..inner }),
        }
    }

    /// Which database this store is on.
    pub fn backend(&self) -> Backend {
        self.inner.backend
    }

    /// A transaction that holds the write lock from its start (SQLite `BEGIN IMMEDIATE`, a
    /// transaction-scoped advisory lock on PostgreSQL), for read-then-write steps that must
    /// not interleave with another process's.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        backend::begin_write(&self.inner.pool, self.inner.backend).await
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
        self.inner.log.close().await;
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

    /// Records that replica `id` (reachable at `address`) is alive; returns the database's
    /// clock (Unix ms).
    pub async fn heartbeat(&self, id: &str, address: &str) -> Result<i64, StoreError> {
        cluster::heartbeat(self.pool(), self.backend(), id, address).await
    }

    /// Every replica that ever sent a heartbeat (until forgotten), and the database's clock.
    pub async fn replicas(&self) -> Result<(Vec<ReplicaRecord>, i64), StoreError> {
        cluster::replicas(self.pool(), self.backend()).await
    }

    /// Forgets replicas last seen before `before_ms`.
    pub async fn forget_replicas(&self, before_ms: i64) -> Result<u64, StoreError> {
        cluster::forget_replicas(self.pool(), before_ms).await
    }

    /// Every account lease, and the database's clock.
    pub async fn leases(&self) -> Result<(Vec<LeaseRecord>, i64), StoreError> {
        cluster::leases(self.pool(), self.backend()).await
    }

    /// Takes `account`'s lease for `holder` if nobody holds it.
    pub async fn acquire_lease(
        &self,
        account: &str,
        holder: &str,
        ttl_ms: i64,
    ) -> Result<Option<Granted>, StoreError> {
        cluster::acquire(self.pool(), self.backend(), account, holder, ttl_ms).await
    }

    /// Extends a lease `holder` still has.
    pub async fn renew_lease(
        &self,
        account: &str,
        holder: &str,
        token: i64,
        ttl_ms: i64,
    ) -> Result<Option<Granted>, StoreError> {
        cluster::renew(self.pool(), self.backend(), account, holder, token, ttl_ms).await
    }

    /// Gives a lease up at once.
    pub async fn release_lease(
        &self,
        account: &str,
        holder: &str,
        token: i64,
    ) -> Result<bool, StoreError> {
        cluster::release(self.pool(), account, holder, token).await
    }

    fn pool(&self) -> &AnyPool {
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
mod event_tests;
#[cfg(test)]
pub(crate) mod tests;
