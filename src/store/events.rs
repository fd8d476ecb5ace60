//! The event log: per account, events with ids that only grow (a counter row per account, so
//! ids are never reused after retention deletes the newest ones), appended in the caller's
//! transaction together with whatever produced them (the update state, a job's new state).

use std::collections::HashSet;
use std::fmt::Write as _;

use chrono::DateTime;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Row as _};

use super::StoreError;
use super::script::{Arg, Binder, Script};
use crate::domain::{Event, EventType, NewEvent};

/// Appends `events` for `account` inside the caller's transaction; returns those logged (a
/// fact whose `dedup` is already in the log, or earlier in `events`, is skipped), with their
/// ids, in order. On SQLite the whole append is one command to the connection's thread.
pub async fn append(
    conn: &mut AnyConnection,
    account: &str,
    events: &[NewEvent],
    now_ms: i64,
) -> Result<Vec<Event>, StoreError> {
    let fresh = unique_in_batch(events);
    let data: Vec<String> = fresh.iter().map(|e| e.data.to_string()).collect();
    let mut script = Script::for_connection(conn);
    push_append(&mut script, account, &fresh, &data, now_ms);
    let rows = script.run(conn).await?;
    logged(account, &fresh, &rows, now_ms)
}

/// `events` without the repeats of a fact earlier in the same list.
pub(super) fn unique_in_batch(events: &[NewEvent]) -> Vec<&NewEvent> {
    let mut seen = HashSet::new();
    events
        .iter()
        .filter(|event| match &event.dedup {
            Some(dedup) => seen.insert(dedup.as_str()),
            None => true,
        })
        .collect()
}

/// The statements that append `fresh` (each fact once; `data` their JSON text). Ids are
/// given in SQL, so nothing is read back before writing:
/// 1. the counter row is made sure of. This writes it even when it exists, so the
///    transaction holds that row's lock from here on: two appends for one account never
///    number from the same counter (on PostgreSQL each later statement sees what the
///    previous holder committed);
/// 2. the batch's dedup keys already in the log are listed (rows `(0, key)`);
/// 3. each chunk is inserted numbered from the counter, skipping facts already logged, and
///    the counter moved to the newest id;
/// 4. the counter is read back (one row `(last_id, NULL)`).
///
/// Few rows come back whatever the batch size: on SQLite, rows travel from the connection's
/// thread through a channel of 50, and a full channel costs one more round trip each time.
/// Ids stay gapless (only kept rows are numbered) and never go back (the counter only grows).
pub(super) fn push_append<'a>(
    script: &mut Script<'a>,
    account: &'a str,
    fresh: &[&'a NewEvent],
    data: &'a [String],
    now_ms: i64,
) {
    if fresh.is_empty() {
        return;
    }
    script.push(|p| {
        format!(
            "INSERT INTO event_counters (account, last_id) VALUES ({}, 0)
             ON CONFLICT (account) DO UPDATE SET last_id = event_counters.last_id",
            p.bind(Arg::Text(account))
        )
    });
    let keys: Vec<&'a str> = fresh.iter().filter_map(|e| e.dedup.as_deref()).collect();
    for chunk in keys.chunks(MAX_ROWS_PER_INSERT) {
        script.push(|p| logged_keys_sql(p, account, chunk));
    }
    let mut done = 0;
    while done < fresh.len() {
        let len = chunk_len(fresh.len() - done);
        let rows = &fresh[done..done + len];
        let texts = &data[done..done + len];
        script.push(|p| insert_sql(p, account, rows, texts, now_ms));
        script.push(|p| {
            let account = p.bind(Arg::Text(account));
            format!(
                "UPDATE event_counters SET last_id = (SELECT MAX(id) FROM events WHERE account = {account})
                 WHERE account = {account}
                   AND last_id < (SELECT MAX(id) FROM events WHERE account = {account})"
            )
        });
        done += len;
    }
    script.push(|p| {
        format!(
            "SELECT last_id, CAST(NULL AS TEXT) FROM event_counters WHERE account = {}",
            p.bind(Arg::Text(account))
        )
    });
}

