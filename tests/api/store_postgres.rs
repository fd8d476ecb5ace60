//! The store on PostgreSQL (`MTGATE_DATABASE_URL`): the same behaviour as the embedded SQLite
//! store, seen from the HTTP API across a restart. Each test gets its own database on the
//! test process's own server (`mtgate_testdb`).

use crate::common;
use crate::messages_support;

use common::AppOptions;
use messages_support::*;
use mtgate::store::{Backend, DB_FILE};
use serde_json::json;

async fn postgres_url() -> String {
    tokio::task::spawn_blocking(|| {
        mtgate_testdb::shared()
            .and_then(|pg| pg.create_database())
            .expect("PostgreSQL for the tests")
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn with_a_database_url_peers_and_idempotency_answers_outlive_a_restart_on_postgres() {
    let url = postgres_url().await;
    let mut app = ready_app_with(AppOptions::default().var("MTGATE_DATABASE_URL", url)).await;
    assert_eq!(app.state.store.backend(), Backend::Postgres);
    let w = world(&app);
    let body = json!({"peer": w.other, "text": "stored in PostgreSQL"});
    let first = send_with_key(&app, "pg-key", &body).await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    assert_eq!(count_calls(&app, "contacts.resolveUsername"), 1);

    app.restart().await;
    app.wait_until_healthy().await;
    let sends = count_calls(&app, "messages.sendMessage");
    let again = send_with_key(&app, "pg-key", &body).await;
    assert_eq!(again.status, 201, "{:?}", again.body);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.body, first.body);
    assert_eq!(count_calls(&app, "messages.sendMessage"), sends);

    let resolves = count_calls(&app, "contacts.resolveUsername");
    send_text(&app, &w.other, "the peer is known after the restart").await;
    assert_eq!(
        count_calls(&app, "contacts.resolveUsername"),
        resolves,
        "the peer came from PostgreSQL, not from Telegram"
    );
    assert!(
        !app.state_dir.path().join(DB_FILE).exists(),
        "no SQLite file is written when PostgreSQL is the store"
    );
}

#[tokio::test]
async fn a_database_url_that_cannot_be_reached_stops_startup_naming_the_variable() {
    let sandbox = mtgate_sandbox::Sandbox::start().await.unwrap();
    let state_dir = common::TempDir::new("pg-unreachable");
    let vars = [
        ("TG_API_ID", "12345".to_string()),
        (
            "TG_API_HASH",
            "0123456789abcdef0123456789abcdef".to_string(),
        ),
        ("TG_SESSION", sandbox.session().to_string()),
        ("MTGATE_API_KEYS", "k".repeat(32)),
        ("MTGATE_STATE_DIR", state_dir.path().display().to_string()),
        // A port nothing listens on (bound, then released).
        (
            "MTGATE_DATABASE_URL",
            format!("postgres://mtgate@127.0.0.1:{}/mtgate", free_port()),
        ),
    ];
    let config = mtgate::config::Config::from_lookup(|name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    })
    .expect("the variables are well-formed");
    let err = match mtgate::app::build_state_with(config, common::test_manager_options()).await {
        Ok(_) => panic!("startup must fail without the database"),
        Err(err) => err.to_string(),
    };
    assert!(err.contains("MTGATE_DATABASE_URL"), "{err}");
    assert!(!err.contains("postgres://"), "the URL is not echoed: {err}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
