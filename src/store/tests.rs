//! Unit tests of the store against real SQLite (temporary files or memory).

use std::path::{Path, PathBuf};

use super::*;

/// A fresh directory path under the system temp dir (not created), removed on drop.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new(label: &str) -> Self {
        Self(std::env::temp_dir().join(format!(
            "mtgate-store-{label}-{}-{:016x}",
            std::process::id(),
            rand::random::<u64>()
        )))
    }
}

impl std::ops::Deref for TempDir {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn user(id: i64, hash: i64) -> PeerRecord {
    PeerRecord {
        id,
        access_hash: Some(hash),
        ..PeerRecord::default()
    }
}

fn scope(key_name: &str, account: &str) -> IdempotencyScope {
    IdempotencyScope {
        key_name: key_name.into(),
        account: account.into(),
    }
}

fn answer(body: &str, expires_at: i64) -> IdempotencyRecord {
    IdempotencyRecord {
        fingerprint: vec![7; 32],
        status: 201,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.as_bytes().to_vec(),
        created_at: now(),
        expires_at,
    }
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
#[tokio::test]
async fn the_directory_is_0700_and_every_database_file_0600() {
    let dir = TempDir::new("modes");
    let nested = dir.0.join("state");
    let store = Store::open(&nested).await.unwrap();
    store
        .account("default")
        .save_peers(vec![user(1, 2)])
        .unwrap();
    store.flush().await.unwrap();
    assert_eq!(mode(&nested), 0o700);
    for suffix in ["", "-wal", "-shm"] {
        let file = nested.join(format!("{DB_FILE}{suffix}"));
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
}

#[cfg(unix)]
#[tokio::test]
async fn an_existing_open_directory_is_restricted_to_0700() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("existing");
    std::fs::create_dir_all(&dir.0).unwrap();
    std::fs::set_permissions(&dir.0, std::fs::Permissions::from_mode(0o755)).unwrap();
    Store::open(&dir.0).await.unwrap();
    assert_eq!(mode(&dir.0), 0o700);
}

#[tokio::test]
async fn what_was_stored_is_there_after_reopening_the_file() {
    let dir = TempDir::new("reopen");
    let store = Store::open(&dir.0).await.unwrap();
    let account = store.account("default");
    account.save_peers(vec![user(42, 4242)]).unwrap();
    account
        .save_update_state(UpdateChange::Primary {
            pts: 7,
            date: 8,
            seq: 9,
        })
        .unwrap();
    store.close().await.unwrap();

    let reopened = Store::open(&dir.0).await.unwrap();
    let account = reopened.account("default");
    assert_eq!(account.peers().await.unwrap(), vec![user(42, 4242)]);
    assert_eq!(account.update_state().await.unwrap().pts, 7);
}

async fn unknown_fields_never_erase_known_ones(store: Store) {
    let account = store.account("default");
    let named = PeerRecord {
        id: -1000000000005,
        access_hash: Some(77),
        channel_kind: Some(ChannelKind::Broadcast),
        title: Some("News".into()),
        usernames: Some(vec!["News".into()]),
        ..PeerRecord::default()
    };
    account.save_peers(vec![named.clone()]).unwrap();
    // What the grammers session knows of the same channel: a newer hash, nothing else.
    account
        .save_peers(vec![PeerRecord {
            id: named.id,
            access_hash: Some(78),
            ..PeerRecord::default()
        }])
        .unwrap();
    store.flush().await.unwrap();
    let peers = account.peers().await.unwrap();
    assert_eq!(
        peers,
        vec![PeerRecord {
            access_hash: Some(78),
            ..named
        }]
    );
    assert_eq!(
        account.usernames().await.unwrap(),
        vec![("news".to_string(), -1000000000005)]
    );
}

async fn a_username_that_moves_points_at_its_new_owner(store: Store) {
    let account = store.account("default");
    let named = |id, name: &str| PeerRecord {
        usernames: Some(vec![name.to_string()]),
        ..user(id, id * 10)
    };
    account.save_peers(vec![named(1, "name")]).unwrap();
    account.save_peers(vec![named(2, "Name")]).unwrap();
    account.save_peers(vec![named(1, "other")]).unwrap();
    account.save_username("alias", 2).unwrap();
    store.flush().await.unwrap();
    assert_eq!(
        account.usernames().await.unwrap(),
        vec![
            ("alias".to_string(), 2),
            ("name".to_string(), 2),
            ("other".to_string(), 1)
        ]
    );
}

async fn accounts_do_not_see_each_others_peers_or_state(store: Store) {
    let a = store.account("a");
    let b = store.account("b");
    a.save_peers(vec![user(1, 1)]).unwrap();
    a.save_update_state(UpdateChange::Secondary { qts: 5 })
        .unwrap();
    store.flush().await.unwrap();
    assert!(b.peers().await.unwrap().is_empty());
    assert_eq!(
        b.update_state().await.unwrap(),
        UpdateStateRecord::default()
    );
    assert_eq!(a.update_state().await.unwrap().qts, 5);
}

async fn update_state_changes_apply_part_by_part(store: Store) {
    let account = store.account("default");
    let all = UpdateStateRecord {
        pts: 1,
        qts: 2,
        date: 3,
        seq: 4,
        channels: vec![(10, 100), (11, 110)],
    };
    for change in [
        UpdateChange::All(all),
        UpdateChange::Primary {
            pts: 5,
            date: 6,
            seq: 7,
        },
        UpdateChange::Secondary { qts: 8 },
        UpdateChange::Channel { id: 11, pts: 111 },
        UpdateChange::Channel { id: 12, pts: 120 },
    ] {
        account.save_update_state(change).unwrap();
    }
    store.flush().await.unwrap();
    assert_eq!(
        account.update_state().await.unwrap(),
        UpdateStateRecord {
            pts: 5,
            qts: 8,
            date: 6,
            seq: 7,
            channels: vec![(10, 100), (11, 111), (12, 120)],
        }
    );
}

async fn a_new_session_key_forgets_what_the_old_one_learned(store: Store) {
    let account = store.account("default");
    assert!(!account.bind_session(1).await.unwrap());
    account.save_peers(vec![user(1, 1)]).unwrap();
    store.flush().await.unwrap();
    assert!(!account.bind_session(1).await.unwrap());
    assert_eq!(account.peers().await.unwrap().len(), 1);
    assert!(account.bind_session(2).await.unwrap());
    assert!(account.peers().await.unwrap().is_empty());
}

async fn another_self_user_forgets_the_peers_of_the_first(store: Store) {
    let account = store.account("default");
    assert!(!account.bind_self(5).await.unwrap());
    account.save_peers(vec![user(1, 1)]).unwrap();
    assert!(!account.bind_self(5).await.unwrap());
    assert_eq!(account.peers().await.unwrap().len(), 1);
    assert_eq!(account.self_id().await.unwrap(), Some(5));
    assert!(account.bind_self(6).await.unwrap());
    assert!(account.peers().await.unwrap().is_empty());
    assert_eq!(account.self_id().await.unwrap(), Some(6));
}

async fn idempotency_records_are_scoped_by_key_name_and_account_and_expire(store: Store) {
    let mine = scope("key-a", "default");
    store
        .save_idempotency_record(&mine, "k", &answer("first", now() + 60))
        .await
        .unwrap();
    let found = store.idempotency_record(&mine, "k").await.unwrap().unwrap();
    assert_eq!(found, answer("first", now() + 60).clone_with(&found));
    assert_eq!(found.body, b"first");
    assert_eq!(found.headers[0].1, "application/json");
    for other in [scope("key-b", "default"), scope("key-a", "other")] {
        assert_eq!(store.idempotency_record(&other, "k").await.unwrap(), None);
    }
    store
        .save_idempotency_record(&mine, "old", &answer("x", now() - 1))
        .await
        .unwrap();
    assert_eq!(store.idempotency_record(&mine, "old").await.unwrap(), None);
    assert_eq!(store.purge_expired_idempotency().await.unwrap(), 1);
    assert!(
        store
            .idempotency_record(&mine, "k")
            .await
            .unwrap()
            .is_some()
    );
}

impl IdempotencyRecord {
    /// `self` with the timestamps of `other` (they depend on the clock).
    fn clone_with(&self, other: &Self) -> Self {
        Self {
            created_at: other.created_at,
            expires_at: other.expires_at,
            ..self.clone()
        }
    }
}

#[tokio::test]
async fn the_previous_layout_is_imported_once_and_then_ignored() {
    let dir = TempDir::new("legacy");
    std::fs::create_dir_all(&dir.0).unwrap();
    let session = legacy::session_file_name(0xabc);
    std::fs::write(
        dir.0.join(&session),
        r#"{"version":1,"peers":[
            {"User":{"id":7,"auth":null,"bot":false,"is_self":true}},
            {"User":{"id":42,"auth":4242,"bot":false,"is_self":false}},
            {"Chat":{"id":9}},
            {"Channel":{"id":5,"auth":55,"kind":"Megagroup"}}],
          "updates_state":{"pts":11,"qts":12,"date":13,"seq":14,"channels":[{"id":5,"pts":15}]}}"#,
    )
    .unwrap();
    std::fs::write(
        dir.0.join(legacy::RESOLVER_FILE),
        r#"{"version":1,"owner":7,"peers":[
            {"id":42,"hash":4242,"type":"user","usernames":["Ada"],"title":"Ada L","is_self":false}]}"#,
    )
    .unwrap();
    let store = Store::open(&dir.0).await.unwrap();
    let account = store.account("default");
    account.bind_session(0xabc).await.unwrap();
    let imported = legacy::import(&dir.0, &account, 0xabc).await.unwrap();
    assert_eq!(imported, legacy::Imported { files: 2, peers: 5 });

    let peers = account.peers().await.unwrap();
    let ids: Vec<i64> = peers.iter().map(|p| p.id).collect();
    assert_eq!(ids, [-1000000000005, -9, 7, 42]);
    let ada = peers.iter().find(|p| p.id == 42).unwrap();
    assert_eq!(ada.access_hash, Some(4242));
    assert_eq!(ada.title.as_deref(), Some("Ada L"));
    assert_eq!(peers[0].channel_kind, Some(ChannelKind::Megagroup));
    assert_eq!(
        account.usernames().await.unwrap(),
        vec![("ada".to_string(), 42)]
    );
    let state = account.update_state().await.unwrap();
    assert_eq!((state.pts, state.channels.clone()), (11, vec![(5, 15)]));
    assert_eq!(account.self_id().await.unwrap(), Some(7));
    assert!(!dir.0.join(&session).exists());
    assert!(dir.0.join(format!("{session}.imported")).exists());
    assert!(dir.0.join("resolved-peers.json.imported").exists());

    // A second start finds nothing left to import.
    let again = legacy::import(&dir.0, &account, 0xabc).await.unwrap();
    assert_eq!(again, legacy::Imported::default());
}

