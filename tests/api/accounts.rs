//! Several accounts in one process: `default` (TG_SESSION) and `alice` from an accounts file
//! (the sandbox's `other_sessions`), each on its own routes, with its own health, metrics
//! and chats — and one account's revoked key never degrading the other.

use std::path::Path;

use mtgate_sandbox::harness::Sandbox;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{AppOptions, DEADLINE, TestApp, eventually, spawn_app_with};

/// `MTGATE_ACCOUNTS_FILE` with `alice` logged in as the sandbox's `@alice_sandbox`.
pub fn alice_account(sandbox: &Sandbox, dir: &Path) -> Vec<(String, String)> {
    let session = sandbox
        .other_session("@alice_sandbox")
        .expect("alice's session");
    let path = dir.join("accounts.toml");
    let text =
        format!("[accounts.alice]\nsession = \"{session}\"\ndefault_peer = \"@bob_sandbox\"\n");
    std::fs::write(&path, text).expect("write the accounts file");
    vec![("MTGATE_ACCOUNTS_FILE".into(), path.display().to_string())]
}

pub async fn two_accounts() -> TestApp {
    let app = spawn_app_with(AppOptions {
        sandbox_vars: Some(alice_account),
        ..AppOptions::default()
    })
    .await;
    wait_until_every_account_is_healthy(&app).await;
    app
}

async fn wait_until_every_account_is_healthy(app: &TestApp) -> Value {
    let body = eventually(DEADLINE, "every account healthy", || async {
        let (_, body) = app.health().await;
        (body["summary"]["healthy"] == body["summary"]["accounts"]).then_some(body)
    })
    .await;
    // And every update pump caught up, so the request log holds only what tests do.
    app.wait_until_healthy().await;
    body
}

