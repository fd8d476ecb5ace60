//! Scoped API keys from `MTGATE_KEYS_FILE`: outside its accounts, its chats or (read-only) on
//! a write, a key gets 403 `KEY_SCOPE` and nothing reaches Telegram. Keys are named in
//! metrics, never shown; idempotency keys live per API key and account.

use std::path::Path;

use mtgate_sandbox::harness::Sandbox;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::accounts::alice_account;
use crate::common::{AppOptions, DEADLINE, TestApp, eventually, spawn_app_with};

const ALICE_ONLY: &str = "alice-only-key-0123456789";
pub(crate) const NEWS_ONLY: &str = "news-only-key-0123456789";
/// Limited to the same channel, listed by its Bot-API id.
pub(crate) const NEWS_BY_ID: &str = "news-by-id-key-0123456789";
const READER: &str = "reader-key-0123456789";
pub(crate) const OTHER_FULL: &str = "second-full-key-0123456789";

fn accounts_and_keys(sandbox: &Sandbox, dir: &Path) -> Vec<(String, String)> {
    let mut vars = alice_account(sandbox, dir);
    let path = dir.join("keys.toml");
    let text = format!(
        "[keys.alice-only]\nkey = \"{ALICE_ONLY}\"\naccounts = [\"alice\"]\n\
         [keys.news-only]\nkey = \"{NEWS_ONLY}\"\naccounts = [\"default\"]\nchats = [\"@sandbox_news\"]\n\
         [keys.news-by-id]\nkey = \"{NEWS_BY_ID}\"\naccounts = [\"default\"]\nchats = [\"-1001500000001\"]\n\
         [keys.reader]\nkey = \"{READER}\"\naccounts = [\"*\"]\nread_only = true\n\
         [keys.second]\nkey = \"{OTHER_FULL}\"\naccounts = [\"*\"]\n"
    );
    std::fs::write(&path, text).expect("write the keys file");
    vars.push(("MTGATE_KEYS_FILE".into(), path.display().to_string()));
    vars
}

pub(crate) async fn scoped_app() -> TestApp {
    let app = spawn_app_with(AppOptions {
        sandbox_vars: Some(accounts_and_keys),
        ..AppOptions::default()
    })
    .await;
    eventually(DEADLINE, "every account healthy", || async {
        let (_, body) = app.health().await;
        (body["summary"]["healthy"] == 2).then_some(())
    })
    .await;
    // Every account's update pump caught up: the request log holds no background calls
    // from here on.
    app.wait_until_healthy().await;
    app
}