#[tokio::test]
async fn an_unreadable_file_of_the_previous_layout_is_set_aside() {
    let dir = TempDir::new("legacy-bad");
    std::fs::create_dir_all(&dir.0).unwrap();
    std::fs::write(dir.0.join(legacy::RESOLVER_FILE), b"{not json").unwrap();
    let store = Store::open(&dir.0).await.unwrap();
    let account = store.account("default");
    let imported = legacy::import(&dir.0, &account, 1).await.unwrap();
    assert_eq!(imported, legacy::Imported::default());
    assert!(dir.0.join("resolved-peers.json.unreadable").exists());
}

#[tokio::test]
async fn a_database_from_a_newer_mtgate_is_refused() {
    let dir = TempDir::new("newer");
    let store = Store::open(&dir.0).await.unwrap();
    sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'x', 0)")
        .execute(store.pool())
        .await
        .unwrap();
    store.close().await.unwrap();
    let error = Store::open(&dir.0).await.err().expect("refused");
    assert!(matches!(error, StoreError::Schema(_)), "{error}");
}

#[tokio::test]
async fn a_file_where_the_directory_should_be_fails_the_open() {
    let dir = TempDir::new("file");
    std::fs::create_dir_all(dir.0.parent().unwrap()).unwrap();
    std::fs::write(&dir.0, b"a file").unwrap();
    let result = Store::open(&dir.0).await;
    let _ = std::fs::remove_file(&dir.0);
    assert!(matches!(result, Err(StoreError::Io(_))));
}

