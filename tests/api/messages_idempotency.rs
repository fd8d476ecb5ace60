//! `Idempotency-Key`: a retried send returns the first answer and never posts twice — also
//! when the caller hangs up mid-request or the Telegram connection drops.

use crate::common;
use crate::messages_support;

use std::time::Duration;

use common::{AppOptions, DEADLINE, eventually};
use messages_support::*;
use serde_json::{Value, json};

/// How many messages in `peer` carry `text`, per the sandbox.
fn stored_with_text(app: &common::TestApp, peer: &str, text: &str) -> Vec<Value> {
    ground_truth(app, peer)
        .into_iter()
        .filter(|m| m["text"] == text)
        .collect()
}

#[tokio::test]
async fn the_same_key_three_times_sends_once_and_answers_the_same() {
    let app = ready_app().await;
    let w = world(&app);
    let body = json!({"peer": w.channel, "text": "exactly once"});
    let mut answers = Vec::new();
    for _ in 0..3 {
        answers.push(send_with_key(&app, "key-3x", &body).await);
    }
    for answer in &answers {
        assert_eq!(answer.status, 201, "{:?}", answer.body);
        assert_eq!(answer.body, answers[0].body);
    }
    assert!(answers[0].headers.get("idempotent-replayed").is_none());
    assert_eq!(answers[1].headers["idempotent-replayed"], "true");
    assert_eq!(answers[2].headers["idempotent-replayed"], "true");
    assert_eq!(stored_with_text(&app, &w.channel, "exactly once").len(), 1);
    assert_eq!(count_calls(&app, "messages.sendMessage"), 1);
}

#[tokio::test]
async fn concurrent_duplicates_wait_for_the_first_and_send_once() {
    let app = ready_app().await;
    let w = world(&app);
    // Slow replies make the three requests overlap.
    app.sandbox.control().set_delay(Duration::from_millis(300));
    let body = json!({"peer": w.other, "text": "concurrent"});
    let (a, b, c) = tokio::join!(
        send_with_key(&app, "key-concurrent", &body),
        send_with_key(&app, "key-concurrent", &body),
        send_with_key(&app, "key-concurrent", &body),
    );
    app.sandbox.control().set_delay(Duration::ZERO);
    for answer in [&a, &b, &c] {
        assert_eq!(answer.status, 201, "{:?}", answer.body);
        assert_eq!(answer.body, a.body);
    }
    assert_eq!(stored_with_text(&app, &w.other, "concurrent").len(), 1);
    assert_eq!(count_calls(&app, "messages.sendMessage"), 1);
}

#[tokio::test]
async fn a_caller_hanging_up_mid_send_then_retrying_gets_the_one_message() {
    let app = ready_app().await;
    let w = world(&app);
    app.sandbox.control().set_delay(Duration::from_millis(500));
    let body = json!({"peer": w.channel, "text": "hung up"});
    // The first attempt gives up long before the sandbox answers: the connection is dropped.
    let first = app
        .post("/v1/messages")
        .header("Idempotency-Key", "key-hangup")
        .json(&body)
        .timeout(Duration::from_millis(100))
        .send()
        .await;
    assert!(first.is_err(), "the first attempt should have been cut off");

    let second = send_with_key(&app, "key-hangup", &body).await;
    let third = send_with_key(&app, "key-hangup", &body).await;
    app.sandbox.control().set_delay(Duration::ZERO);
    assert_eq!(second.status, 201, "{:?}", second.body);
    assert_eq!(third.body, second.body);
    let stored = stored_with_text(&app, &w.channel, "hung up");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["id"], second.body["id"]);
}

