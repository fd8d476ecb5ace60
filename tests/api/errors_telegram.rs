//! Every error code of CONTRACT.md, each produced by a real cause against the sandbox.

use crate::common;
use crate::messages_support;

use std::time::Duration;

use common::{AppOptions, test_manager_options};
use messages_support::*;
use serde_json::json;

#[tokio::test]
async fn no_api_key_is_401_unauthorized() {
    let app = ready_app().await;
    let response = app
        .client
        .post(app.url("/v1/messages"))
        .json(&json!({"peer": "me", "text": "x"}))
        .send()
        .await
        .unwrap();
    Answer::of(response).await.assert_error(401, "UNAUTHORIZED");
    assert_eq!(count_calls(&app, "messages.sendMessage"), 0);
}

#[tokio::test]
async fn an_unknown_username_is_404_peer_not_found() {
    let app = ready_app().await;
    let answer = send(&app, json!({"peer": "@no_such_user_here", "text": "x"})).await;
    answer.assert_error(404, "PEER_NOT_FOUND");
    assert_eq!(answer.body["error"]["telegram"], "USERNAME_NOT_OCCUPIED");
}

#[tokio::test]
async fn editing_a_deleted_message_is_404_message_not_found() {
    let app = ready_app().await;
    let w = world(&app);
    let sent = send_text(&app, &w.channel, "soon gone").await;
    let path = format!("/v1/messages/{}/{}", w.channel, sent["id"]);
    assert_eq!(delete(&app, &path).await.status, 204);
    patch(&app, &path, json!({"text": "edit"}))
        .await
        .assert_error(404, "MESSAGE_NOT_FOUND");
}

#[tokio::test]
async fn an_edit_to_the_same_text_is_409_message_not_modified() {
    let app = ready_app().await;
    let w = world(&app);
    let sent = send_text(&app, &w.other, "unchanged").await;
    let path = format!("/v1/messages/{}/{}", w.other, sent["id"]);
    patch(&app, &path, json!({"text": "unchanged"}))
        .await
        .assert_error(409, "MESSAGE_NOT_MODIFIED");
}

#[tokio::test]
async fn a_5000_character_text_is_400_message_too_long_before_any_call() {
    let app = ready_app().await;
    let w = world(&app);
    let answer = send(&app, json!({"peer": w.channel, "text": "a".repeat(5000)})).await;
    answer.assert_error(400, "MESSAGE_TOO_LONG");
    // Telegram counts UTF-16 units: 2,100 emoji are 4,200 units though 2,100 characters.
    let emoji = send(&app, json!({"peer": w.channel, "text": "😀".repeat(2100)})).await;
    emoji.assert_error(400, "MESSAGE_TOO_LONG");
    // Markup does not count: 4,096 letters in bold fit.
    let bold = format!("<b>{}</b>", "b".repeat(4096));
    let fits = send(
        &app,
        json!({"peer": w.channel, "text": bold, "parse_mode": "html"}),
    )
    .await;
    assert_eq!(fits.status, 201, "{:?}", fits.body);
    assert_eq!(count_calls(&app, "messages.sendMessage"), 1);
}

#[tokio::test]
async fn posting_in_a_read_only_channel_is_403_forbidden() {
    let app = ready_app().await;
    let w = world(&app);
    let before = ground_truth(&app, &w.readonly_channel).len();
    let answer = send(&app, json!({"peer": w.readonly_channel, "text": "x"})).await;
    answer.assert_error(403, "FORBIDDEN");
    assert_eq!(answer.body["error"]["telegram"], "CHAT_WRITE_FORBIDDEN");
    assert_eq!(ground_truth(&app, &w.readonly_channel).len(), before);
}