async fn a_lease_is_held_by_one_replica_until_released_or_expired(store: Store) {
    let first = store.acquire_lease("default", "r1", 60_000).await.unwrap();
    let first = first.expect("a free lease is taken");
    assert!(first.expires_at_ms >= first.now_ms + 59_000);
    assert_eq!(
        store.acquire_lease("default", "r2", 60_000).await.unwrap(),
        None,
        "a held lease is not taken"
    );
    let renewed = store
        .renew_lease("default", "r1", first.token, 60_000)
        .await
        .unwrap();
    assert_eq!(renewed.map(|g| g.token), Some(first.token));
    assert_eq!(
        store
            .renew_lease("default", "r2", first.token, 60_000)
            .await
            .unwrap(),
        None,
        "only the holder renews"
    );
    assert!(
        store
            .release_lease("default", "r1", first.token)
            .await
            .unwrap()
    );
    let second = store.acquire_lease("default", "r2", 60_000).await.unwrap();
    let second = second.expect("a released lease is taken");
    assert!(second.token > first.token, "the fencing token grows");
    assert_eq!(
        store
            .renew_lease("default", "r1", first.token, 60_000)
            .await
            .unwrap(),
        None,
        "the old holder cannot renew what it gave up"
    );
    let (leases, _) = store.leases().await.unwrap();
    assert_eq!(leases.len(), 1);
    assert_eq!(leases[0].holder.as_deref(), Some("r2"));
}

