//! FLOOD_WAIT handling by our retry policy: short waits are slept through inside the call,
//! long ones come back as 429 with `Retry-After`; both are counted in `/metrics`.

use crate::common;

use common::{AppOptions, spawn_app_with};
use reqwest::StatusCode;

async fn flood_metric(app: &common::TestApp, outcome: &str) -> String {
    let text = app
        .get_anonymous("/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let prefix =
        format!("mtgate_telegram_flood_waits_total{{account=\"default\",outcome=\"{outcome}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {prefix} in {text}"))
        .to_string()
}

#[tokio::test]
async fn a_flood_wait_within_the_limit_is_slept_through() {
    let app = spawn_app_with(AppOptions::default().var("MTGATE_FLOOD_SLEEP_MAX", "2")).await;
    app.wait_until_healthy().await;
    app.sandbox
        .control()
        .inject_rpc_error("users.getUsers", 420, "FLOOD_WAIT_1", 1);
    let response = app.get("/telegram/session/status").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(flood_metric(&app, "slept").await, "1");
    assert_eq!(flood_metric(&app, "returned").await, "0");
    let failed: Vec<_> = app
        .sandbox
        .control()
        .requests()
        .into_iter()
        .filter(|r| r.method == "users.getUsers" && !r.ok)
        .collect();
    assert_eq!(failed.len(), 1, "the flood really happened once");
}

#[tokio::test]
async fn a_flood_wait_beyond_the_limit_is_429_with_retry_after() {
    let app = spawn_app_with(AppOptions::default().var("MTGATE_FLOOD_SLEEP_MAX", "2")).await;
    app.wait_until_healthy().await;
    app.sandbox
        .control()
        .inject_rpc_error("users.getUsers", 420, "FLOOD_WAIT_30", 1);
    let response = app.get("/telegram/session/status").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "30");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "FLOOD_WAIT");
    assert_eq!(body["error"]["telegram"], "FLOOD_WAIT_30");
    assert_eq!(flood_metric(&app, "returned").await, "1");
    // A flood is the caller's problem, not the connection's.
    let (status, health) = app.health().await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(health["status"], "healthy");
}