#[tokio::test]
async fn a_telegram_connection_dropped_during_the_first_send_still_leaves_one_message() {
    let app = ready_app().await;
    let w = world(&app);
    let control = app.sandbox.control().clone();
    // The sandbox stores the message, then holds its reply; the connection dies meanwhile.
    control.set_delay(Duration::from_millis(400));
    let body = json!({"peer": w.channel, "text": "through a drop"});
    let first = {
        let request = app
            .post("/v1/messages")
            .header("Idempotency-Key", "key-drop")
            .json(&body);
        tokio::spawn(async move { Answer::of(request.send().await.unwrap()).await })
    };
    eventually(DEADLINE, "the sandbox to store the first send", || async {
        (!stored_with_text(&app, &w.channel, "through a drop").is_empty()).then_some(())
    })
    .await;
    control.drop_connections();
    control.set_delay(Duration::ZERO);
    let first = first.await.unwrap();
    // Either the client's own retry got the (deduplicated) answer, or the call failed as
    // unavailable; a failure is not remembered, so the retries below re-send the same
    // random_id and get the stored message back.
    assert!(
        first.status == 201 || first.status == 503,
        "{} {:?}",
        first.status,
        first.body
    );
    eprintln!("first attempt across the drop: {}", first.status);
    app.wait_until_healthy().await;
    let second = send_with_key(&app, "key-drop", &body).await;
    let third = send_with_key(&app, "key-drop", &body).await;
    assert_eq!(second.status, 201, "{:?}", second.body);
    assert_eq!(third.body, second.body);
    let stored = stored_with_text(&app, &w.channel, "through a drop");
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(stored[0]["id"], second.body["id"]);
    if first.status == 201 {
        assert_eq!(first.body, second.body);
    }
}

#[tokio::test]
async fn the_same_key_with_another_body_is_409_and_sends_nothing() {
    let app = ready_app().await;
    let w = world(&app);
    let first = send_with_key(&app, "key-reuse", &json!({"peer": w.other, "text": "one"})).await;
    assert_eq!(first.status, 201);
    let other = send_with_key(&app, "key-reuse", &json!({"peer": w.other, "text": "two"})).await;
    other.assert_error(409, "IDEMPOTENCY_KEY_REUSED");
    assert!(stored_with_text(&app, &w.other, "two").is_empty());
    assert_eq!(count_calls(&app, "messages.sendMessage"), 1);
}