async fn an_expired_lease_is_taken_over_and_its_old_holder_is_fenced(store: Store) {
    let stale = store
        .acquire_lease("alice", "r1", -1)
        .await
        .unwrap()
        .unwrap();
    let taken = store.acquire_lease("alice", "r2", 60_000).await.unwrap();
    let taken = taken.expect("an expired lease is taken");
    assert!(taken.token > stale.token);
    assert_eq!(
        store
            .renew_lease("alice", "r1", stale.token, 60_000)
            .await
            .unwrap(),
        None,
        "a stalled holder cannot extend a lease another took"
    );
    assert!(
        !store
            .release_lease("alice", "r1", stale.token)
            .await
            .unwrap()
    );
}

async fn heartbeats_list_replicas_with_the_databases_clock(store: Store) {
    let seen = store.heartbeat("r1", "http://10.0.0.1:8000").await.unwrap();
    store.heartbeat("r2", "http://10.0.0.2:8000").await.unwrap();
    store.heartbeat("r1", "http://10.0.0.9:8000").await.unwrap();
    let (replicas, now) = store.replicas().await.unwrap();
    assert_eq!(replicas.len(), 2);
    assert_eq!(replicas[0].address, "http://10.0.0.9:8000");
    assert!(replicas[0].last_seen_ms >= seen && now >= replicas[0].last_seen_ms);
    assert_eq!(store.forget_replicas(now + 1).await.unwrap(), 2);
    assert!(store.replicas().await.unwrap().0.is_empty());
}

/// Runs each check on in-memory SQLite and on a fresh PostgreSQL database (the test
/// process's own server, see `mtgate_testdb`): both backends must behave the same.
macro_rules! on_both_backends {
    ($($check:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test]
                async fn $check() {
                    super::$check(super::Store::open_in_memory().await.unwrap()).await;
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test]
                async fn $check() {
                    super::$check(super::postgres_store().await).await;
                }
            )*
        }
    };
}

on_both_backends!(
    unknown_fields_never_erase_known_ones,
    a_username_that_moves_points_at_its_new_owner,
    accounts_do_not_see_each_others_peers_or_state,
    update_state_changes_apply_part_by_part,
    a_new_session_key_forgets_what_the_old_one_learned,
    another_self_user_forgets_the_peers_of_the_first,
    idempotency_records_are_scoped_by_key_name_and_account_and_expire,
    a_lease_is_held_by_one_replica_until_released_or_expired,
    an_expired_lease_is_taken_over_and_its_old_holder_is_fenced,
    heartbeats_list_replicas_with_the_databases_clock,
    a_large_batch_of_events_gets_consecutive_ids_and_each_fact_once,
    retention_by_count_counts_logged_events_per_account,
);

