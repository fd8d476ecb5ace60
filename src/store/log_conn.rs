//! Where the event log's one-command transactions run on SQLite (see [`super::script`]).
//!
//! A file store gives the log a connection of its own, outside the pool. sqlx's pool hands
//! out idle connections in turn, and a SQLite connection drops its page cache whenever
//! another connection wrote since it last ran, so with the pool every commit started on a
//! cold cache and re-read its pages (a profile showed the reads and cache resets as the
//! largest share of the SQLite threads' time). On its own connection the log finds its
//! pages where it left them as long as nothing else wrote in between.
//!
//! sqlx does not know about these transactions (their `BEGIN` is part of the string), so a
//! failure is rolled back here, and a connection that could not be rolled back, or whose
//! caller stopped waiting halfway, is closed rather than used again: closing rolls back.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Connection};
use tokio::sync::Mutex;

use super::StoreError;
use super::script::{Script, bind_all};

/// The connection the log commits on, or the pool's (a private in-memory database has
/// only the one connection).
pub(super) enum LogConnection {
    Own {
        url: String,
        /// Taken out while a transaction runs: if its future is dropped halfway, the
        /// connection goes with it and the next commit opens a new one.
        slot: Mutex<Option<AnyConnection>>,
    },
    Pool(AnyPool),
}

impl LogConnection {
    /// A connection of its own on the SQLite database at `url`, opened now.
    pub async fn own(url: String) -> Result<Self, StoreError> {
        let conn = super::backend::sqlite_connection(&url).await?;
        Ok(Self::Own {
            url,
            slot: Mutex::new(Some(conn)),
        })
    }

    /// Runs `body` as one write transaction, in one command to the connection's thread.
    pub async fn run(&self, body: &Script<'_>) -> Result<Vec<AnyRow>, StoreError> {
        match self {
            Self::Own { url, slot } => {
                let mut slot = slot.lock().await;
                let mut conn = match slot.take() {
                    Some(conn) => conn,
                    None => super::backend::sqlite_connection(url).await?,
                };
                let (result, fit) = run_on(&mut conn, body).await;
                if fit {
                    *slot = Some(conn);
                }
                result
            }
            Self::Pool(pool) => {
                let mut guard = ClosesUnlessFit(Some(pool.acquire().await?));
                let Some(conn) = guard.0.as_mut() else {
                    unreachable!("the connection was just acquired");
                };
                let (result, fit) = run_on(conn, body).await;
                if fit {
                    guard.0.take();
                }
                result
            }
        }
    }

    /// Closes the log's own connection (at shutdown).
    pub async fn close(&self) {
        if let Self::Own { slot, .. } = self
            && let Some(conn) = slot.lock().await.take()
            && let Err(e) = conn.close().await
        {
            tracing::warn!(error = %e, "the event log's connection did not close cleanly");
        }
    }
}

/// Runs `body` on `conn`; returns the rows and whether `conn` may be used again (no
/// transaction left open).
async fn run_on(
    conn: &mut AnyConnection,
    body: &Script<'_>,
) -> (Result<Vec<AnyRow>, StoreError>, bool) {
    let (sql, args) = body.as_transaction();
    let result = bind_all(sqlx::query(&sql), args)
        .fetch_all(&mut *conn)
        .await
        .map_err(StoreError::from);
    if let Err(e) = &result {
        tracing::debug!(error = %e, "an event commit failed; rolling it back");
        if let Err(rollback) = sqlx::query("ROLLBACK").execute(&mut *conn).await {
            // Also when BEGIN itself failed (nothing to roll back): the connection is
            // closed either way, so no transaction can leak.
            tracing::debug!(error = %rollback, "no rollback; closing the connection");
            return (result, false);
        }
    }
    (result, true)
}

/// A pooled connection that is closed, not returned to the pool, unless taken out: a
/// transaction cut off halfway must not be handed to the pool's next user.
struct ClosesUnlessFit(Option<sqlx::pool::PoolConnection<sqlx::Any>>);

impl Drop for ClosesUnlessFit {
    fn drop(&mut self) {
        if let Some(conn) = self.0.as_mut() {
            conn.close_on_drop();
        }
    }
}
