//! The event log: per account, events with ids that only grow (a counter row per account, so
//! ids are never reused after retention deletes the newest ones), appended in the caller's
//! transaction together with whatever produced them (the update state, a job's new state).

use std::collections::HashSet;
use std::fmt::Write as _;

use chrono::DateTime;
use sqlx::{AnyConnection, AnyPool};

use super::StoreError;
use crate::domain::{Event, EventType, NewEvent};

/// Appends `events` for `account` inside the caller's transaction; returns those logged (a
/// fact whose `dedup` is already in the log, or earlier in `events`, is skipped), with their
/// ids, in order.
///
/// A constant number of statements whatever the batch size (the event writer merges bursts):
/// one lookup of the batch's dedup keys, one counter bump that reserves the ids, and the
/// rows in a few multi-row inserts. Ids stay gapless: only the events kept are counted.
pub async fn append(
    conn: &mut AnyConnection,
    account: &str,
    events: &[NewEvent],
    now_ms: i64,
) -> Result<Vec<Event>, StoreError> {
    let seen = logged_dedups(conn, account, events).await?;
    let mut batch_dedups = HashSet::new();
    let fresh: Vec<&NewEvent> = events
        .iter()
        .filter(|event| match &event.dedup {
            Some(dedup) => !seen.contains(dedup) && batch_dedups.insert(dedup.as_str()),
            None => true,
        })
        .collect();
    if fresh.is_empty() {
        return Ok(Vec::new());
    }
    let count = fresh.len() as i64;
    let (last,): (i64,) = sqlx::query_as(
        "INSERT INTO event_counters (account, last_id) VALUES ($1, $2)
         ON CONFLICT (account) DO UPDATE SET last_id = event_counters.last_id + excluded.last_id
         RETURNING last_id",
    )
    .bind(account)
    .bind(count)
    .fetch_one(&mut *conn)
    .await?;
    let first = last - count + 1;
    let mut rest = &fresh[..];
    let mut next = first;
    while !rest.is_empty() {
        let (chunk, tail) = rest.split_at(chunk_len(rest.len()));
        insert_rows(conn, account, chunk, next, now_ms).await?;
        next += chunk.len() as i64;
        rest = tail;
    }
    let created_at = DateTime::from_timestamp_millis(now_ms).unwrap_or_default();
    Ok(fresh
        .into_iter()
        .zip(first..)
        .map(|(event, id)| Event {
            id,
            account: account.to_string(),
            kind: event.kind,
            created_at,
            chat: event.chat,
            data: event.data.clone(),
        })
        .collect())
}

/// Most rows per insert: 1 792 parameters, below SQLite's limit (32 766) and PostgreSQL's
/// (65 535).
const MAX_ROWS_PER_INSERT: usize = 256;

/// The next insert's size: the largest power of two that fits, so a connection's statement
/// cache holds at most nine shapes of the insert instead of one per batch size.
fn chunk_len(remaining: usize) -> usize {
    let fits = 1 << remaining.ilog2();
    fits.min(MAX_ROWS_PER_INSERT)
}

async fn insert_rows(
    conn: &mut AnyConnection,
    account: &str,
    rows: &[&NewEvent],
    first_id: i64,
    now_ms: i64,
) -> Result<(), StoreError> {
    let mut sql = String::from(
        "INSERT INTO events (account, id, type, chat_id, dedup, created_at, data) VALUES ",
    );
    for i in 0..rows.len() {
        let p = i * 7;
        if i > 0 {
            sql.push_str(", ");
        }
        // Writing to a String cannot fail.
        let _ = write!(
            sql,
            "(${}, ${}, ${}, ${}, ${}, ${}, ${})",
            p + 1,
            p + 2,
            p + 3,
            p + 4,
            p + 5,
            p + 6,
            p + 7
        );
    }
    let mut query = sqlx::query(&sql);
    for (event, id) in rows.iter().zip(first_id..) {
        query = query
            .bind(account)
            .bind(id)
            .bind(event.kind.as_str())
            .bind(event.chat)
            .bind(event.dedup.as_deref())
            .bind(now_ms)
            .bind(event.data.to_string());
    }
    query.execute(&mut *conn).await?;
    Ok(())
}

