//! The event log's commit on both databases: one sequence of ids whoever appends, nothing
//! half-written when a commit fails, and the sequence carried over a restart.

use serde_json::json;

use super::tests::postgres_store;
use super::*;
use crate::domain::{EventType, NewEvent};

fn event(n: usize, dedup: Option<String>) -> NewEvent {
    NewEvent {
        kind: EventType::MessageNew,
        chat: Some(3),
        dedup,
        data: json!({ "n": n }),
    }
}

async fn ids_and_order(store: &Store, account: &str) -> (Vec<i64>, Vec<u64>) {
    let read = store.events_after(account, 0, 100_000).await.unwrap();
    (
        read.iter().map(|e| e.id).collect(),
        read.iter().map(|e| e.data["n"].as_u64().unwrap()).collect(),
    )
}

/// A statement failing after the events were inserted (the update state's table is gone)
/// takes the events with it, and the connection is fit for the next commit (on SQLite's
/// one-connection memory store, a connection left inside the failed transaction, or closed,
/// would fail it).
async fn a_failed_commit_logs_nothing_and_the_next_one_works(store: Store) {
    sqlx::query("DROP TABLE channel_state")
        .execute(store.pool())
        .await
        .unwrap();
    let state = [UpdateChange::Channel { id: 5, pts: 9 }];
    let failed = store
        .append_events("a", &[event(0, Some("x".into()))], &state)
        .await;
    assert!(failed.is_err(), "the commit fails as a whole");
    assert_eq!(store.event_bounds("a").await.unwrap(), (None, 0));

    let logged = store
        .append_events("a", &[event(1, Some("x".into())), event(2, None)], &[])
        .await
        .unwrap();
    assert_eq!(logged.iter().map(|e| e.id).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(ids_and_order(&store, "a").await, (vec![1, 2], vec![1, 2]));
}

/// The writer's commits and appends inside another transaction (the outbox's `job.*`
/// events) draw from one counter: ids consecutive, a fact logged once whoever saw it first.
async fn every_producer_draws_ids_from_one_gapless_sequence(store: Store) {
    let mut expected = Vec::new();
    for round in 0..20 {
        let n = round * 10;
        let batch: Vec<NewEvent> = (n..n + 3)
            .map(|k| event(k, Some(format!("f{k}"))))
            .chain([event(n + 3, Some(format!("f{}", n.saturating_sub(10))))])
            .collect();
        let logged = store.append_events("a", &batch, &[]).await.unwrap();
        expected.extend(logged.iter().map(|e| e.data["n"].as_u64().unwrap()));

        let mut tx = store.begin_write().await.unwrap();
        let own = [event(n + 5, None), event(n + 6, Some(format!("f{n}")))];
        let logged = events::append(&mut tx, "a", &own, now_ms()).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(logged.len(), 1, "f{n} was logged by the writer already");
        expected.extend(logged.iter().map(|e| e.data["n"].as_u64().unwrap()));
    }
    let (ids, order) = ids_and_order(&store, "a").await;
    assert_eq!(ids, (1..=ids.len() as i64).collect::<Vec<_>>());
    assert_eq!(order, expected);
    // Each round logs three of its four facts (the fourth repeats f0 in round 0, the
    // previous round's first later) and one of its own two.
    assert_eq!(ids.len(), 20 * (3 + 1));
    assert_eq!(
        store.event_bounds("a").await.unwrap(),
        (Some(1), ids.len() as i64)
    );
}

#[tokio::test]
async fn a_failed_commit_logs_nothing_and_the_next_one_works_on_sqlite() {
    a_failed_commit_logs_nothing_and_the_next_one_works(Store::open_in_memory().await.unwrap())
        .await;
}

/// On a file the log commits on a connection of its own; a failure must leave it fit too.
#[tokio::test]
async fn a_failed_commit_logs_nothing_and_the_next_one_works_on_a_sqlite_file() {
    let dir = crate::store::tests::TempDir::new("events-failed");
    a_failed_commit_logs_nothing_and_the_next_one_works(Store::open(&dir).await.unwrap()).await;
}

#[tokio::test]
async fn a_failed_commit_logs_nothing_and_the_next_one_works_on_postgres() {
    a_failed_commit_logs_nothing_and_the_next_one_works(postgres_store().await).await;
}

#[tokio::test]
async fn every_producer_draws_ids_from_one_gapless_sequence_on_sqlite() {
    every_producer_draws_ids_from_one_gapless_sequence(Store::open_in_memory().await.unwrap())
        .await;
}

#[tokio::test]
async fn every_producer_draws_ids_from_one_gapless_sequence_on_postgres() {
    every_producer_draws_ids_from_one_gapless_sequence(postgres_store().await).await;
}

/// Many commits of varied sizes (some past one insert), a restart, and more: the ids
/// continue where they stopped, with no gap and no reuse, and the update state is the last
/// one committed.
#[tokio::test]
async fn a_restart_after_many_events_keeps_ids_gapless() {
    let dir = crate::store::tests::TempDir::new("events-restart");
    let store = Store::open(&dir).await.unwrap();
    let mut n = 0;
    for size in (0..60).map(|i| 1 + (i * 37) % 300) {
        let batch: Vec<NewEvent> = (n..n + size).map(|k| event(k, None)).collect();
        let state = [UpdateChange::Channel {
            id: 5,
            pts: n as i32,
        }];
        store.append_events("a", &batch, &state).await.unwrap();
        n += size;
    }
    store.close().await.unwrap();

    let reopened = Store::open(&dir).await.unwrap();
    let more = reopened
        .append_events("a", &[event(n, None)], &[])
        .await
        .unwrap();
    assert_eq!(more[0].id, n as i64 + 1);
    let (ids, order) = ids_and_order(&reopened, "a").await;
    assert_eq!(ids, (1..=n as i64 + 1).collect::<Vec<_>>());
    assert_eq!(order, (0..=n as u64).collect::<Vec<_>>());
    let state = reopened.account("a").update_state().await.unwrap();
    assert_eq!(state.channels.len(), 1);
    reopened.close().await.unwrap();
}

/// Appends in concurrent transactions that took no write lock of their own (plain
/// `BEGIN`): the counter row's lock orders them, so no id is given twice and none skipped.
async fn concurrent_appends_never_share_an_id(store: Store) {
    let tasks: Vec<_> = (0..4)
        .map(|t| {
            let store = store.clone();
            tokio::spawn(async move {
                for i in 0..10 {
                    let mut tx = store.pool().begin().await.unwrap();
                    let batch = [event(t * 100 + i, None), event(t * 100 + i + 50, None)];
                    events::append(&mut tx, "a", &batch, now_ms())
                        .await
                        .unwrap();
                    tx.commit().await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let (ids, _) = ids_and_order(&store, "a").await;
    assert_eq!(ids, (1..=80).collect::<Vec<i64>>());
    assert_eq!(store.event_bounds("a").await.unwrap(), (Some(1), 80));
}

#[tokio::test]
async fn concurrent_appends_never_share_an_id_on_sqlite() {
    let dir = crate::store::tests::TempDir::new("events-concurrent");
    concurrent_appends_never_share_an_id(Store::open(&dir).await.unwrap()).await;
}

#[tokio::test]
async fn concurrent_appends_never_share_an_id_on_postgres() {
    concurrent_appends_never_share_an_id(postgres_store().await).await;
}

/// Data is read back as it was given (escapes, unicode, nesting, numbers), whichever way
/// the rows travel (JSON on SQLite, one value per row on PostgreSQL), and repeats of a fact
/// are skipped within a batch and across batches.
async fn data_and_dedup_survive_the_trip(store: Store) {
    let data = json!({
        "text": "quote \" backslash \\ newline \n tab \t ✓ 日本 😀",
        "nested": {"list": [1, -2, 3.5, null, true], "empty": {}},
        "big": 9_007_199_254_740_993_i64,
    });
    let tricky = NewEvent {
        data: data.clone(),
        ..event(0, Some("k'1\"".into()))
    };
    let plain = NewEvent {
        chat: None,
        ..event(1, None)
    };
    let batch = [tricky.clone(), plain, tricky.clone()];
    let logged = store.append_events("a", &batch, &[]).await.unwrap();
    assert_eq!(logged.iter().map(|e| e.id).collect::<Vec<_>>(), [1, 2]);
    let again = store.append_events("a", &[tricky], &[]).await.unwrap();
    assert!(again.is_empty(), "a fact already logged is skipped");
    let read = store.events_after("a", 0, 10).await.unwrap();
    assert_eq!(read[0].data, data);
    assert_eq!((read[0].chat, read[1].chat), (Some(3), None));
    assert_eq!(read[1].data, json!({ "n": 1 }));
}

#[tokio::test]
async fn data_and_dedup_survive_the_trip_on_sqlite() {
    data_and_dedup_survive_the_trip(Store::open_in_memory().await.unwrap()).await;
}

#[tokio::test]
async fn data_and_dedup_survive_the_trip_on_postgres() {
    data_and_dedup_survive_the_trip(postgres_store().await).await;
}

/// On SQLite an append's statements read the same whatever the batch size, so the
/// connection prepares them once (a text per size made most commits under load prepare a
/// new statement of hundreds of parameters).
#[test]
fn a_sqlite_append_has_one_statement_text_for_every_batch_size() {
    use super::event_append::{Encoded, push_append, unique_in_batch};
    let text_for = |n: usize| {
        let events: Vec<NewEvent> = (0..n).map(|i| event(i, Some(format!("d{i}")))).collect();
        let fresh = unique_in_batch(&events);
        let encoded = Encoded::new(&fresh, true);
        let mut script = super::script::Script::new(true);
        push_append(&mut script, "a", &fresh, &encoded, 0);
        script.as_transaction().0
    };
    let one = text_for(1);
    for n in [2, 7, 64, 300, 1_000] {
        assert_eq!(text_for(n), one, "batch of {n}");
    }
}
