//! The event log: per account, events with ids that only grow (a counter row per account, so
//! ids are never reused after retention deletes the newest ones), appended in the caller's
//! transaction together with whatever produced them (the update state, a job's new state).

use chrono::DateTime;
use sqlx::AnyPool;

use super::StoreError;
use super::event_append::{Encoded, logged, logged_count, push_append, unique_in_batch};
use super::script::Script;
use crate::domain::{Event, EventType, NewEvent};

pub use super::event_append::append;

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
    // Ids are numbered from the account's counter, one per logged event (a repeated fact
    // takes none), so the newest `keep` are those above `last_id - keep`. That is an index
    // range over what goes; finding the cut with `OFFSET keep` walked every kept row on each
    // purge.
    let by_count = sqlx::query(
        "DELETE FROM events WHERE account = $1 AND id <= (
            SELECT last_id FROM event_counters WHERE account = $1
         ) - $2",
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
        let rows = self.commit_append(account, &fresh, state, now_ms).await?;
        logged(account, &fresh, &rows, now_ms)
    }

    /// [`Self::append_events`], answering only how many were logged and the newest id: the
    /// log's writer needs no copy of what it just wrote.
    pub async fn log_events(
        &self,
        account: &str,
        events: &[NewEvent],
        state: &[super::UpdateChange],
    ) -> Result<super::Appended, StoreError> {
        let fresh = unique_in_batch(events);
        let rows = self
            .commit_append(account, &fresh, state, super::now_ms())
            .await?;
        logged_count(&fresh, &rows)
    }

    /// One append and state change as one transaction; the rows its statements returned.
    async fn commit_append(
        &self,
        account: &str,
        fresh: &[&NewEvent],
        state: &[super::UpdateChange],
        now_ms: i64,
    ) -> Result<Vec<sqlx::any::AnyRow>, StoreError> {
        let mut script = Script::new(self.backend() == super::Backend::Sqlite);
        let encoded = Encoded::new(fresh, script.is_joined());
        push_append(&mut script, account, fresh, &encoded, now_ms);
        for change in state {
            super::updates::push_change(&mut script, account, change);
        }
        if script.is_joined() {
            // One round trip: BEGIN IMMEDIATE (the write lock first, so no other writer
            // commits between reading the counter and moving it), the statements, COMMIT.
            self.inner.log.run(&script).await
        } else {
            let mut tx = self.begin_write().await?;
            let rows = script.run(&mut tx).await?;
            tx.commit().await?;
            Ok(rows)
        }
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
    async fn logging_answers_the_count_and_newest_id_of_what_was_kept() {
        use crate::store::Appended;
        let store = Store::open_in_memory().await.unwrap();
        let log = |events: Vec<NewEvent>| {
            let store = store.clone();
            async move { store.log_events("a", &events, &[]).await.unwrap() }
        };
        let appended = |count, last_id| Appended { count, last_id };
        let first = log(vec![new(Some("f1")), new(None), new(Some("f1"))]).await;
        assert_eq!(
            first,
            appended(2, Some(2)),
            "the repeat inside the batch is skipped"
        );
        let again = log(vec![new(Some("f1")), new(Some("f2"))]).await;
        assert_eq!(
            again,
            appended(1, Some(3)),
            "a fact already logged is skipped"
        );
        assert_eq!(log(vec![new(Some("f2"))]).await, appended(0, None));
        let read = store.events_after("a", 0, 10).await.unwrap();
        assert_eq!(read.iter().map(|e| e.id).collect::<Vec<_>>(), [1, 2, 3]);
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
