//! Health follows the connection: degraded while Telegram is unreachable (the HTTP server
//! keeps answering), healed by the supervisor without API traffic, unhealthy for good when
//! the session is revoked.

use crate::common;

use std::time::Duration;

use common::{AppOptions, DEADLINE, eventually, spawn_app, spawn_app_with};
use reqwest::StatusCode;

/// The contract's "within 2 s" for noticing an outage.
const OUTAGE_NOTICED: Duration = Duration::from_secs(2);

#[tokio::test]
async fn a_connected_app_is_healthy_live_and_ready() {
    let app = spawn_app().await;
    let body = app.wait_until_healthy().await;
    let telegram = &body["checks"]["telegram"];
    assert_eq!(telegram["status"], "connected");
    assert_eq!(telegram["connected"], true);
    assert_eq!(telegram["authorized"], true);
    assert!(telegram["last_error"].is_null());
    assert_eq!(body["checks"]["config"]["status"], "ok");
    for path in ["/health/live", "/health/ready"] {
        let response = app.get_anonymous(path).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn a_sandbox_outage_degrades_health_and_it_heals_without_api_traffic() {
    let app = spawn_app().await;
    app.wait_until_healthy().await;

    app.set_sandbox_down(true).await;
    let body = app.wait_for_health("degraded", OUTAGE_NOTICED).await;
    assert_eq!(body["checks"]["telegram"]["status"], "reconnecting");
    assert_eq!(body["checks"]["telegram"]["connected"], false);
    assert!(body["checks"]["telegram"]["last_error"].is_string());
    let (status, _) = app.health().await;
    assert_eq!(status, StatusCode::OK, "degraded is still 200");
    eventually(OUTAGE_NOTICED, "/health/ready to be 503", || async {
        let response = app.get_anonymous("/health/ready").send().await.unwrap();
        (response.status() == StatusCode::SERVICE_UNAVAILABLE).then_some(())
    })
    .await;

    // No request of ours touches Telegram from here on: only the supervisor can heal it.
    app.set_sandbox_down(false).await;
    app.wait_for_health("healthy", DEADLINE).await;
    let response = app.get_anonymous("/health/ready").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(app.state.accounts.default().metrics().reconnects() >= 1);
}

#[tokio::test]
async fn starting_with_the_sandbox_down_serves_http_at_once_degraded_then_heals() {
    let app = spawn_app_with(AppOptions {
        sandbox_down: true,
        ..AppOptions::default()
    })
    .await;
    let (status, body) = app.health().await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["checks"]["telegram"]["status"], "connecting");
    let ready = app.get_anonymous("/health/ready").send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let status = app.get("/telegram/session/status").send().await.unwrap();
    assert_eq!(status.status(), StatusCode::SERVICE_UNAVAILABLE);
    let error: serde_json::Value = status.json().await.unwrap();
    assert_eq!(error["error"]["code"], "TELEGRAM_UNAVAILABLE");

    app.set_sandbox_down(false).await;
    app.wait_until_healthy().await;
}

#[tokio::test]
async fn a_revoked_session_is_unhealthy_and_not_retried_in_a_storm() {
    let app = spawn_app().await;
    app.wait_until_healthy().await;

    app.sandbox.control().revoke_sessions();
    // A call notices the revoked key (the liveness probe would too, later).
    let response = app.get("/telegram/session/status").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let error: serde_json::Value = response.json().await.unwrap();
    assert_eq!(error["error"]["code"], "SESSION_UNAUTHORIZED");

    let body = app.wait_for_health("unhealthy", OUTAGE_NOTICED).await;
    assert_eq!(body["checks"]["telegram"]["status"], "unauthorized");
    assert_eq!(body["checks"]["telegram"]["authorized"], false);
    let (status, _) = app.health().await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);

    // Dropping the connection would make a reconnecting client dial again and again.
    let calls_before = app.sandbox.control().requests().len();
    app.sandbox.control().drop_connections();
    // Watch for a while: a storm would show dozens of calls within a second.
    let watch_until = tokio::time::Instant::now() + Duration::from_millis(1500);
    while tokio::time::Instant::now() < watch_until {
        let calls = app.sandbox.control().requests().len() - calls_before;
        assert!(
            calls <= 1,
            "{calls} calls to a revoked session: a retry storm"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, body) = app.health().await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["status"], "unhealthy");
}

#[tokio::test]
async fn metrics_expose_calls_and_connection_state() {
    let app = spawn_app().await;
    app.wait_until_healthy().await;
    let ok = app.get("/telegram/session/status").send().await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let text = app
        .get_anonymous("/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains(
        "mtgate_telegram_calls_total{account=\"default\",method=\"users.getUsers\",outcome=\"ok\"}"
    ));
    assert!(text.contains(
        "mtgate_telegram_call_duration_seconds_count{account=\"default\",method=\"users.getUsers\"}"
    ));
    assert!(text.contains("mtgate_telegram_connection_state{account=\"default\"} 1"));
    assert!(text.contains("mtgate_telegram_reconnects_total{account=\"default\"} 0"));
    assert!(
        text.contains("mtgate_telegram_flood_waits_total{account=\"default\",outcome=\"slept\"} 0")
    );
}

#[tokio::test]
async fn with_production_timings_a_key_revoked_while_idle_is_unhealthy_within_seconds() {
    let production = mtgate::telegram::ManagerOptions::default().liveness_interval;
    assert!(production <= Duration::from_secs(5), "{production:?}");
    let app = spawn_app_with(AppOptions {
        manager: mtgate::telegram::ManagerOptions {
            liveness_interval: production,
            ..common::test_manager_options()
        },
        ..AppOptions::default()
    })
    .await;
    app.wait_until_healthy().await;
    let calls_before = app.sandbox.control().requests().len();
    // The connection stays up; only the key loses its user. No request of ours follows.
    app.sandbox.control().revoke_sessions();
    let body = app
        .wait_for_health("unhealthy", production + Duration::from_secs(3))
        .await;
    assert_eq!(body["checks"]["telegram"]["status"], "unauthorized");
    let (status, _) = app.health().await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    // Noticed by the supervisor's own probe, not by any request.
    let probes: Vec<String> = app.sandbox.control().requests()[calls_before..]
        .iter()
        .map(|r| r.method.clone())
        .collect();
    assert!(
        !probes.is_empty() && probes.iter().all(|m| m == "users.getUsers"),
        "only the cheap probe: {probes:?}"
    );
}

#[tokio::test]
async fn a_key_revoked_while_idle_is_noticed_by_the_liveness_probe() {
    let app = spawn_app_with(AppOptions {
        manager: mtgate::telegram::ManagerOptions {
            liveness_interval: Duration::from_millis(200),
            ..common::test_manager_options()
        },
        ..AppOptions::default()
    })
    .await;
    app.wait_until_healthy().await;
    // The connection stays up; only the key loses its user. No request of ours follows.
    app.sandbox.control().revoke_sessions();
    let body = app.wait_for_health("unhealthy", DEADLINE).await;
    assert_eq!(body["checks"]["telegram"]["status"], "unauthorized");
    assert_eq!(
        body["checks"]["telegram"]["last_error"],
        "AUTH_KEY_UNREGISTERED"
    );
}
