//! The outbox under accounts and scoped keys: jobs live per account (also under
//! `/v1/accounts/{account}/…`), a read-only key cannot enqueue, a chat-scoped key enqueues,
//! sees and cancels only its chats' jobs.

use std::path::Path;

use mtgate_sandbox::harness::Sandbox;
use reqwest::Method;
use serde_json::{Value, json};

use crate::accounts::alice_account;
use crate::common::{AppOptions, DEADLINE, TestApp, eventually, spawn_app_with};
use crate::messages_support::Answer;
use crate::outbox_support::delivered_with;

const NEWS_ONLY: &str = "outbox-news-only-key-0123456789";
const READER: &str = "outbox-reader-key-0123456789";

fn accounts_and_keys(sandbox: &Sandbox, dir: &Path) -> Vec<(String, String)> {
    let mut vars = alice_account(sandbox, dir);
    let channel = sandbox.world().channel;
    let path = dir.join("keys.toml");
    let text = format!(
        "[keys.news-only]\nkey = \"{NEWS_ONLY}\"\naccounts = [\"default\"]\nchats = [\"{channel}\"]\n\
         [keys.reader]\nkey = \"{READER}\"\naccounts = [\"*\"]\nread_only = true\n"
    );
    std::fs::write(&path, text).expect("write the keys file");
    vars.push(("MTGATE_KEYS_FILE".into(), path.display().to_string()));
    vars.push(("MTGATE_OUTBOX_RATES".into(), "off".into()));
    vars
}

async fn app() -> TestApp {
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
    app.wait_until_healthy().await;
    app
}

async fn call(app: &TestApp, key: &str, method: Method, path: &str, body: Option<Value>) -> Answer {
    let mut request = app.request_with_key(key, method, path);
    if let Some(body) = body {
        request = request.json(&body);
    }
    Answer::of(request.send().await.unwrap()).await
}

#[tokio::test]
async fn a_read_only_key_lists_jobs_but_cannot_enqueue() {
    let app = app().await;
    let channel = app.sandbox.world().channel;
    let body = json!({"peer": channel, "text": "from a reader"});
    call(&app, READER, Method::POST, "/v1/outbox", Some(body))
        .await
        .assert_error(403, "KEY_SCOPE");
    let listed = call(&app, READER, Method::GET, "/v1/jobs", None).await;
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    assert!(listed.body["jobs"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_chat_scoped_key_enqueues_and_sees_only_its_chats() {
    let app = app().await;
    let w = app.sandbox.world();
    let own = call(
        &app,
        NEWS_ONLY,
        Method::POST,
        "/v1/outbox",
        Some(json!({"peer": w.channel, "text": "scoped news"})),
    )
    .await;
    assert_eq!(own.status, 202, "{:?}", own.body);
    call(
        &app,
        NEWS_ONLY,
        Method::POST,
        "/v1/outbox/batch",
        Some(json!({"peers": [w.channel, w.others[0]], "text": "half allowed"})),
    )
    .await
    .assert_error(403, "KEY_SCOPE");
    let foreign = call(
        &app,
        &app.api_key,
        Method::POST,
        "/v1/outbox",
        Some(json!({"peer": w.others[0], "text": "not for news"})),
    )
    .await;
    assert_eq!(foreign.status, 202);
    let foreign_id = foreign.body["job"]["id"].as_str().unwrap();

    let listed = call(&app, NEWS_ONLY, Method::GET, "/v1/jobs", None).await;
    let ids: Vec<&str> = listed.body["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [own.body["job"]["id"].as_str().unwrap()]);
    call(
        &app,
        NEWS_ONLY,
        Method::GET,
        &format!("/v1/jobs/{foreign_id}"),
        None,
    )
    .await
    .assert_error(404, "JOB_NOT_FOUND");
    call(
        &app,
        NEWS_ONLY,
        Method::DELETE,
        &format!("/v1/jobs/{foreign_id}"),
        None,
    )
    .await
    .assert_error(404, "JOB_NOT_FOUND");
    assert!(delivered_with(&app, &w.channel, "half allowed").is_empty());
}

#[tokio::test]
async fn each_account_has_its_own_jobs_under_its_own_paths() {
    let app = app().await;
    let answer = call(
        &app,
        &app.api_key,
        Method::POST,
        "/v1/accounts/alice/outbox",
        Some(json!({"text": "from alice's outbox"})),
    )
    .await;
    assert_eq!(answer.status, 202, "{:?}", answer.body);
    let id = answer.body["job"]["id"].as_str().unwrap();
    let location = answer.headers["location"].to_str().unwrap().to_owned();
    assert_eq!(location, format!("/v1/accounts/alice/jobs/{id}"));
    eventually(DEADLINE, "alice's job sent", || async {
        let job = call(&app, &app.api_key, Method::GET, &location, None).await;
        (job.body["job"]["state"] == "sent").then_some(())
    })
    .await;
    call(
        &app,
        &app.api_key,
        Method::GET,
        &format!("/v1/jobs/{id}"),
        None,
    )
    .await
    .assert_error(404, "JOB_NOT_FOUND");
    let truth = app
        .sandbox
        .control()
        .chat_messages_as("@alice_sandbox", "@bob_sandbox")
        .unwrap();
    assert_eq!(truth[0].text, "from alice's outbox");
}