#[tokio::test]
async fn the_same_request_written_differently_is_still_the_same_request() {
    let app = ready_app().await;
    let w = world(&app);
    let a = app
        .post("/v1/messages")
        .header("Idempotency-Key", "key-order")
        .header("content-type", "application/json")
        .body(format!(r#"{{"peer":"{}","text":"ordered"}}"#, w.other))
        .send()
        .await
        .unwrap();
    let b = app
        .post("/v1/messages")
        .header("Idempotency-Key", "key-order")
        .header("content-type", "application/json")
        .body(format!(
            r#"{{ "text" : "ordered", "peer" : "{}" }}"#,
            w.other
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), 201);
    assert_eq!(b.status(), 201);
    assert_eq!(b.headers()["idempotent-replayed"], "true");
    assert_eq!(stored_with_text(&app, &w.other, "ordered").len(), 1);
}

#[tokio::test]
async fn a_flood_wait_answer_is_not_remembered_so_a_retry_really_sends() {
    // A 1 s wait handed back (nothing slept): the retry inside it is refused by the flood
    // memory, the first one after it sends. Neither replays the stored 429.
    let app = ready_app_with(AppOptions::default().var("MTGATE_FLOOD_SLEEP_MAX", "0")).await;
    let w = world(&app);
    app.sandbox
        .control()
        .inject_rpc_error("messages.sendMessage", 420, "FLOOD_WAIT_1", 1);
    let body = json!({"peer": w.channel, "text": "after the wait"});
    send_with_key(&app, "key-flood", &body)
        .await
        .assert_error(429, "FLOOD_WAIT");
    let retry = eventually(DEADLINE, "a retry after the wait to send", || async {
        let retry = send_with_key(&app, "key-flood", &body).await;
        (retry.status != 429).then_some(retry)
    })
    .await;
    assert_eq!(retry.status, 201, "{:?}", retry.body);
    assert_eq!(
        stored_with_text(&app, &w.channel, "after the wait").len(),
        1
    );
}

#[tokio::test]
async fn an_idempotent_delete_replays_its_204() {
    let app = ready_app().await;
    let w = world(&app);
    let sent = send_text(&app, &w.channel, "delete me once").await;
    let path = format!("/v1/messages/{}/{}", w.channel, sent["id"]);
    for _ in 0..2 {
        let response = app
            .delete(&path)
            .header("Idempotency-Key", "key-delete")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
    }
    assert_eq!(count_calls(&app, "channels.deleteMessages"), 1);
}

#[tokio::test]
async fn a_malformed_key_is_rejected() {
    let app = ready_app().await;
    let w = world(&app);
    let long = "k".repeat(300);
    for key in ["", "has space", long.as_str()] {
        send_with_key(&app, key, &json!({"peer": w.other, "text": "x"}))
            .await
            .assert_error(400, "INVALID_REQUEST");
    }
    assert_eq!(count_calls(&app, "messages.sendMessage"), 0);
}

#[tokio::test]
async fn a_send_that_reached_telegram_but_failed_is_not_posted_again_by_the_retry() {
    // The first attempt is stored by the sandbox, then the sandbox goes down before replying:
    // the caller gets 503, which is not remembered. The retry runs again, and only the
    // random_id derived from the key keeps Telegram from storing a second message.
    let app = ready_app().await;
    let w = world(&app);
    let control = app.sandbox.control().clone();
    control.set_delay(Duration::from_millis(400));
    let body = json!({"peer": w.channel, "text": "reached but failed"});
    let first = {
        let request = app
            .post("/v1/messages")
            .header("Idempotency-Key", "key-down")
            .json(&body);
        tokio::spawn(async move { Answer::of(request.send().await.unwrap()).await })
    };
    eventually(DEADLINE, "the sandbox to store the first send", || async {
        (!stored_with_text(&app, &w.channel, "reached but failed").is_empty()).then_some(())
    })
    .await;
    control.set_down(true).await.unwrap();
    let first = first.await.unwrap();
    first.assert_error(503, "TELEGRAM_UNAVAILABLE");

    control.set_delay(Duration::ZERO);
    control.set_down(false).await.unwrap();
    app.wait_until_healthy().await;
    let retry = send_with_key(&app, "key-down", &body).await;
    assert_eq!(retry.status, 201, "{:?}", retry.body);
    assert!(retry.headers.get("idempotent-replayed").is_none());
    let stored = stored_with_text(&app, &w.channel, "reached but failed");
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(stored[0]["id"], retry.body["id"]);
    // Both attempts reached the sandbox's sendMessage handler.
    let sends = requests(&app)
        .into_iter()
        .filter(|r| r["method"] == "messages.sendMessage" && r["text"] == "reached but failed")
        .count();
    assert!(sends >= 2, "the retry must have re-sent: {sends}");
}

#[tokio::test]
async fn the_same_idempotency_key_from_two_api_keys_is_two_requests() {
    let keys = ["first-caller-key", "second-caller-key"];
    let app =
        ready_app_with(common::AppOptions::default().var("MTGATE_API_KEYS", keys.join(","))).await;
    let w = world(&app);
    let body = json!({"peer": w.channel, "text": "one per caller"});
    let send_as = |api_key: &'static str| {
        let request = app
            .client
            .post(app.url("/v1/messages"))
            .bearer_auth(api_key)
            .header("Idempotency-Key", "shared-key")
            .json(&body);
        async move { Answer::of(request.send().await.expect("POST")).await }
    };
    let first = send_as(keys[0]).await;
    let second = send_as(keys[1]).await;
    let first_again = send_as(keys[0]).await;
    for answer in [&first, &second, &first_again] {
        assert_eq!(answer.status, 201, "{:?}", answer.body);
    }
    assert!(second.headers.get("idempotent-replayed").is_none());
    assert_ne!(first.body["id"], second.body["id"]);
    assert_eq!(first_again.headers["idempotent-replayed"], "true");
    assert_eq!(first_again.body, first.body);
    assert_eq!(
        stored_with_text(&app, &w.channel, "one per caller").len(),
        2
    );
}
