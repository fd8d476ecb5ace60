//! The durable store across restarts: peers and idempotency answers learned before a restart
//! are used after it (the sandbox's request log proves no new Telegram call), a state
//! directory of the previous JSON layout is imported once, and the files are private.

use crate::common;
use crate::messages_support;

use std::path::Path;

use common::TestApp;
use messages_support::*;
use mtgate::accounts::DEFAULT_ACCOUNT;
use mtgate::store::{DB_FILE, PeerRecord, Store, legacy};
use mtgate::telegram::session_store::auth_key_id;
use serde_json::json;

/// What the app stored on disk, read through a store of our own on the same directory.
async fn stored(app: &TestApp) -> (Vec<PeerRecord>, Option<i64>) {
    app.state
        .store
        .flush()
        .await
        .expect("flush the app's store");
    let store = Store::open(app.state_dir.path())
        .await
        .expect("open the store");
    let account = store.account(DEFAULT_ACCOUNT);
    let peers = account.peers().await.expect("read peers");
    let me = account.self_id().await.expect("read the self user");
    store.close().await.expect("close");
    (peers, me)
}

/// The stored peer with this Bot-API id.
fn peer(peers: &[PeerRecord], id: i64) -> PeerRecord {
    peers
        .iter()
        .find(|p| p.id == id)
        .cloned()
        .unwrap_or_else(|| panic!("peer {id} is not stored: {peers:?}"))
}

#[tokio::test]
async fn peers_learned_before_a_restart_are_used_after_it_without_a_resolve_call() {
    let mut app = ready_app().await;
    let w = world(&app);
    let user_id = send_text(&app, &w.other, "learn the user").await["peer"]["id"].clone();
    let channel_id = send_text(&app, &w.channel, "learn the channel").await["peer"]["id"].clone();
    assert_eq!(count_calls(&app, "contacts.resolveUsername"), 2);

    app.restart().await;
    app.wait_until_healthy().await;
    let resolves = count_calls(&app, "contacts.resolveUsername");
    for peer in [
        w.other.clone(),
        w.channel.clone(),
        user_id.to_string(),
        channel_id.to_string(),
    ] {
        send_text(&app, &peer, "after the restart").await;
    }
    assert_eq!(
        count_calls(&app, "contacts.resolveUsername"),
        resolves,
        "no resolve after the restart"
    );
    assert_eq!(ground_truth(&app, &w.other)[0]["text"], "after the restart");
    assert_eq!(
        ground_truth(&app, &w.channel)[0]["text"],
        "after the restart"
    );
    assert!(!app.state_dir.path().join(legacy::RESOLVER_FILE).exists());
    assert!(app.state_dir.path().join(DB_FILE).exists());
}

#[tokio::test]
async fn an_idempotency_key_replayed_after_a_restart_returns_the_first_answer_without_sending() {
    let mut app = ready_app().await;
    let w = world(&app);
    let body = json!({"peer": w.channel, "text": "once, across a restart"});
    let first = send_with_key(&app, "restart-key", &body).await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    assert!(first.headers.get("idempotent-replayed").is_none());

    app.restart().await;
    app.wait_until_healthy().await;
    let sends = count_calls(&app, "messages.sendMessage");
    let again = send_with_key(&app, "restart-key", &body).await;
    assert_eq!(again.status, 201, "{:?}", again.body);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.body, first.body);
    assert_eq!(count_calls(&app, "messages.sendMessage"), sends);
    let posted = ground_truth(&app, &w.channel)
        .into_iter()
        .filter(|m| m["text"] == "once, across a restart")
        .count();
    assert_eq!(posted, 1);

    // The same key with another body is still a conflict after the restart.
    let other = json!({"peer": w.channel, "text": "something else"});
    send_with_key(&app, "restart-key", &other)
        .await
        .assert_error(409, "IDEMPOTENCY_KEY_REUSED");
}

#[tokio::test]
async fn a_state_dir_of_the_previous_json_layout_is_imported_once() {
    let mut app = ready_app().await;
    let w = world(&app);
    let user_id = send_text(&app, &w.other, "learn").await["peer"]["id"]
        .as_i64()
        .unwrap();
    let (peers, me) = stored(&app).await;
    let other = peer(&peers, user_id);
    let hash = other.access_hash.expect("the user's access hash");

    // Replace the store by the files mtgate wrote before it had one.
    app.stop().await;
    let state_dir = app.state_dir.clone();
    let dir = state_dir.path();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.join(format!("{DB_FILE}{suffix}")));
    }
    let key_id = auth_key_id(&app.state.config.session.auth_key);
    let session_file = legacy::session_file_name(key_id);
    write_json(
        &dir.join(&session_file),
        json!({"version": 1,
            "peers": [{"User": {"id": user_id, "auth": hash, "bot": false, "is_self": false}}],
            "updates_state": {"pts": 0, "qts": 0, "date": 0, "seq": 0, "channels": []}}),
    );
    let username = w.other.trim_start_matches('@');
    write_json(
        &dir.join(legacy::RESOLVER_FILE),
        json!({"version": 1, "owner": me,
            "peers": [{"id": user_id, "hash": hash, "type": "user",
                       "usernames": [username], "title": "Other", "is_self": false}]}),
    );

    app.restart().await;
    app.wait_until_healthy().await;
    let resolves = count_calls(&app, "contacts.resolveUsername");
    send_text(&app, &w.other, "by name, from the imported files").await;
    send_text(&app, &user_id.to_string(), "by id, from the imported files").await;
    assert_eq!(count_calls(&app, "contacts.resolveUsername"), resolves);
    assert_eq!(
        ground_truth(&app, &w.other)[0]["text"],
        "by id, from the imported files"
    );
    for file in [session_file.as_str(), legacy::RESOLVER_FILE] {
        assert!(!dir.join(file).exists(), "{file} is still there");
        assert!(dir.join(format!("{file}.imported")).exists(), "{file}");
    }
    let (peers, _) = stored(&app).await;
    assert_eq!(peer(&peers, user_id).access_hash, Some(hash));
}

#[cfg(unix)]
#[tokio::test]
async fn the_state_dir_is_0700_and_the_database_files_0600() {
    use std::os::unix::fs::PermissionsExt;
    let app = ready_app().await;
    let w = world(&app);
    send_text(&app, &w.other, "write something").await;
    app.state.store.flush().await.unwrap();
    let mode = |path: &Path| {
        std::fs::metadata(path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .permissions()
            .mode()
            & 0o777
    };
    let dir = app.state_dir.path();
    assert_eq!(mode(dir), 0o700);
    for suffix in ["", "-wal", "-shm"] {
        let file = dir.join(format!("{DB_FILE}{suffix}"));
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
}

fn write_json(path: &Path, value: serde_json::Value) {
    std::fs::write(path, serde_json::to_vec(&value).unwrap()).expect("write a state file");
}
