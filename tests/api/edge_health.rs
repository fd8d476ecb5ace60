//! Health degrades when Telegram calls stall (time out, or hang with nothing succeeding), and
//! recovers by itself once Telegram answers again.

use std::time::Duration;

use crate::common;

use common::{AppOptions, DEADLINE, spawn_app_with, test_manager_options};
use mtgate::telegram::ManagerOptions;
use reqwest::StatusCode;

fn stalling_options(call_timeout: Duration, stall_window: Duration) -> AppOptions {
    AppOptions {
        manager: ManagerOptions {
            call_timeout,
            probe_timeout: Duration::from_millis(400),
            stall_window,
            ..test_manager_options()
        },
        ..AppOptions::default()
    }
}

async fn ready_status(app: &common::TestApp) -> StatusCode {
    app.get_anonymous("/health/ready")
        .send()
        .await
        .expect("GET /health/ready")
        .status()
}

#[tokio::test]
async fn a_server_delay_longer_than_the_call_timeout_turns_health_degraded_and_back() {
    let app = spawn_app_with(stalling_options(
        Duration::from_millis(800),
        Duration::from_secs(30),
    ))
    .await;
    app.wait_until_healthy().await;
    app.sandbox.control().set_delay(Duration::from_secs(3));

    let response = app.get("/telegram/session/status").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);
    let body = app.wait_for_health("degraded", DEADLINE).await;
    assert_eq!(body["checks"]["telegram"]["connected"], false);
    assert_eq!(ready_status(&app).await, StatusCode::SERVICE_UNAVAILABLE);

    app.sandbox.control().set_delay(Duration::ZERO);
    app.wait_until_healthy().await;
    assert_eq!(ready_status(&app).await, StatusCode::OK);
}

#[tokio::test]
async fn calls_hanging_past_the_stall_window_degrade_health_before_they_time_out() {
    let app = spawn_app_with(stalling_options(
        Duration::from_secs(20),
        Duration::from_millis(300),
    ))
    .await;
    app.wait_until_healthy().await;
    app.sandbox.control().set_delay(Duration::from_secs(4));

    let pending = tokio::spawn({
        let request = app.get("/telegram/session/status");
        async move { request.send().await.map(|r| r.status()) }
    });
    app.wait_for_health("degraded", Duration::from_secs(3))
        .await;
    assert!(
        !pending.is_finished(),
        "health degraded while the call still waits"
    );

    app.sandbox.control().set_delay(Duration::ZERO);
    app.wait_until_healthy().await;
    let _ = pending.await;
}
