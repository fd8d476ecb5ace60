//! `/telegram/session/status` and caller authentication, against the sandbox.

use crate::common;

use common::spawn_app;
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn session_status_returns_the_sandbox_user_with_a_masked_phone() {
    let app = spawn_app().await;
    app.wait_until_healthy().await;
    let response = app.get("/telegram/session/status").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let info = app.sandbox.info();
    assert_eq!(body["status"], "connected");
    assert!(body["user_id"].as_i64().unwrap() > 0);
    let expected_username = info["world"]["user"]
        .as_str()
        .unwrap()
        .trim_start_matches('@');
    assert_eq!(body["username"], expected_username);
    assert_eq!(body["is_bot"], false);
    assert!(body["dc_id"].as_i64().unwrap() >= 1);

    let phone_digits: String = info["phone"]
        .as_str()
        .unwrap()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let masked = body["phone"].as_str().unwrap();
    assert!(
        masked.ends_with(&phone_digits[phone_digits.len() - 4..]),
        "{masked}"
    );
    let shown: String = masked.chars().filter(char::is_ascii_digit).collect();
    assert_eq!(shown.len(), 4, "only the last 4 digits show: {masked}");
}

#[tokio::test]
async fn no_key_is_401() {
    let app = spawn_app().await;
    let response = app
        .get_anonymous("/telegram/session/status")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "UNAUTHORIZED");
}

#[tokio::test]
async fn a_wrong_key_is_401_in_either_header() {
    let app = spawn_app().await;
    let wrong = format!("{}x", app.api_key);
    let bearer = app
        .client
        .get(app.url("/telegram/session/status"))
        .bearer_auth(&wrong)
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), StatusCode::UNAUTHORIZED);
    let header = app
        .client
        .get(app.url("/telegram/session/status"))
        .header("X-API-Key", &wrong)
        .send()
        .await
        .unwrap();
    assert_eq!(header.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_x_api_key_header_is_accepted() {
    let app = spawn_app().await;
    app.wait_until_healthy().await;
    let response = app
        .client
        .get(app.url("/telegram/session/status"))
        .header("X-API-Key", &app.api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn health_and_metrics_need_no_key() {
    let app = spawn_app().await;
    for path in ["/health", "/health/live", "/metrics"] {
        let response = app.get_anonymous(path).send().await.unwrap();
        assert_ne!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
}

#[tokio::test]
async fn a_request_id_is_echoed_or_generated() {
    let app = spawn_app().await;
    let echoed = app
        .get_anonymous("/health/live")
        .header("X-Request-Id", "trace-me-123")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "trace-me-123");
    let generated = app.get_anonymous("/health/live").send().await.unwrap();
    let id = generated.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 32);
}

#[tokio::test]
async fn an_unknown_path_is_a_json_404() {
    let app = spawn_app().await;
    let response = app.get_anonymous("/nope").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "NOT_FOUND");
}

#[tokio::test]
async fn a_wrong_method_on_a_known_path_is_a_json_405() {
    let app = spawn_app().await;
    let response = app.delete("/health").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "METHOD_NOT_ALLOWED");
}

#[tokio::test]
async fn learned_state_survives_a_restart() {
    let mut app = spawn_app().await;
    app.wait_until_healthy().await;
    let stored_peers = |app: &common::TestApp| {
        let dir = app.state_dir.path().to_path_buf();
        let store = app.state.store.clone();
        async move {
            store.flush().await.unwrap();
            let reader = mtgate::store::Store::open(&dir).await.unwrap();
            let peers = reader
                .account(mtgate::accounts::DEFAULT_ACCOUNT)
                .peers()
                .await
                .unwrap();
            reader.close().await.unwrap();
            peers
        }
    };
    let before = stored_peers(&app).await;
    assert!(
        before.iter().any(|p| p.is_self == Some(true)),
        "the self user is remembered: {before:?}"
    );

    app.restart().await;
    app.wait_until_healthy().await;
    let after = stored_peers(&app).await;
    assert_eq!(
        before.iter().map(|p| p.id).collect::<Vec<_>>(),
        after.iter().map(|p| p.id).collect::<Vec<_>>()
    );
    let status = app.get("/telegram/session/status").send().await.unwrap();
    assert_eq!(status.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_registry_serves_tg_session_as_the_default_account_and_knows_no_other() {
    let app = spawn_app().await;
    app.wait_until_healthy().await;
    let accounts = &app.state.accounts;
    let default = accounts.default();
    assert_eq!(default.name(), "default");
    assert!(std::sync::Arc::ptr_eq(
        default,
        accounts.get("default").unwrap()
    ));
    assert!(accounts.get("other").is_none());
    assert_eq!(accounts.all().count(), 1);

    // What the HTTP API says is what the default account's own operation says.
    let info = default.session_info().await.unwrap();
    let body: Value = app
        .get("/telegram/session/status")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["user_id"], info.me.id);
    assert_eq!(body["dc_id"], info.dc_id);
}
