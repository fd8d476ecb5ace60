//! The two databases the store runs on, and everything that differs between them: how a
//! pool is opened (SQLite's pragmas, PostgreSQL's URL), and how a write transaction takes
//! its lock. Queries elsewhere are written once, for sqlx's `Any` driver.

use std::path::Path;
use std::sync::Once;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyConnection, AnyPool, Connection, Executor, Transaction};

use super::StoreError;

/// Which database a store is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default: one file under `MTGATE_STATE_DIR`.
    Sqlite,
    /// Shared by replicas: `MTGATE_DATABASE_URL`.
    Postgres,
}

/// Connections in the SQLite pool: one writer at a time anyway, a few readers beside it.
const SQLITE_POOL_SIZE: u32 = 4;

/// Connections to PostgreSQL per replica.
const POSTGRES_POOL_SIZE: u32 = 8;

/// How long a SQLite connection waits for another's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long to wait for a PostgreSQL connection (the server may still be starting).
const POSTGRES_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The key of the transaction-scoped advisory lock that serialises PostgreSQL write
/// transactions which read before they write (and migrations): "mtgate" in ASCII.
const WRITE_LOCK_KEY: i64 = 0x6d_74_67_61_74_65;

/// Run on every new PostgreSQL connection. Our transactions never pause between statements
/// for more than a moment, so a session idle inside one for 5 s belongs to a replica that
/// froze (SIGSTOP, a stalled VM) mid-transaction: the server ends it, which releases the write
/// lock it held — otherwise every other replica's writes would wait until it thawed.
const IDLE_IN_TRANSACTION_TIMEOUT: &str = "SET idle_in_transaction_session_timeout = 5000";

/// Run on every new SQLite connection: WAL (readers never block the writer), a busy
/// timeout instead of instant `SQLITE_BUSY`, `NORMAL` sync (durable at checkpoints, safe
/// with WAL), and foreign keys on.
fn sqlite_pragmas() -> [String; 4] {
    [
        "PRAGMA journal_mode = WAL".into(),
        format!("PRAGMA busy_timeout = {}", BUSY_TIMEOUT.as_millis()),
        "PRAGMA synchronous = NORMAL".into(),
        "PRAGMA foreign_keys = ON".into(),
    ]
}

fn install_drivers() {
    static DRIVERS: Once = Once::new();
    DRIVERS.call_once(sqlx::any::install_default_drivers);
}

/// A pool on the existing SQLite file at `path` (the caller creates it with its mode), and
/// the file's URL.
pub async fn sqlite_file(path: &Path) -> Result<(AnyPool, String), StoreError> {
    let url = format!("sqlite://{}?mode=rw", encode_path(path)?);
    Ok((sqlite_pool(&url, SQLITE_POOL_SIZE, false).await?, url))
}

/// One connection outside any pool on the SQLite database at `url` (the event log's).
pub async fn sqlite_connection(url: &str) -> Result<AnyConnection, StoreError> {
    install_drivers();
    let mut conn = AnyConnection::connect(url).await?;
    for pragma in sqlite_pragmas() {
        conn.execute(pragma.as_str()).await?;
    }
    Ok(conn)
}

/// A private in-memory SQLite database: one connection, never closed while the pool lives
/// (closing it would lose the database).
pub async fn sqlite_memory() -> Result<AnyPool, StoreError> {
    sqlite_pool("sqlite::memory:", 1, true).await
}

async fn sqlite_pool(url: &str, size: u32, keep_open: bool) -> Result<AnyPool, StoreError> {
    install_drivers();
    let options: AnyConnectOptions = url.parse()?;
    let mut pool = AnyPoolOptions::new()
        .max_connections(size)
        // A SQLite connection is a thread in this process, not a socket that can go stale:
        // no ping round trip to it before every transaction (one fewer thread wake-up per
        // event commit; BENCHMARKS.md, issue 11).
        .test_before_acquire(false)
        .after_connect(|conn, _| {
            Box::pin(async move {
                for pragma in sqlite_pragmas() {
                    conn.execute(pragma.as_str()).await?;
                }
                Ok(())
            })
        });
    if keep_open {
        pool = pool
            .min_connections(size)
            .idle_timeout(None)
            .max_lifetime(None);
    }
    Ok(pool.connect_with(options).await?)
}

/// A pool on the PostgreSQL database at `url`.
pub async fn postgres(url: &str) -> Result<AnyPool, StoreError> {
    install_drivers();
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(StoreError::Schema(
            "the database URL must start with postgres:// or postgresql://".into(),
        ));
    }
    let options: AnyConnectOptions = url.parse()?;
    Ok(AnyPoolOptions::new()
        .max_connections(POSTGRES_POOL_SIZE)
        .acquire_timeout(POSTGRES_CONNECT_TIMEOUT)
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute(IDLE_IN_TRANSACTION_TIMEOUT).await?;
                Ok(())
            })
        })
        .connect_with(options)
        .await?)
}

/// SQL for the database's clock in Unix milliseconds (leases and heartbeats use it, so no
/// replica's own clock is ever compared with another's).
pub fn now_ms_sql(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "CAST((julianday('now') - 2440587.5) * 86400000.0 AS BIGINT)",
        Backend::Postgres => "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
    }
}

/// A transaction holding the database's write lock from its first statement.
pub async fn begin_write(
    pool: &AnyPool,
    backend: Backend,
) -> Result<Transaction<'static, Any>, StoreError> {
    match backend {
        Backend::Sqlite => Ok(pool.begin_with("BEGIN IMMEDIATE").await?),
        Backend::Postgres => {
            let mut tx = pool.begin().await?;
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(WRITE_LOCK_KEY)
                .execute(&mut *tx)
                .await?;
            Ok(tx)
        }
    }
}

/// The path as the URL's percent-encoded path part (so `?`, `#`, `%` and spaces in a state
/// directory's name survive).
fn encode_path(path: &Path) -> Result<String, StoreError> {
    let text = path.to_str().ok_or_else(|| {
        StoreError::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "the database path {} is not valid UTF-8",
                path.to_string_lossy()
            ),
        ))
    })?;
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"/-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_keep_plain_characters_and_escape_the_rest() {
        assert_eq!(
            encode_path(Path::new("/var/lib/mtgate_1/state.db")).unwrap(),
            "/var/lib/mtgate_1/state.db"
        );
        assert_eq!(
            encode_path(Path::new("/tmp/a b?#%/x.db")).unwrap(),
            "/tmp/a%20b%3F%23%25/x.db"
        );
        assert_eq!(
            encode_path(Path::new("/tmp/é")).unwrap(),
            "/tmp/%C3%A9",
            "non-ASCII bytes are escaped one by one"
        );
    }

    #[tokio::test]
    async fn a_database_url_that_is_not_postgres_is_refused_with_its_reason() {
        let err = postgres("mysql://localhost/db").await.unwrap_err();
        assert!(err.to_string().contains("postgres://"), "{err}");
    }
}