/// The dedup keys of `events` already in `account`'s log, looked up in one statement per
/// up to [`MAX_ROWS_PER_INSERT`] keys (the list padded to a power of two, for the cache).
async fn logged_dedups(
    conn: &mut AnyConnection,
    account: &str,
    events: &[NewEvent],
) -> Result<HashSet<String>, StoreError> {
    let keys: Vec<&str> = events.iter().filter_map(|e| e.dedup.as_deref()).collect();
    let mut seen = HashSet::new();
    for chunk in keys.chunks(MAX_ROWS_PER_INSERT) {
        let padded = chunk.len().next_power_of_two();
        let mut sql = String::from("SELECT dedup FROM events WHERE account = $1 AND dedup IN (");
        for i in 0..padded {
            if i > 0 {
                sql.push_str(", ");
            }
            let _ = write!(sql, "${}", i + 2);
        }
        sql.push(')');
        let mut query = sqlx::query_as::<_, (String,)>(&sql).bind(account);
        for i in 0..padded {
            query = query.bind(chunk[i.min(chunk.len() - 1)]);
        }
        seen.extend(query.fetch_all(&mut *conn).await?.into_iter().map(|(d,)| d));
    }
    Ok(seen)
}

type Row = (i64, String, Option<i64>, i64, String);

fn event_of(account: &str, (id, kind, chat, created_at, data): Row) -> Result<Event, StoreError> {
    Ok(Event {
        id,
        account: account.to_string(),
        kind: EventType::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("event {id} has an unknown type")))?,
        created_at: DateTime::from_timestamp_millis(created_at).unwrap_or_default(),
        chat,
        data: serde_json::from_str(&data)
            .map_err(|e| StoreError::Corrupt(format!("event {id}: {e}")))?,
    })
}

/// Up to `limit` events of `account` after id `after`, oldest first.
pub(super) async fn after(
    pool: &AnyPool,
    account: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<Event>, StoreError> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, type, chat_id, created_at, data FROM events
         WHERE account = $1 AND id > $2 ORDER BY id LIMIT $3",
    )
    .bind(account)
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(|row| event_of(account, row)).collect()
}

/// One event by id.
pub(super) async fn get(
    pool: &AnyPool,
    account: &str,
    id: i64,
) -> Result<Option<Event>, StoreError> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT id, type, chat_id, created_at, data FROM events WHERE account = $1 AND id = $2",
    )
    .bind(account)
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.map(|row| event_of(account, row)).transpose()
}

/// `(oldest retained id, last id ever given)` of `account`; `(None, 0)` before any event.
pub(super) async fn bounds(
    pool: &AnyPool,
    account: &str,
) -> Result<(Option<i64>, i64), StoreError> {
    let (oldest,): (Option<i64>,) = sqlx::query_as("SELECT MIN(id) FROM events WHERE account = $1")
        .bind(account)
        .fetch_one(pool)
        .await?;
    let last: Option<(i64,)> =
        sqlx::query_as("SELECT last_id FROM event_counters WHERE account = $1")
            .bind(account)
            .fetch_optional(pool)
            .await?;
    Ok((oldest, last.map_or(0, |(id,)| id)))
}

/// Deletes `account`'s events beyond the newest `keep` and those created before
/// `before_ms`; returns how many.
pub(super) async fn purge(
    pool: &AnyPool,
    account: &str,
    keep: i64,
    before_ms: i64,
) -> Result<u64, StoreError> {
    let by_age = sqlx::query("DELETE FROM events WHERE account = $1 AND created_at < $2")
        .bind(account)
        .bind(before_ms)
        .execute(pool)
        .await?
        .rows_affected();
    let by_count = sqlx::query(
        "DELETE FROM events WHERE account = $1 AND id <= (
            SELECT id FROM events WHERE account = $1 ORDER BY id DESC LIMIT 1 OFFSET $2
         )",
    )
    .bind(account)
    .bind(keep)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(by_age + by_count)
}

