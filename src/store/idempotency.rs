//! Idempotency records: the final answer given to a request with an `Idempotency-Key`, kept
//! until it expires so a retry — even after a restart — gets the same answer. Records are
//! scoped per API-key *name* and account: two callers never see each other's answers.

use sqlx::AnyPool;

use super::StoreError;

/// Whose key space a record lives in.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IdempotencyScope {
    /// The name of the API key (never the key itself).
    pub key_name: String,
    pub account: String,
}

/// A stored answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// SHA-256 of the request (method, path, canonical body).
    pub fingerprint: Vec<u8>,
    pub status: u16,
    /// The response headers worth replaying (content type, `Retry-After`).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Unix seconds.
    pub created_at: i64,
    pub expires_at: i64,
}

type RecordRow = (Vec<u8>, i64, String, Vec<u8>, i64, i64);

/// The live (unexpired at `now`) record for `key`, if any.
pub(super) async fn get(
    pool: &AnyPool,
    scope: &IdempotencyScope,
    key: &str,
    now: i64,
) -> Result<Option<IdempotencyRecord>, StoreError> {
    let row: Option<RecordRow> = sqlx::query_as(
        "SELECT fingerprint, status, headers, body, created_at, expires_at FROM idempotency
         WHERE key_name = $1 AND account = $2 AND idem_key = $3 AND expires_at > $4",
    )
    .bind(&scope.key_name)
    .bind(&scope.account)
    .bind(key)
    .bind(now)
    .fetch_optional(pool)
    .await?;
    let Some((fingerprint, status, headers, body, created_at, expires_at)) = row else {
        return Ok(None);
    };
    Ok(Some(IdempotencyRecord {
        fingerprint,
        status: u16::try_from(status)
            .map_err(|_| StoreError::Corrupt(format!("HTTP status {status}")))?,
        headers: serde_json::from_str(&headers)
            .map_err(|e| StoreError::Corrupt(format!("stored headers: {e}")))?,
        body,
        created_at,
        expires_at,
    }))
}

/// Stores `record` for `key` (replacing an expired one with the same key).
pub(super) async fn put(
    pool: &AnyPool,
    scope: &IdempotencyScope,
    key: &str,
    record: &IdempotencyRecord,
) -> Result<(), StoreError> {
    let headers = serde_json::to_string(&record.headers)
        .map_err(|e| StoreError::Corrupt(format!("headers: {e}")))?;
    sqlx::query(
        "INSERT INTO idempotency
            (key_name, account, idem_key, fingerprint, status, headers, body, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (key_name, account, idem_key) DO UPDATE SET
            fingerprint = excluded.fingerprint, status = excluded.status,
            headers = excluded.headers, body = excluded.body,
            created_at = excluded.created_at, expires_at = excluded.expires_at",
    )
    .bind(&scope.key_name)
    .bind(&scope.account)
    .bind(key)
    .bind(&record.fingerprint)
    .bind(i64::from(record.status))
    .bind(headers)
    .bind(&record.body)
    .bind(record.created_at)
    .bind(record.expires_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// Deletes records expired at `now`; returns how many.
pub(super) async fn purge(pool: &AnyPool, now: i64) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM idempotency WHERE expires_at <= $1")
        .bind(now)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}
