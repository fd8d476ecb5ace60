//! Helpers for the outbox tests: enqueue, read jobs, wait for states, read the sandbox's
//! ground truth per chat in delivery order.
#![allow(dead_code)]

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{AppOptions, TestApp, eventually};
use crate::messages_support::{Answer, ground_truth, ready_app_with};

/// Variables every outbox test starts with: quick retries, pacing off unless a test sets it.
/// `MTGATE_FLOOD_SLEEP_MAX` keeps its default (10 s): the outbox never sleeps through a
/// wait, whatever it says.
pub fn outbox_options() -> AppOptions {
    AppOptions::default()
        .var("MTGATE_OUTBOX_RATES", "off")
        .var("MTGATE_OUTBOX_RETRY_BASE", "100ms")
        .var("MTGATE_OUTBOX_RETRY_MAX", "400ms")
}

pub async fn outbox_app() -> TestApp {
    ready_app_with(outbox_options()).await
}

pub async fn enqueue(app: &TestApp, body: Value) -> Answer {
    Answer::of(
        app.post("/v1/outbox")
            .json(&body)
            .send()
            .await
            .expect("POST"),
    )
    .await
}

/// Enqueues `text` for `peer` and returns the job (asserting 202).
pub async fn enqueue_text(app: &TestApp, peer: &str, text: &str) -> Value {
    let answer = enqueue(app, json!({"peer": peer, "text": text})).await;
    assert_eq!(answer.status, 202, "{:?}", answer.body);
    answer.body["job"].clone()
}

pub async fn job(app: &TestApp, id: &str) -> Value {
    let answer = Answer::of(
        app.get(&format!("/v1/jobs/{id}"))
            .send()
            .await
            .expect("GET"),
    )
    .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body["job"].clone()
}

/// Waits (up to `deadline`) until job `id` is in `state`; returns it.
pub async fn wait_for_state(app: &TestApp, id: &str, state: &str, deadline: Duration) -> Value {
    eventually(deadline, &format!("job {id} to be {state}"), || async {
        let job = job(app, id).await;
        (job["state"] == state).then_some(job)
    })
    .await
}

/// The texts the sandbox holds for `peer`, oldest first.
pub fn delivered(app: &TestApp, peer: &str) -> Vec<String> {
    let mut texts: Vec<String> = ground_truth(app, peer)
        .iter()
        .filter_map(|m| m["text"].as_str().map(str::to_owned))
        .collect();
    texts.reverse();
    texts
}

/// The delivered texts of `peer` that start with `prefix`, oldest first.
pub fn delivered_with(app: &TestApp, peer: &str, prefix: &str) -> Vec<String> {
    delivered(app, peer)
        .into_iter()
        .filter(|t| t.starts_with(prefix))
        .collect()
}

/// Makes the sandbox answer the next `times` sends with this error.
pub fn inject_send_error(app: &TestApp, code: i32, message: &str, times: u32) {
    app.sandbox
        .control()
        .inject_rpc_error("messages.sendMessage", code, message, times);
}