pub(crate) async fn call(
    app: &TestApp,
    key: &str,
    method: Method,
    path: &str,
    body: Value,
) -> (StatusCode, Value) {
    let mut request = app.request_with_key(key, method.clone(), path);
    if method != Method::GET {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let body = if status == StatusCode::NO_CONTENT {
        Value::Null
    } else {
        response.json().await.unwrap()
    };
    (status, body)
}

pub(crate) fn assert_key_scope(answer: &(StatusCode, Value), what: &str) {
    assert_eq!(answer.0, StatusCode::FORBIDDEN, "{what}: {}", answer.1);
    assert_eq!(answer.1["error"]["code"], "KEY_SCOPE", "{what}");
}

fn sends(app: &TestApp) -> usize {
    app.sandbox
        .control()
        .requests()
        .iter()
        .filter(|r| r.method == "messages.sendMessage")
        .count()
}

#[tokio::test]
async fn a_key_scoped_to_one_account_gets_key_scope_on_another_and_nothing_is_sent() {
    let app = scoped_app().await;
    let news_before = app
        .sandbox
        .control()
        .chat_messages("@sandbox_news")
        .unwrap();
    for path in ["/v1/messages", "/v1/accounts/default/messages"] {
        let answer = call(
            &app,
            ALICE_ONLY,
            Method::POST,
            path,
            json!({"peer": "@sandbox_news", "text": "no"}),
        )
        .await;
        assert_key_scope(&answer, path);
    }
    let read = call(
        &app,
        ALICE_ONLY,
        Method::GET,
        "/telegram/session/status",
        Value::Null,
    )
    .await;
    assert_key_scope(&read, "session status of default");
    // A name that does not exist is refused the same way: a scoped key learns no names.
    let unknown = call(
        &app,
        ALICE_ONLY,
        Method::GET,
        "/v1/accounts/zed/peers/me",
        Value::Null,
    )
    .await;
    assert_key_scope(&unknown, "unknown account");
    assert_eq!(sends(&app), 0);
    assert_eq!(
        app.sandbox
            .control()
            .chat_messages("@sandbox_news")
            .unwrap()
            .len(),
        news_before.len()
    );
    let allowed = call(
        &app,
        ALICE_ONLY,
        Method::POST,
        "/v1/accounts/alice/messages",
        json!({"text": "mine"}),
    )
    .await;
    assert_eq!(allowed.0, StatusCode::CREATED, "{}", allowed.1);
    assert_eq!(sends(&app), 1);
}

#[tokio::test]
async fn a_key_with_a_chat_list_may_not_read_or_write_other_chats_and_nothing_is_sent() {
    let app = scoped_app().await;
    let group_before = app
        .sandbox
        .control()
        .chat_messages("@sandbox_chat")
        .unwrap();
    let calls_before = app.sandbox.control().requests().len();
    for (method, path, body) in [
        (
            Method::POST,
            "/v1/messages",
            json!({"peer": "@sandbox_chat", "text": "no"}),
        ),
        (Method::GET, "/v1/messages/@sandbox_chat", Value::Null),
        (
            Method::PATCH,
            "/v1/messages/@sandbox_chat/1",
            json!({"text": "no"}),
        ),
        (Method::DELETE, "/v1/messages/@sandbox_chat/1", Value::Null),
        (
            Method::POST,
            "/v1/messages/delete",
            json!({"peer": "@sandbox_chat", "ids": [1]}),
        ),
        (Method::GET, "/v1/peers/@sandbox_chat", Value::Null),
        // The same channel by id, before the account learned which id the listed name
        // stands for: refused, the safe side (keys_scope_forms has the rest).
        (Method::GET, "/v1/messages/-1001500000001", Value::Null),
    ] {
        let answer = call(&app, NEWS_ONLY, method.clone(), path, body).await;
        assert_key_scope(&answer, &format!("{method} {path}"));
    }
    // Nothing of it reached the sandbox: no call at all, the group unchanged.
    let calls = app.sandbox.control().requests();
    assert_eq!(calls.len(), calls_before, "{:?}", &calls[calls_before..]);
    assert_eq!(
        app.sandbox
            .control()
            .chat_messages("@sandbox_chat")
            .unwrap()
            .len(),
        group_before.len()
    );
    let ok = call(
        &app,
        NEWS_ONLY,
        Method::POST,
        "/v1/messages",
        json!({"peer": "https://t.me/Sandbox_News", "text": "yes"}),
    )
    .await;
    assert_eq!(ok.0, StatusCode::CREATED, "{}", ok.1);
    let read = call(
        &app,
        NEWS_ONLY,
        Method::GET,
        "/v1/messages/@sandbox_news",
        Value::Null,
    )
    .await;
    assert_eq!(read.0, StatusCode::OK, "{}", read.1);
    assert_eq!(read.1["messages"][0]["text"], "yes");
    let listed = call(&app, NEWS_ONLY, Method::GET, "/v1/chats", Value::Null).await;
    assert_eq!(listed.0, StatusCode::OK, "{}", listed.1);
    let names: Vec<&str> = listed.1["chats"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["peer"]["username"].as_str())
        .collect();
    assert_eq!(
        names,
        ["sandbox_news"],
        "the chat list shows only the key's chats"
    );
}

#[tokio::test]
async fn a_read_only_key_reads_every_account_but_may_not_write() {
    let app = scoped_app().await;
    for path in [
        "/v1/messages/@sandbox_news",
        "/v1/accounts/alice/messages/@sandy",
    ] {
        let answer = call(&app, READER, Method::GET, path, Value::Null).await;
        assert_eq!(answer.0, StatusCode::OK, "{path}: {}", answer.1);
    }
    for (method, path, body) in [
        (
            Method::POST,
            "/v1/messages",
            json!({"peer": "@sandbox_news", "text": "no"}),
        ),
        (
            Method::POST,
            "/v1/accounts/alice/messages",
            json!({"text": "no"}),
        ),
        (Method::DELETE, "/v1/messages/@sandbox_news/1", Value::Null),
    ] {
        let answer = call(&app, READER, method.clone(), path, body).await;
        assert_key_scope(&answer, &format!("{method} {path}"));
    }
    assert_eq!(sends(&app), 0);
}

/// Sends `body` with `Idempotency-Key: order-42`: (status, replayed, message id).
async fn idempotent_send(
    app: &TestApp,
    key: String,
    path: &str,
    body: Value,
) -> (StatusCode, bool, i64) {
    let response = app
        .request_with_key(&key, Method::POST, path)
        .header("Idempotency-Key", "order-42")
        .json(&body)
        .send()
        .await
        .unwrap();
    let replayed = response.headers().get("idempotent-replayed").is_some();
    let status = response.status();
    let json: Value = response.json().await.unwrap();
    (status, replayed, json["id"].as_i64().unwrap())
}

#[tokio::test]
async fn an_idempotency_key_is_scoped_per_api_key_and_account() {
    let app = scoped_app().await;
    let body = json!({"peer": "@bob_sandbox", "text": "once per caller"});
    let send = |key: String, path: &'static str| idempotent_send(&app, key, path, body.clone());
    let first = send(app.api_key.clone(), "/v1/messages").await;
    let again = send(app.api_key.clone(), "/v1/messages").await;
    assert_eq!(
        (again.1, again.2),
        (true, first.2),
        "the same caller gets a replay"
    );
    let other_key = send(OTHER_FULL.into(), "/v1/messages").await;
    assert!(!other_key.1, "another key's request is its own");
    assert_ne!(other_key.2, first.2);
    let other_account = send(OTHER_FULL.into(), "/v1/accounts/alice/messages").await;
    assert!(!other_account.1, "another account's request is its own");
    let bob_chat = app.sandbox.control().chat_messages("@bob_sandbox").unwrap();
    assert_eq!(
        bob_chat
            .iter()
            .filter(|m| m.text == "once per caller")
            .count(),
        2,
        "two sends by the default account (one per API key)"
    );
    let alice_view = app
        .sandbox
        .control()
        .chat_messages_as("@alice_sandbox", "@bob_sandbox")
        .unwrap();
    assert_eq!(alice_view[0].text, "once per caller");
}

#[tokio::test]
async fn key_names_not_keys_appear_in_metrics() {
    let app = scoped_app().await;
    let refused = call(&app, ALICE_ONLY, Method::GET, "/v1/peers/me", Value::Null).await;
    assert_key_scope(&refused, "default account");
    let allowed = call(
        &app,
        ALICE_ONLY,
        Method::GET,
        "/v1/accounts/alice/peers/me",
        Value::Null,
    )
    .await;
    assert_eq!(allowed.0, StatusCode::OK);
    let text = app
        .get_anonymous("/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains(
        "mtgate_api_requests_total{key=\"alice-only\",account=\"default\",outcome=\"KEY_SCOPE\"} 1"
    ), "{text}");
    assert!(
        text.contains(
            "mtgate_api_requests_total{key=\"alice-only\",account=\"alice\",outcome=\"allowed\"} 1"
        ),
        "{text}"
    );
    assert!(!text.contains(ALICE_ONLY));
}

#[tokio::test]
async fn the_real_binary_logs_key_names_and_accounts_never_keys() {
    use crate::common::{MtgateProcess, TempDir, base_vars, random_api_key};
    let sandbox = Sandbox::start().await.unwrap();
    let state_dir = TempDir::new("key-logs");
    let env_key = random_api_key();
    let mut vars = base_vars(&sandbox, state_dir.path(), &env_key);
    vars.extend(accounts_and_keys(&sandbox, state_dir.path()));
    let process = MtgateProcess::spawn(&["serve"], &vars);
    let address = process.wait_for_listen_address().await;
    let client = reqwest::Client::new();
    let refused = client
        .get(format!("http://{address}/v1/peers/me"))
        .bearer_auth(ALICE_ONLY)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let line = eventually(DEADLINE, "the request's log line", || async {
        process.stderr_lines().into_iter().find_map(|line| {
            let json: Value = serde_json::from_str(&line).ok()?;
            (json["key"] == "alice-only").then_some(json)
        })
    })
    .await;
    assert_eq!(line["account"], "default", "{line}");
    let stderr = process.stderr();
    assert!(!stderr.contains(ALICE_ONLY) && !stderr.contains(&env_key));
}