/// Retention by count keeps each account's newest events; repeated facts, which take no
/// id, do not count.
async fn retention_by_count_counts_logged_events_per_account(store: Store) {
    use crate::domain::{EventType, NewEvent};
    let facts = |names: &[&str]| -> Vec<NewEvent> {
        names
            .iter()
            .map(|n| NewEvent {
                kind: EventType::MessageNew,
                chat: Some(7),
                dedup: Some((*n).to_owned()),
                data: serde_json::json!({}),
            })
            .collect()
    };
    assert_eq!(store.purge_events("none", 1, 0).await.unwrap(), 0);
    store
        .append_events("a", &facts(&["1", "2", "3"]), &[])
        .await
        .unwrap();
    store
        .append_events("b", &facts(&["1", "2"]), &[])
        .await
        .unwrap();
    store
        .append_events("a", &facts(&["2", "3", "4"]), &[])
        .await
        .unwrap();
    assert_eq!(store.purge_events("a", 2, 0).await.unwrap(), 2);
    assert_eq!(store.event_bounds("a").await.unwrap(), (Some(3), 4));
    assert_eq!(store.event_bounds("b").await.unwrap(), (Some(1), 2));
    assert_eq!(store.purge_events("a", 2, 0).await.unwrap(), 0);
}

/// A batch past one multi-row insert (1 024 rows), with a fact repeated inside it and then
/// again in the next batch: every event once, ids consecutive, in the batch's order.
async fn a_large_batch_of_events_gets_consecutive_ids_and_each_fact_once(store: Store) {
    use crate::domain::{EventType, NewEvent};
    let event = |n: usize, dedup: Option<String>| NewEvent {
        kind: EventType::MessageNew,
        chat: Some(7),
        dedup,
        data: serde_json::json!({ "n": n }),
    };
    let mut batch: Vec<NewEvent> = (0..1_500)
        .map(|n| event(n, (n % 2 == 0).then(|| format!("f{n}"))))
        .collect();
    batch.push(event(9_999, Some("f0".into())));
    let logged = store.append_events("a", &batch, &[]).await.unwrap();
    assert_eq!(
        logged.iter().map(|e| e.id).collect::<Vec<_>>(),
        (1..=1_500).collect::<Vec<i64>>()
    );
    let read = store.events_after("a", 0, 2_000).await.unwrap();
    assert_eq!(
        read.iter()
            .map(|e| e.data["n"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        (0..1_500).collect::<Vec<u64>>()
    );

    let again = [
        event(1, Some("f2".into())),
        event(2, None),
        event(3, Some("g".into())),
        event(4, Some("g".into())),
    ];
    let logged = store.append_events("a", &again, &[]).await.unwrap();
    assert_eq!(
        logged.iter().map(|e| e.id).collect::<Vec<_>>(),
        [1_501, 1_502]
    );
    assert_eq!(
        logged
            .iter()
            .map(|e| e.data["n"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [2, 3]
    );
    assert_eq!(store.event_bounds("a").await.unwrap(), (Some(1), 1_502));
    let other = store.append_events("b", &again[..1], &[]).await.unwrap();
    assert_eq!(other[0].id, 1, "another account counts on its own");
}

/// A store on a new database of the test process's PostgreSQL server.
pub(super) async fn postgres_store() -> Store {
    let url = tokio::task::spawn_blocking(|| {
        mtgate_testdb::shared()
            .and_then(|pg| pg.create_database())
            .expect("PostgreSQL for the store tests")
    })
    .await
    .unwrap();
    Store::connect(&url).await.unwrap()
}

#[tokio::test]
async fn replicas_starting_together_on_one_postgres_database_migrate_it_once() {
    let url = tokio::task::spawn_blocking(|| {
        mtgate_testdb::shared()
            .and_then(|pg| pg.create_database())
            .expect("PostgreSQL for the store tests")
    })
    .await
    .unwrap();
    let (a, b, c) = tokio::join!(
        Store::connect(&url),
        Store::connect(&url),
        Store::connect(&url)
    );
    let stores = [a.unwrap(), b.unwrap(), c.unwrap()];
    let (versions,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM schema_migrations")
        .fetch_one(stores[0].pool())
        .await
        .unwrap();
    let (newest,): (i64,) = sqlx::query_as("SELECT MAX(version) FROM schema_migrations")
        .fetch_one(stores[2].pool())
        .await
        .unwrap();
    assert_eq!(versions, newest, "each migration recorded once");
    assert!(stores.iter().all(|s| s.backend() == Backend::Postgres));
}

#[tokio::test]
async fn sqlite_files_are_in_wal_mode() {
    let dir = TempDir::new("wal");
    let store = Store::open(&dir.0).await.unwrap();
    let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(mode.to_ascii_lowercase(), "wal");
    assert_eq!(store.backend(), Backend::Sqlite);
}
