//! Bad input is always 400 INVALID_REQUEST with a message naming the problem: never a 500,
//! never a crash, never a Telegram call.

use crate::common;
use crate::messages_support;

use messages_support::*;
use reqwest::Method;
use serde_json::json;

/// Sends `body` as-is with a JSON content type.
async fn raw(app: &common::TestApp, method: Method, path: &str, body: &str) -> Answer {
    let response = app
        .request(method, path)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("request");
    Answer::of(response).await
}

#[track_caller]
fn assert_names(answer: &Answer, words: &str) {
    answer.assert_error(400, "INVALID_REQUEST");
    let message = answer.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(words),
        "{message:?} should mention {words:?}"
    );
}

#[tokio::test]
async fn malformed_json_wrong_types_and_unknown_fields_are_named() {
    let app = ready_app().await;
    let cases = [
        ("{", "not valid JSON"),
        ("{\"text\": \"x\",}", "not valid JSON"),
        ("", "empty"),
        ("[]", "JSON object"),
        ("\"text\"", "JSON object"),
        ("{}", "missing field `text`"),
        ("{\"text\": 5}", "`text`"),
        ("{\"text\": \"x\", \"reply_to\": \"five\"}", "`reply_to`"),
        ("{\"text\": \"x\", \"silent\": \"yes\"}", "`silent`"),
        (
            "{\"text\": \"x\", \"parse_mode\": \"MarkdownV2\"}",
            "`parse_mode`",
        ),
        ("{\"text\": \"x\", \"peer\": 5}", "`peer`"),
        (
            "{\"text\": \"x\", \"colour\": \"red\"}",
            "unknown field `colour`",
        ),
        ("{\"text\": \"x\", \"reply_to\": 99999999999}", "`reply_to`"),
        (
            "{\"text\": \"x\", \"reply_to\": -3, \"peer\": \"me\"}",
            "reply_to",
        ),
        ("{\"text\": \"\", \"peer\": \"me\"}", "empty"),
        (
            "{\"text\": \"<b></b>\", \"parse_mode\": \"html\", \"peer\": \"me\"}",
            "empty",
        ),
        (
            "{\"text\": \"[x](tg://user?id=abc)\", \"parse_mode\": \"markdown\", \"peer\": \"me\"}",
            "markdown",
        ),
    ];
    for (body, words) in cases {
        let answer = raw(&app, Method::POST, "/v1/messages", body).await;
        assert_names(&answer, words);
    }
    assert_eq!(count_calls(&app, "messages.sendMessage"), 0);
}

#[tokio::test]
async fn a_missing_or_wrong_content_type_is_named() {
    let app = ready_app().await;
    let missing = app
        .post("/v1/messages")
        .body(r#"{"peer":"me","text":"x"}"#)
        .send()
        .await
        .unwrap();
    assert_names(&Answer::of(missing).await, "Content-Type");
    let wrong = app
        .post("/v1/messages")
        .header("content-type", "text/plain")
        .body(r#"{"peer":"me","text":"x"}"#)
        .send()
        .await
        .unwrap();
    assert_names(&Answer::of(wrong).await, "text/plain");
}

#[tokio::test]
async fn a_huge_body_is_400_not_413_or_500() {
    let app = ready_app().await;
    let huge = format!(
        r#"{{"peer":"me","text":"{}"}}"#,
        "a".repeat(2 * 1024 * 1024)
    );
    let answer = raw(&app, Method::POST, "/v1/messages", &huge).await;
    assert_names(&answer, "larger than");
    // Streamed (chunked, no Content-Length), too: the size is checked while reading.
    let (status, body) = chunked_post(&app, "/v1/messages", 200, 1024).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("larger than"), "{body}");
}

/// POSTs `chunks` chunks of `size` spaces with `Transfer-Encoding: chunked` over a raw
/// connection; returns the status and body.
async fn chunked_post(
    app: &common::TestApp,
    path: &str,
    chunks: usize,
    size: usize,
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(app.address).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        app.address, app.api_key
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = format!("{size:x}\r\n{}\r\n", " ".repeat(size));
    for _ in 0..chunks {
        // The server may answer and close before everything is written.
        if stream.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, answer)
}

#[tokio::test]
async fn bad_message_ids_and_id_lists_are_named() {
    let app = ready_app().await;
    let w = world(&app);
    for id in ["abc", "0", "-5", "99999999999", "1.5"] {
        let path = format!("/v1/messages/{}/{id}", w.channel);
        assert_names(
            &patch(&app, &path, json!({"text": "x"})).await,
            "message id",
        );
        assert_names(&delete(&app, &path).await, "message id");
    }
    let too_many: Vec<i32> = (1..=101).collect();
    for (body, words) in [
        (json!({"peer": w.channel, "ids": []}), "`ids`"),
        (json!({"peer": w.channel, "ids": too_many}), "`ids`"),
        (json!({"peer": w.channel, "ids": [1, -2]}), "`ids`"),
        (json!({"peer": w.channel, "ids": "1,2"}), "`ids`"),
        (json!({"peer": w.channel}), "missing field `ids`"),
        (
            json!({"peer": w.channel, "ids": [1], "revoke": "yes"}),
            "`revoke`",
        ),
    ] {
        assert_names(&delete_many(&app, body).await, words);
    }
    assert_eq!(count_calls(&app, "channels.deleteMessages"), 0);
}

#[tokio::test]
async fn an_edit_body_rejects_fields_a_send_has() {
    let app = ready_app().await;
    let w = world(&app);
    let path = format!("/v1/messages/{}/1", w.channel);
    assert_names(
        &patch(&app, &path, json!({"text": "x", "peer": "me"})).await,
        "unknown field `peer`",
    );
    let long = patch(&app, &path, json!({"text": "x".repeat(5000)})).await;
    long.assert_error(400, "MESSAGE_TOO_LONG");
    assert_eq!(count_calls(&app, "messages.editMessage"), 0);
}

#[tokio::test]
async fn no_peer_and_no_default_peer_is_named() {
    let app = ready_app().await;
    let answer = send(&app, json!({"text": "to nowhere"})).await;
    assert_names(&answer, "MTGATE_DEFAULT_PEER");
}
