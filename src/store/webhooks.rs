//! Webhook subscriptions, how far each got in its account's log, and its dead letters.

use super::{Store, StoreError};

/// A stored subscription. `events` and `chats` are empty for "all".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookRecord {
    pub id: String,
    pub account: String,
    pub url: String,
    pub secret: String,
    pub events: Vec<String>,
    /// Bot-API chat ids.
    pub chats: Vec<i64>,
    /// `api` or `config`.
    pub source: String,
    pub created_at: i64,
}

/// An event a webhook gave up on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailureRecord {
    pub event_id: i64,
    pub attempts: i64,
    pub last_error: String,
    pub failed_at: i64,
}

type Row = (String, String, String, String, String, String, String, i64);

fn record(
    (id, account, url, secret, events, chats, source, created_at): Row,
) -> Result<WebhookRecord, StoreError> {
    let corrupt = |e: serde_json::Error| StoreError::Corrupt(format!("webhook {id}: {e}"));
    Ok(WebhookRecord {
        events: serde_json::from_str(&events).map_err(corrupt)?,
        chats: serde_json::from_str(&chats).map_err(corrupt)?,
        id,
        account,
        url,
        secret,
        source,
        created_at,
    })
}

impl Store {
    /// Stores (or, for the same id, replaces) a subscription whose cursor starts at
    /// `cursor` (a replaced one keeps its own).
    pub async fn put_webhook(&self, hook: &WebhookRecord, cursor: i64) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO webhooks (id, account, url, secret, events, chats, source, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (id) DO UPDATE SET account = excluded.account, url = excluded.url,
                secret = excluded.secret, events = excluded.events, chats = excluded.chats,
                source = excluded.source",
        )
        .bind(&hook.id)
        .bind(&hook.account)
        .bind(&hook.url)
        .bind(&hook.secret)
        .bind(serde_json::to_string(&hook.events).expect("strings serialize"))
        .bind(serde_json::to_string(&hook.chats).expect("ids serialize"))
        .bind(&hook.source)
        .bind(hook.created_at)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO webhook_cursors (webhook_id, last_event_id) VALUES ($1, $2)
             ON CONFLICT (webhook_id) DO NOTHING",
        )
        .bind(&hook.id)
        .bind(cursor)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every subscription, oldest first.
    pub async fn webhooks(&self) -> Result<Vec<WebhookRecord>, StoreError> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, account, url, secret, events, chats, source, created_at
             FROM webhooks ORDER BY created_at, id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(record).collect()
    }

    /// Deletes a subscription with its cursor and failures; whether it existed.
    pub async fn delete_webhook(&self, id: &str) -> Result<bool, StoreError> {
        let mut tx = self.pool().begin().await?;
        let gone = sqlx::query("DELETE FROM webhooks WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        for statement in [
            "DELETE FROM webhook_cursors WHERE webhook_id = $1",
            "DELETE FROM webhook_failures WHERE webhook_id = $1",
        ] {
            sqlx::query(statement).bind(id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(gone > 0)
    }

    pub async fn webhook_cursor(&self, id: &str) -> Result<i64, StoreError> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT last_event_id FROM webhook_cursors WHERE webhook_id = $1")
                .bind(id)
                .fetch_optional(self.pool())
                .await?;
        Ok(row.map_or(0, |(c,)| c))
    }

    /// Moves the cursor past `event_id`, recording `failure` for it first when it failed.
    pub async fn advance_webhook(
        &self,
        id: &str,
        event_id: i64,
        failure: Option<&FailureRecord>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        if let Some(failure) = failure {
            put_failure(&mut tx, id, failure).await?;
        }
        sqlx::query(
            "INSERT INTO webhook_cursors (webhook_id, last_event_id) VALUES ($1, $2)
             ON CONFLICT (webhook_id) DO UPDATE SET last_event_id = excluded.last_event_id",
        )
        .bind(id)
        .bind(event_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records (or updates) a failure without moving the cursor (a failed redelivery).
    pub async fn put_webhook_failure(
        &self,
        id: &str,
        failure: &FailureRecord,
    ) -> Result<(), StoreError> {
        let mut conn = self.pool().acquire().await?;
        put_failure(&mut conn, id, failure).await
    }

    pub async fn webhook_failures(&self, id: &str) -> Result<Vec<FailureRecord>, StoreError> {
        let rows: Vec<(i64, i64, String, i64)> = sqlx::query_as(
            "SELECT event_id, attempts, last_error, failed_at FROM webhook_failures
             WHERE webhook_id = $1 ORDER BY event_id",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(event_id, attempts, last_error, failed_at)| FailureRecord {
                    event_id,
                    attempts,
                    last_error,
                    failed_at,
                },
            )
            .collect())
    }

    /// Forgets a failure (its event was delivered after all).
    pub async fn remove_webhook_failure(&self, id: &str, event_id: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM webhook_failures WHERE webhook_id = $1 AND event_id = $2")
            .bind(id)
            .bind(event_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

async fn put_failure(
    conn: &mut sqlx::AnyConnection,
    id: &str,
    failure: &FailureRecord,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO webhook_failures (webhook_id, event_id, attempts, last_error, failed_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (webhook_id, event_id) DO UPDATE SET attempts = excluded.attempts,
            last_error = excluded.last_error, failed_at = excluded.failed_at",
    )
    .bind(id)
    .bind(failure.event_id)
    .bind(failure.attempts)
    .bind(&failure.last_error)
    .bind(failure.failed_at)
    .execute(conn)
    .await?;
    Ok(())
}
