//! The outbox on PostgreSQL (`MTGATE_DATABASE_URL`): enqueue (idempotent, batch), listing
//! filters, cancel, delivery and a restart, on the same SQL as the embedded store.

use serde_json::json;

use crate::common::DEADLINE;
use crate::messages_support::{Answer, ready_app_with, world};
use crate::outbox_support::*;

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
async fn jobs_are_stored_listed_cancelled_and_sent_on_postgres() {
    let url = postgres_url().await;
    let mut app = ready_app_with(outbox_options().var("MTGATE_DATABASE_URL", url)).await;
    assert_eq!(app.state.store.backend(), mtgate::store::Backend::Postgres);
    let w = world(&app);
    let post = |path: &'static str, body: serde_json::Value| {
        let request = app.post(path).header("Idempotency-Key", path).json(&body);
        async move { Answer::of(request.send().await.unwrap()).await }
    };
    let body = json!({"peers": [w.other, w.channel], "text": "pg fan out"});
    let batch = post("/v1/outbox/batch", body.clone()).await;
    assert_eq!(batch.status, 202, "{:?}", batch.body);
    let again = post("/v1/outbox/batch", body).await;
    assert_eq!(again.status, 202);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.body["jobs"][0]["id"], batch.body["jobs"][0]["id"]);
    let later = (chrono::Utc::now() + chrono::Duration::seconds(60)).to_rfc3339();
    let scheduled = enqueue(
        &app,
        json!({"peer": w.other, "text": "pg later", "send_at": later}),
    )
    .await;
    assert_eq!(scheduled.status, 202, "{:?}", scheduled.body);
    let scheduled_id = scheduled.body["job"]["id"].as_str().unwrap().to_owned();
    for job in batch.body["jobs"].as_array().unwrap() {
        wait_for_state(&app, job["id"].as_str().unwrap(), "sent", DEADLINE).await;
    }
    let listed = Answer::of(app.get("/v1/jobs?state=scheduled").send().await.unwrap()).await;
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    assert_eq!(listed.body["jobs"][0]["id"], scheduled_id.as_str());
    let peer = w.other.trim_start_matches('@');
    let by_peer = Answer::of(
        app.get(&format!("/v1/jobs?peer={peer}&limit=1"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(by_peer.body["jobs"].as_array().unwrap().len(), 1);
    assert!(by_peer.body["next_cursor"].is_string());

    app.restart().await;
    app.wait_until_healthy().await;
    let cancelled = Answer::of(
        app.delete(&format!("/v1/jobs/{scheduled_id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(cancelled.status, 200, "{:?}", cancelled.body);
    assert_eq!(cancelled.body["job"]["state"], "cancelled");
    assert_eq!(delivered_with(&app, &w.other, "pg fan out").len(), 1);
    assert_eq!(delivered_with(&app, &w.channel, "pg fan out").len(), 1);
    assert!(delivered_with(&app, &w.other, "pg later").is_empty());
}