impl super::Store {
    /// Logs `events` for `account` and applies `state` (the update state they came from) in
    /// one transaction: the log never holds an event whose state was not saved, nor the
    /// reverse. Returns the events logged.
    pub async fn append_events(
        &self,
        account: &str,
        events: &[NewEvent],
        state: &[super::UpdateChange],
    ) -> Result<Vec<Event>, StoreError> {
        // IMMEDIATE: read-then-write on the counter; a deferred transaction could fail with
        // SQLITE_BUSY_SNAPSHOT when another writer commits in between.
        let mut tx = self.begin_write().await?;
        let logged = append(&mut tx, account, events, super::now_ms()).await?;
        for change in state {
            super::updates::apply(&mut tx, account, change).await?;
        }
        tx.commit().await?;
        Ok(logged)
    }

    /// Up to `limit` events of `account` after id `after`, oldest first.
    pub async fn events_after(
        &self,
        account: &str,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<Event>, StoreError> {
        after(self.pool(), account, after_id, limit).await
    }

    /// One event of `account` by id.
    pub async fn event(&self, account: &str, id: i64) -> Result<Option<Event>, StoreError> {
        get(self.pool(), account, id).await
    }

    /// `(oldest retained id, last id given)` of `account`'s log.
    pub async fn event_bounds(&self, account: &str) -> Result<(Option<i64>, i64), StoreError> {
        bounds(self.pool(), account).await
    }

    /// Applies retention to `account`'s log; returns how many events were deleted.
    pub async fn purge_events(
        &self,
        account: &str,
        keep: i64,
        before_ms: i64,
    ) -> Result<u64, StoreError> {
        purge(self.pool(), account, keep, before_ms).await
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::EventType;
    use crate::store::{Store, UpdateChange};

    fn new(dedup: Option<&str>) -> NewEvent {
        NewEvent {
            kind: EventType::MessageNew,
            chat: Some(5),
            dedup: dedup.map(str::to_owned),
            data: json!({"text": "x"}),
        }
    }

    #[tokio::test]
    async fn ids_grow_per_account_and_a_repeated_fact_is_logged_once() {
        let store = Store::open_in_memory().await.unwrap();
        let first = store
            .append_events("a", &[new(Some("f1")), new(Some("f2"))], &[])
            .await
            .unwrap();
        assert_eq!(first.iter().map(|e| e.id).collect::<Vec<_>>(), [1, 2]);
        let again = store
            .append_events("a", &[new(Some("f2")), new(None)], &[])
            .await
            .unwrap();
        assert_eq!(again.iter().map(|e| e.id).collect::<Vec<_>>(), [3]);
        let other = store
            .append_events("b", &[new(Some("f1"))], &[])
            .await
            .unwrap();
        assert_eq!(other[0].id, 1, "another account counts on its own");
        let read = store.events_after("a", 1, 10).await.unwrap();
        assert_eq!(read.iter().map(|e| e.id).collect::<Vec<_>>(), [2, 3]);
        assert_eq!(read[0].data, json!({"text": "x"}));
    }

    #[tokio::test]
    async fn the_update_state_is_saved_with_the_events() {
        let store = Store::open_in_memory().await.unwrap();
        let state = [UpdateChange::Primary {
            pts: 9,
            date: 1,
            seq: 0,
        }];
        store
            .append_events("a", &[new(None)], &state)
            .await
            .unwrap();
        assert_eq!(store.account("a").update_state().await.unwrap().pts, 9);
    }

    #[tokio::test]
    async fn retention_keeps_the_newest_and_ids_are_never_reused() {
        let store = Store::open_in_memory().await.unwrap();
        let events: Vec<NewEvent> = (0..5).map(|_| new(None)).collect();
        store.append_events("a", &events, &[]).await.unwrap();
        assert_eq!(store.purge_events("a", 2, 0).await.unwrap(), 3);
        assert_eq!(store.event_bounds("a").await.unwrap(), (Some(4), 5));
        // Everything older than "now + 1 s" goes by age; the counter stays.
        let future = crate::store::now_ms() + 1_000;
        store.purge_events("a", 100, future).await.unwrap();
        assert_eq!(store.event_bounds("a").await.unwrap(), (None, 5));
        let next = store.append_events("a", &[new(None)], &[]).await.unwrap();
        assert_eq!(next[0].id, 6);
    }
}
