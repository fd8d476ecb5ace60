//! Helpers shared by the `/v1` integration tests: calls with JSON answers, and the sandbox's
//! ground truth (what it stores, which RPCs it handled) as JSON.
#![allow(dead_code)]

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::common::{AppOptions, TestApp, spawn_app, spawn_app_with};

/// One HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    pub async fn of(response: reqwest::Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("read the body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{status}: the body is not JSON ({e}): {text}"))
        };
        Self {
            status,
            headers,
            body,
        }
    }

    /// The `error.code` of an error answer.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }

    /// Asserts an error answer with this status and code, and a non-empty message.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "{:?}", self.body);
        assert_eq!(self.code(), code, "{:?}", self.body);
        assert!(
            !self.body["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .is_empty(),
            "error without a message: {:?}",
            self.body
        );
    }
}

/// An app against a fresh sandbox, connected.
pub async fn ready_app() -> TestApp {
    let app = spawn_app().await;
    app.wait_until_healthy().await;
    app
}

/// Like [`ready_app`] with options (extra variables, timings).
pub async fn ready_app_with(options: AppOptions) -> TestApp {
    let app = spawn_app_with(options).await;
    app.wait_until_healthy().await;
    app
}

pub async fn send(app: &TestApp, body: Value) -> Answer {
    Answer::of(
        app.post("/v1/messages")
            .json(&body)
            .send()
            .await
            .expect("POST"),
    )
    .await
}

pub async fn send_with_key(app: &TestApp, key: &str, body: &Value) -> Answer {
    let response = app
        .post("/v1/messages")
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .expect("POST");
    Answer::of(response).await
}

/// Sends `text` to `peer` and returns the created message (asserting 201).
pub async fn send_text(app: &TestApp, peer: &str, text: &str) -> Value {
    let answer = send(app, serde_json::json!({"peer": peer, "text": text})).await;
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    answer.body
}

pub async fn get(app: &TestApp, path: &str) -> Answer {
    Answer::of(app.get(path).send().await.expect("GET")).await
}

pub async fn patch(app: &TestApp, path: &str, body: Value) -> Answer {
    Answer::of(app.patch(path).json(&body).send().await.expect("PATCH")).await
}

pub async fn delete(app: &TestApp, path: &str) -> Answer {
    Answer::of(app.delete(path).send().await.expect("DELETE")).await
}

pub async fn delete_many(app: &TestApp, body: Value) -> Answer {
    Answer::of(
        app.post("/v1/messages/delete")
            .json(&body)
            .send()
            .await
            .expect("POST"),
    )
    .await
}

/// The sandbox's messages of `peer`, newest first.
pub fn ground_truth(app: &TestApp, peer: &str) -> Vec<Value> {
    let messages = app
        .sandbox
        .control()
        .chat_messages(peer)
        .unwrap_or_else(|e| panic!("sandbox chat {peer}: {e}"));
    serde_json::to_value(messages)
        .expect("messages serialize")
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Every RPC the sandbox handled so far.
pub fn requests(app: &TestApp) -> Vec<Value> {
    serde_json::to_value(app.sandbox.control().requests())
        .expect("requests serialize")
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// How many handled RPCs were `method`.
pub fn count_calls(app: &TestApp, method: &str) -> usize {
    requests(app)
        .iter()
        .filter(|r| r["method"] == method)
        .count()
}

/// The sandbox's starting peers: `(user, channel, supergroup, readonly_channel, first other)`.
pub struct World {
    pub me: String,
    pub channel: String,
    pub supergroup: String,
    pub readonly_channel: String,
    pub other: String,
}

pub fn world(app: &TestApp) -> World {
    let names = app.sandbox.world();
    World {
        me: names.user,
        channel: names.channel,
        supergroup: names.supergroup,
        readonly_channel: names.readonly_channel,
        other: names.others[0].clone(),
    }
}