async fn send(app: &TestApp, path: &str, body: Value) -> (StatusCode, Value) {
    let response = app.post(path).json(&body).send().await.unwrap();
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn two_accounts_in_one_process_each_send_to_their_own_chats() {
    let app = two_accounts().await;
    let (status, sent) = send(
        &app,
        "/v1/messages",
        json!({"peer": "@sandbox_news", "text": "from the default account"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    // No peer: alice's default_peer (@bob_sandbox) from the accounts file.
    let (status, sent_by_alice) = send(
        &app,
        "/v1/accounts/alice/messages",
        json!({"text": "from alice"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{sent_by_alice}");

    let control = app.sandbox.control();
    let news = control.chat_messages("@sandbox_news").unwrap();
    assert_eq!(news[0].text, "from the default account");
    assert_eq!(news[0].id, sent["id"].as_i64().unwrap() as i32);
    let alice_view = control
        .chat_messages_as("@alice_sandbox", "@bob_sandbox")
        .unwrap();
    assert_eq!(alice_view[0].text, "from alice");
    assert!(alice_view[0].outgoing);
    assert_eq!(
        alice_view[0].id,
        sent_by_alice["id"].as_i64().unwrap() as i32
    );
    let bob_view = control
        .chat_messages_as("@bob_sandbox", "@alice_sandbox")
        .unwrap();
    assert_eq!(bob_view[0].text, "from alice");
    assert!(!bob_view[0].outgoing);
    // The default account's own chat with bob saw nothing of it.
    let default_view = control.chat_messages("@bob_sandbox").unwrap();
    assert!(default_view.iter().all(|m| m.text != "from alice"));
}

#[tokio::test]
async fn the_default_account_answers_on_both_route_forms_and_session_status_is_per_account() {
    let app = two_accounts().await;
    let plain: Value = app
        .get("/v1/peers/me")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let named: Value = app
        .get("/v1/accounts/default/peers/me")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(plain, named);
    assert_eq!(plain["username"], "sandy");

    let status: Value = app
        .get("/telegram/session/status")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["username"], "sandy");
    let response = app
        .get("/v1/accounts/alice/session/status")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let alice: Value = response.json().await.unwrap();
    assert_eq!(alice["username"], "alice_sandbox");
    assert_eq!(alice["status"], "connected");

    // History of alice's chat with the account, through alice: the seeded conversation.
    let page: Value = app
        .get("/v1/accounts/alice/messages/@sandy?limit=5")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let texts: Vec<&str> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        ["Thanks Alice.", "Hi Sandy, welcome to the sandbox!"]
    );
    assert_eq!(page["messages"][1]["outgoing"], true);
}

#[tokio::test]
async fn an_unknown_account_is_404_account_not_found_and_nothing_is_called() {
    let app = two_accounts().await;
    let before = app.sandbox.control().requests().len();
    for (method, path) in [
        (Method::POST, "/v1/accounts/carol/messages"),
        (Method::GET, "/v1/accounts/carol/peers/me"),
        (Method::GET, "/v1/accounts/Not%20A%20Name/messages/me"),
        (Method::GET, "/v1/accounts/carol/session/status"),
    ] {
        let response = app
            .request(method.clone(), path)
            .json(&json!({"text": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{method} {path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "ACCOUNT_NOT_FOUND", "{path}");
    }
    let unknown_route = app
        .get("/v1/accounts/alice/nothing-here")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown_route.status(), StatusCode::NOT_FOUND);
    let body: Value = unknown_route.json().await.unwrap();
    assert_eq!(body["error"]["code"], "NOT_FOUND");
    let calls_after = app.sandbox.control().requests();
    assert!(
        calls_after[before..]
            .iter()
            .all(|r| r.method != "messages.sendMessage"),
        "{calls_after:?}"
    );
    let anonymous = app
        .get_anonymous("/v1/accounts/carol/peers/me")
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn revoking_one_account_leaves_the_other_healthy_and_serving() {
    let app = two_accounts().await;
    app.sandbox
        .control()
        .revoke_user("@alice_sandbox")
        .expect("alice exists");
    // Alice's requests now fail as a revoked session does…
    let answer = eventually(DEADLINE, "alice's revoked session to show", || async {
        let (status, body) = send(&app, "/v1/accounts/alice/messages", json!({"text": "x"})).await;
        (status == StatusCode::SERVICE_UNAVAILABLE).then_some(body)
    })
    .await;
    assert_eq!(answer["error"]["code"], "SESSION_UNAUTHORIZED");
    // …and /health lists her unhealthy while the default account, and the probe, stay fine.
    let body = eventually(DEADLINE, "health to list alice unhealthy", || async {
        let (status, body) = app.health().await;
        let alice = body["accounts"]
            .as_array()?
            .iter()
            .find(|a| a["name"] == "alice")?
            .clone();
        (alice["status"] == "unhealthy").then_some((status, body))
    })
    .await;
    let (status, body) = body;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "healthy");
    assert_eq!(body["summary"]["unhealthy"], 1);
    assert_eq!(body["summary"]["healthy"], 1);
    let ready = app.get_anonymous("/health/ready").send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let (status, sent) = send(
        &app,
        "/v1/messages",
        json!({"peer": "@sandbox_news", "text": "still serving"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    let news = app
        .sandbox
        .control()
        .chat_messages("@sandbox_news")
        .unwrap();
    assert_eq!(news[0].text, "still serving");
}

#[tokio::test]
async fn every_metric_carries_the_account_label() {
    let app = two_accounts().await;
    for path in [
        "/telegram/session/status",
        "/v1/accounts/alice/session/status",
    ] {
        assert_eq!(app.get(path).send().await.unwrap().status(), StatusCode::OK);
    }
    let text = app
        .get_anonymous("/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for account in ["default", "alice"] {
        let sample = format!(
            "mtgate_telegram_calls_total{{account=\"{account}\",method=\"users.getUsers\",outcome=\"ok\"}}"
        );
        assert!(text.contains(&sample), "{sample} missing:\n{text}");
        assert!(text.contains(&format!(
            "mtgate_telegram_connection_state{{account=\"{account}\"}} 1"
        )));
    }
    assert_eq!(
        text.matches("# TYPE mtgate_telegram_connection_state ")
            .count(),
        1
    );
    // The HTTP edge's series are process-wide: one listener serves every account.
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty() && !l.starts_with("mtgate_http_"))
    {
        assert!(line.contains("account=\""), "no account label: {line}");
    }
}