/// `(0, key)` for each of `keys` already in the log; the list padded to a power of two (a
/// repeated key), so few shapes reach the statement cache.
fn logged_keys_sql<'a>(p: &mut Binder<'_, 'a>, account: &'a str, keys: &[&'a str]) -> String {
    let account = p.bind(Arg::Text(account));
    let mut list = String::new();
    for i in 0..keys.len().next_power_of_two() {
        if i > 0 {
            list.push_str(", ");
        }
        let _ = write!(list, "{}", p.bind(Arg::Text(keys[i.min(keys.len() - 1)])));
    }
    format!("SELECT 0, dedup FROM events WHERE account = {account} AND dedup IN ({list})")
}

/// One multi-row insert numbered from the counter: `ROW_NUMBER` over the rows kept, in
/// their order.
fn insert_sql<'a>(
    p: &mut Binder<'_, 'a>,
    account: &'a str,
    rows: &[&'a NewEvent],
    data: &'a [String],
    now_ms: i64,
) -> String {
    let mut values = String::new();
    for (i, (event, text)) in rows.iter().zip(data).enumerate() {
        if i > 0 {
            values.push_str(", ");
        }
        // Writing to a String cannot fail.
        let _ = write!(
            values,
            "({i}, {}, {}, {}, {})",
            p.bind(Arg::Text(event.kind.as_str())),
            p.bind(Arg::OptI64(event.chat)),
            p.bind(Arg::OptText(event.dedup.as_deref())),
            p.bind(Arg::Text(text)),
        );
    }
    let account = p.bind(Arg::Text(account));
    let now = p.bind(Arg::I64(now_ms));
    format!(
        "INSERT INTO events (account, id, type, chat_id, dedup, created_at, data)
         SELECT {account}, c.last_id + ROW_NUMBER() OVER (ORDER BY v.column1),
                v.column2, v.column3, v.column4, {now}, v.column5
         FROM (VALUES {values}) AS v
         JOIN event_counters c ON c.account = {account}
         WHERE v.column4 IS NULL OR NOT EXISTS (
             SELECT 1 FROM events e WHERE e.account = {account} AND e.dedup = v.column4
         )"
    )
}

/// The events of `fresh` that were logged, with their ids, from the rows [`push_append`]'s
/// statements returned: those whose dedup key was not listed as already logged, numbered
/// up to the counter's new value.
pub(super) fn logged(
    account: &str,
    fresh: &[&NewEvent],
    rows: &[AnyRow],
    now_ms: i64,
) -> Result<Vec<Event>, StoreError> {
    if fresh.is_empty() {
        return Ok(Vec::new());
    }
    let mut already = HashSet::new();
    let mut last = None;
    for row in rows {
        match row.try_get::<Option<String>, _>(1)? {
            Some(key) => {
                already.insert(key);
            }
            None => last = Some(row.try_get::<i64, _>(0)?),
        }
    }
    let last =
        last.ok_or_else(|| StoreError::Corrupt("the event counter was not read back".into()))?;
    let kept: Vec<&NewEvent> = fresh
        .iter()
        .copied()
        .filter(|e| e.dedup.as_ref().is_none_or(|d| !already.contains(d)))
        .collect();
    let first = last - kept.len() as i64 + 1;
    let created_at = DateTime::from_timestamp_millis(now_ms).unwrap_or_default();
    Ok(kept
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

/// Most rows per insert: 1 280 parameters, below SQLite's limit (32 766) and PostgreSQL's
/// (65 535).
const MAX_ROWS_PER_INSERT: usize = 256;

/// The next insert's size: the largest power of two that fits, so a connection's statement
/// cache holds at most nine shapes of the insert instead of one per batch size.
fn chunk_len(remaining: usize) -> usize {
    let fits = 1 << remaining.ilog2();
    fits.min(MAX_ROWS_PER_INSERT)
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
        let now_ms = super::now_ms();
        let fresh = unique_in_batch(events);
        let data: Vec<String> = fresh.iter().map(|e| e.data.to_string()).collect();
        let mut script = Script::new(self.backend() == super::Backend::Sqlite);
        push_append(&mut script, account, &fresh, &data, now_ms);
        for change in state {
            super::updates::push_change(&mut script, account, change);
        }
        let rows = if script.is_joined() {
            // One round trip: BEGIN IMMEDIATE (the write lock first, so no other writer
            // commits between reading the counter and moving it), the statements, COMMIT.
            self.inner.log.run(&script).await?
        } else {
            let mut tx = self.begin_write().await?;
            let rows = script.run(&mut tx).await?;
            tx.commit().await?;
            rows
        };
        logged(account, &fresh, &rows, now_ms)
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
