//! Replicas and account leases: which replica may drive which account's Telegram connection.
//!
//! A lease is a row with a holder, an expiry on the database's clock and a fencing token that
//! grows with every new holder. Only an expired or released lease can be taken, so a replica
//! that dies releases nothing and loses its leases when they expire; a holder renews its
//! lease only while it has not expired, so a stalled holder cannot extend a lease another
//! replica already took.

use sqlx::{AnyPool, Row};

use super::StoreError;
use super::backend::{Backend, now_ms_sql};

/// One replica's row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaRecord {
    pub id: String,
    pub address: String,
    pub started_at_ms: i64,
    pub last_seen_ms: i64,
}

/// One account's lease.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaseRecord {
    pub account: String,
    /// `None` when released.
    pub holder: Option<String>,
    pub token: i64,
    pub acquired_at_ms: i64,
    pub expires_at_ms: i64,
}

/// A lease just taken or renewed, with the database's clock when it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Granted {
    pub token: i64,
    pub expires_at_ms: i64,
    pub now_ms: i64,
}

/// Records that `id` is alive (inserting it on first sight); returns the database's clock.
pub(super) async fn heartbeat(
    pool: &AnyPool,
    backend: Backend,
    id: &str,
    address: &str,
) -> Result<i64, StoreError> {
    let now = now_ms_sql(backend);
    let row = sqlx::query(&format!(
        "INSERT INTO replicas (id, address, started_at_ms, last_seen_ms) VALUES ($1, $2, {now}, {now})
         ON CONFLICT (id) DO UPDATE SET address = excluded.address, last_seen_ms = excluded.last_seen_ms
         RETURNING last_seen_ms"
    ))
    .bind(id)
    .bind(address)
    .fetch_one(pool)
    .await?;
    Ok(row.try_get(0)?)
}

/// Every replica, with the database's clock now.
pub(super) async fn replicas(
    pool: &AnyPool,
    backend: Backend,
) -> Result<(Vec<ReplicaRecord>, i64), StoreError> {
    let rows: Vec<(String, String, i64, i64)> =
        sqlx::query_as("SELECT id, address, started_at_ms, last_seen_ms FROM replicas ORDER BY id")
            .fetch_all(pool)
            .await?;
    let replicas = rows
        .into_iter()
        .map(|(id, address, started_at_ms, last_seen_ms)| ReplicaRecord {
            id,
            address,
            started_at_ms,
            last_seen_ms,
        })
        .collect();
    Ok((replicas, db_now(pool, backend).await?))
}

/// Forgets replicas not seen since `before_ms` (the database's clock).
pub(super) async fn forget_replicas(pool: &AnyPool, before_ms: i64) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM replicas WHERE last_seen_ms < $1")
        .bind(before_ms)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}

/// Every lease, with the database's clock now.
pub(super) async fn leases(
    pool: &AnyPool,
    backend: Backend,
) -> Result<(Vec<LeaseRecord>, i64), StoreError> {
    let rows: Vec<(String, Option<String>, i64, i64, i64)> = sqlx::query_as(
        "SELECT account, holder, token, acquired_at_ms, expires_at_ms FROM leases ORDER BY account",
    )
    .fetch_all(pool)
    .await?;
    let leases = rows
        .into_iter()
        .map(
            |(account, holder, token, acquired_at_ms, expires_at_ms)| LeaseRecord {
                account,
                holder,
                token,
                acquired_at_ms,
                expires_at_ms,
            },
        )
        .collect();
    Ok((leases, db_now(pool, backend).await?))
}

/// Takes `account`'s lease for `holder` for `ttl_ms` if nobody holds it (never held,
/// released, or expired); `None` when another replica holds it.
pub(super) async fn acquire(
    pool: &AnyPool,
    backend: Backend,
    account: &str,
    holder: &str,
    ttl_ms: i64,
) -> Result<Option<Granted>, StoreError> {
    let now = now_ms_sql(backend);
    let row = sqlx::query(&format!(
        "INSERT INTO leases (account, holder, token, acquired_at_ms, expires_at_ms)
         VALUES ($1, $2, 1, {now}, {now} + $3)
         ON CONFLICT (account) DO UPDATE SET
            holder = excluded.holder, token = leases.token + 1,
            acquired_at_ms = excluded.acquired_at_ms, expires_at_ms = excluded.expires_at_ms
         WHERE leases.holder IS NULL OR leases.expires_at_ms <= excluded.acquired_at_ms
         RETURNING token, expires_at_ms, acquired_at_ms"
    ))
    .bind(account)
    .bind(holder)
    .bind(ttl_ms)
    .fetch_optional(pool)
    .await?;
    row.map(|row| {
        Ok(Granted {
            token: row.try_get(0)?,
            expires_at_ms: row.try_get(1)?,
            now_ms: row.try_get(2)?,
        })
    })
    .transpose()
}

/// Extends `holder`'s unexpired lease `token` on `account` by `ttl_ms` from now; `None` when
/// it is no longer theirs (expired, taken over, released).
pub(super) async fn renew(
    pool: &AnyPool,
    backend: Backend,
    account: &str,
    holder: &str,
    token: i64,
    ttl_ms: i64,
) -> Result<Option<Granted>, StoreError> {
    let now = now_ms_sql(backend);
    let row = sqlx::query(&format!(
        "UPDATE leases SET expires_at_ms = {now} + $4
         WHERE account = $1 AND holder = $2 AND token = $3 AND expires_at_ms > {now}
         RETURNING expires_at_ms, {now}"
    ))
    .bind(account)
    .bind(holder)
    .bind(token)
    .bind(ttl_ms)
    .fetch_optional(pool)
    .await?;
    row.map(|row| {
        Ok(Granted {
            token,
            expires_at_ms: row.try_get(0)?,
            now_ms: row.try_get(1)?,
        })
    })
    .transpose()
}

/// Gives `holder`'s lease `token` on `account` up at once (a graceful stop or a rebalance),
/// so another replica need not wait for it to expire.
pub(super) async fn release(
    pool: &AnyPool,
    account: &str,
    holder: &str,
    token: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE leases SET holder = NULL, expires_at_ms = 0
         WHERE account = $1 AND holder = $2 AND token = $3",
    )
    .bind(account)
    .bind(holder)
    .bind(token)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

async fn db_now(pool: &AnyPool, backend: Backend) -> Result<i64, StoreError> {
    let (now,): (i64,) = sqlx::query_as(&format!("SELECT {}", now_ms_sql(backend)))
        .fetch_one(pool)
        .await?;
    Ok(now)
}
