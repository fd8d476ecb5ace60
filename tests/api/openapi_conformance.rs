//! What the OpenAPI document promises, observed on the running server: requests the document
//! allows are not refused as bad input (files before the `json` part, a deadline already
//! passed, whole-number floats as ids), configuration and upstream refusals get their own
//! statuses, and the event stream's cursors are checked as documented.

use std::time::Duration;

use serde_json::json;

use crate::common::spawn_app;
use crate::media_support::{BOUNDARY, content_type, noise, sha256_hex};
use crate::messages_support::{Answer, count_calls, ground_truth, ready_app, world};
use crate::outbox_support::{enqueue, outbox_app, wait_for_state};

/// A multipart body with one `file` part *before* the `json` part.
fn file_first(json: &serde_json::Value, bytes: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"early.bin\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(
        format!(
            "\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"json\"\r\n\
             Content-Type: application/json\r\n\r\n{json}\r\n--{BOUNDARY}--\r\n"
        )
        .as_bytes(),
    );
    body
}

async fn post_form(app: &crate::common::TestApp, body: Vec<u8>) -> Answer {
    let request = app
        .post("/v1/messages")
        .header("content-type", content_type())
        .body(body);
    Answer::of(request.send().await.expect("POST multipart")).await
}

#[tokio::test]
async fn a_small_file_part_before_the_json_part_is_sent_byte_identical() {
    let app = ready_app().await;
    let me = world(&app).me;
    let bytes = noise(40 * 1024, 3);
    let json = json!({"peer": me, "text": "early", "media": {"kind": "document"}});
    let answer = post_form(&app, file_first(&json, &bytes)).await;
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    assert_eq!(answer.body["media"]["file_name"], "early.bin");
    let truth = ground_truth(&app, &me);
    assert_eq!(truth[0]["text"], "early");
    assert_eq!(truth[0]["media"]["sha256"], sha256_hex(&bytes));
}

#[tokio::test]
async fn files_over_a_mebibyte_before_the_json_part_are_refused_and_nothing_is_sent() {
    let app = ready_app().await;
    let me = world(&app).me;
    let json = json!({"peer": me, "media": {"kind": "document"}});
    let answer = post_form(&app, file_first(&json, &noise(1024 * 1024 + 1, 4))).await;
    answer.assert_error(400, "INVALID_REQUEST");
    let message = answer.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("`json` part first"), "{message}");
    assert_eq!(count_calls(&app, "upload.saveFilePart"), 0);
    assert_eq!(count_calls(&app, "messages.sendMedia"), 0);
}

#[tokio::test]
async fn a_deadline_already_passed_is_accepted_and_the_job_goes_dead_unsent() {
    let app = outbox_app().await;
    let me = world(&app).me;
    let body = json!({"peer": me, "text": "too late", "deadline": "2020-01-01T00:00:00Z"});
    let answer = enqueue(&app, body).await;
    assert_eq!(answer.status, 202, "{:?}", answer.body);
    let id = answer.body["job"]["id"].as_str().unwrap();
    let job = wait_for_state(&app, id, "dead", Duration::from_secs(10)).await;
    assert_eq!(job["error"]["code"], "DEADLINE_EXCEEDED");
    assert_eq!(count_calls(&app, "messages.sendMessage"), 0);
}

#[tokio::test]
async fn event_cursors_are_checked_as_the_document_states() {
    let app = spawn_app().await;
    let ahead = app
        .get("/v1/events")
        .header("Last-Event-ID", "999999")
        .send()
        .await
        .unwrap();
    let ahead = Answer::of(ahead).await;
    ahead.assert_error(404, "EVENT_NOT_FOUND");
    // The header wins, but a negative query cursor beside it is still refused.
    let negative = app
        .get("/v1/events?last_event_id=-1")
        .header("Last-Event-ID", "0")
        .send()
        .await
        .unwrap();
    Answer::of(negative)
        .await
        .assert_error(400, "INVALID_REQUEST");
}

#[tokio::test]
async fn redelivery_takes_event_ids_written_as_whole_floats_and_refuses_fractions() {
    let app = spawn_app().await;
    let created =
        crate::events_support::subscribe(&app, json!({"url": "http://127.0.0.1:9/hook"})).await;
    let path = format!("/v1/webhooks/{}/redeliver", created["id"].as_str().unwrap());
    let whole = app
        .post(&path)
        .json(&json!({"event_ids": [1.0, 2]}))
        .send()
        .await
        .unwrap();
    let whole = Answer::of(whole).await;
    assert_eq!(whole.status, 202, "{:?}", whole.body);
    let fraction = app
        .post(&path)
        .json(&json!({"event_ids": [1.5]}))
        .send()
        .await
        .unwrap();
    Answer::of(fraction)
        .await
        .assert_error(400, "INVALID_REQUEST");
}