#[tokio::test]
async fn a_short_flood_wait_is_slept_through() {
    let app = ready_app().await;
    let w = world(&app);
    let seeded = ground_truth(&app, &w.channel).len();
    send_text(&app, &w.channel, "warm the cache").await;
    app.sandbox
        .control()
        .inject_rpc_error("messages.sendMessage", 420, "FLOOD_WAIT_2", 1);
    let answer = send(&app, json!({"peer": w.channel, "text": "after a nap"})).await;
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    let attempts: Vec<_> = requests(&app)
        .into_iter()
        .filter(|r| r["method"] == "messages.sendMessage")
        .skip(1)
        .collect();
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    assert_eq!(attempts[0]["error"], "FLOOD_WAIT_2");
    assert_eq!(attempts[1]["ok"], true);
    let stored = ground_truth(&app, &w.channel);
    assert_eq!(stored[0]["text"], "after a nap");
    assert_eq!(stored.len(), seeded + 2);
}

#[tokio::test]
async fn a_long_flood_wait_is_429_with_retry_after() {
    let app = ready_app().await;
    let w = world(&app);
    app.sandbox
        .control()
        .inject_rpc_error("messages.sendMessage", 420, "FLOOD_WAIT_300", 1);
    let before = ground_truth(&app, &w.channel);
    let answer = send(&app, json!({"peer": w.channel, "text": "too eager"})).await;
    answer.assert_error(429, "FLOOD_WAIT");
    assert_eq!(answer.headers["retry-after"], "300");
    assert_eq!(answer.body["error"]["retry_after"], 300);
    assert_eq!(answer.body["error"]["telegram"], "FLOOD_WAIT_300");
    assert_eq!(ground_truth(&app, &w.channel), before, "nothing was posted");
}

#[tokio::test]
async fn the_sandbox_down_is_503_telegram_unavailable() {
    let app = ready_app().await;
    let w = world(&app);
    app.set_sandbox_down(true).await;
    let answer = send(&app, json!({"peer": w.other, "text": "x"})).await;
    answer.assert_error(503, "TELEGRAM_UNAVAILABLE");
    app.set_sandbox_down(false).await;
    app.wait_until_healthy().await;
    let answer = send(&app, json!({"peer": w.other, "text": "back"})).await;
    assert_eq!(answer.status, 201, "{:?}", answer.body);
}

#[tokio::test]
async fn a_revoked_session_is_503_session_unauthorized() {
    let app = ready_app().await;
    let w = world(&app);
    app.sandbox.control().revoke_sessions();
    let answer = send(&app, json!({"peer": w.other, "text": "x"})).await;
    answer.assert_error(503, "SESSION_UNAUTHORIZED");
}

#[tokio::test]
async fn a_telegram_call_slower_than_the_deadline_is_504_timeout() {
    let options = AppOptions {
        manager: mtgate::telegram::ManagerOptions {
            call_timeout: Duration::from_millis(500),
            ..test_manager_options()
        },
        ..AppOptions::default()
    };
    let app = ready_app_with(options).await;
    let w = world(&app);
    send_text(&app, &w.channel, "warm the cache").await;
    app.sandbox.control().set_delay(Duration::from_secs(3));
    let answer = send(&app, json!({"peer": w.channel, "text": "slow"})).await;
    app.sandbox.control().set_delay(Duration::ZERO);
    answer.assert_error(504, "TIMEOUT");
}

#[tokio::test]
async fn an_unexpected_telegram_error_is_502_internal_with_its_name() {
    let app = ready_app().await;
    let w = world(&app);
    app.sandbox
        .control()
        .inject_rpc_error("messages.sendMessage", 500, "INTERNAL_SERVER_ERROR", 1);
    let answer = send(&app, json!({"peer": w.channel, "text": "x"})).await;
    answer.assert_error(502, "INTERNAL");
    assert_eq!(answer.body["error"]["telegram"], "INTERNAL_SERVER_ERROR");
}

#[tokio::test]
async fn editing_a_message_someone_else_wrote_is_403_forbidden() {
    // Messages the account did not write cannot be edited: Telegram says MESSAGE_AUTHOR_REQUIRED.
    let app = ready_app().await;
    let w = world(&app);
    let seeded = &ground_truth(&app, &w.readonly_channel)[0];
    let path = format!("/v1/messages/{}/{}", w.readonly_channel, seeded["id"]);
    let answer = patch(&app, &path, json!({"text": "not mine"})).await;
    answer.assert_error(403, "FORBIDDEN");
}
