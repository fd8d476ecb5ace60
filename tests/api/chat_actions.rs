//! The chat actions end to end: forward, pin / unpin, mark read, typing and the chat list,
//! each checked against the sandbox's ground truth (`fwd_from`, `pinned`, `read`, the
//! request log).

use crate::messages_support;

use messages_support::*;
use serde_json::{Value, json};

use crate::common::{DEADLINE, TestApp, eventually};

/// Delivers `text` from `from` (to the private chat, or to `peer`); returns its id.
fn incoming(app: &crate::common::TestApp, from: &str, peer: Option<&str>, text: &str) -> i32 {
    app.sandbox
        .control()
        .incoming(from, peer, text)
        .expect("the sandbox delivers")
        .id
}

async fn post_json(app: &crate::common::TestApp, path: &str, body: Value) -> Answer {
    Answer::of(app.post(path).json(&body).send().await.expect("POST")).await
}

async fn post_empty(app: &crate::common::TestApp, path: &str) -> Answer {
    Answer::of(app.post(path).send().await.expect("POST")).await
}

#[tokio::test]
async fn a_forward_posts_the_message_in_the_other_chat_naming_its_author() {
    let app = ready_app().await;
    let w = world(&app);
    let id = incoming(&app, &w.other, None, "worth sharing");
    let alice_id = ground_truth(&app, &w.other)[0]["from"].clone();

    let path = format!("/v1/messages/{}/{id}/forward", w.other);
    let answer = post_json(&app, &path, json!({"to": w.channel})).await;
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    assert_eq!(answer.body["text"], "worth sharing");
    assert_eq!(answer.body["peer"]["type"], "channel");
    let stored = &ground_truth(&app, &w.channel)[0];
    assert_eq!(stored["id"], answer.body["id"]);
    assert_eq!(stored["fwd_from"]["peer"], alice_id);

    let answer = post_json(
        &app,
        &path,
        json!({"to": w.supergroup, "drop_author": true, "silent": true}),
    )
    .await;
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    let stored = &ground_truth(&app, &w.supergroup)[0];
    assert_eq!(stored["text"], "worth sharing");
    assert!(stored.get("fwd_from").is_none(), "{stored:?}");
    assert_eq!(stored["silent"], true);
}

#[tokio::test]
async fn a_forward_with_an_idempotency_key_posts_once() {
    let app = ready_app().await;
    let w = world(&app);
    let sent = send_text(&app, &w.channel, "once").await;
    let path = format!("/v1/messages/{}/{}/forward", w.channel, sent["id"]);
    let mut ids = Vec::new();
    for _ in 0..2 {
        let answer = Answer::of(
            app.post(&path)
                .header("Idempotency-Key", "forward-once")
                .json(&json!({"to": w.supergroup}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(answer.status, 201, "{:?}", answer.body);
        ids.push(answer.body["id"].clone());
    }
    assert_eq!(ids[0], ids[1]);
    assert_eq!(count_calls(&app, "messages.forwardMessages"), 1);
}

#[tokio::test]
async fn forwarding_a_missing_message_is_404_and_into_a_read_only_channel_403() {
    let app = ready_app().await;
    let w = world(&app);
    let missing = post_json(
        &app,
        &format!("/v1/messages/{}/999999/forward", w.channel),
        json!({"to": w.supergroup}),
    )
    .await;
    missing.assert_error(404, "MESSAGE_NOT_FOUND");
    let sent = send_text(&app, &w.channel, "no entry").await;
    let refused = post_json(
        &app,
        &format!("/v1/messages/{}/{}/forward", w.channel, sent["id"]),
        json!({"to": w.readonly_channel}),
    )
    .await;
    refused.assert_error(403, "FORBIDDEN");
    let bad = post_json(
        &app,
        &format!("/v1/messages/{}/{}/forward", w.channel, sent["id"]),
        json!({"to": w.supergroup, "copy": true}),
    )
    .await;
    bad.assert_error(400, "INVALID_REQUEST");
}

#[tokio::test]
async fn pinning_and_unpinning_show_in_the_ground_truth() {
    let app = ready_app().await;
    let w = world(&app);
    let sent = send_text(&app, &w.supergroup, "rules").await;
    let path = format!("/v1/messages/{}/{}/pin", w.supergroup, sent["id"]);

    let pinned = post_empty(&app, &path).await;
    assert_eq!(pinned.status, 204, "{:?}", pinned.body);
    assert_eq!(ground_truth(&app, &w.supergroup)[0]["pinned"], true);

    let unpinned = delete(&app, &path).await;
    assert_eq!(unpinned.status, 204, "{:?}", unpinned.body);
    assert_eq!(ground_truth(&app, &w.supergroup)[0]["pinned"], false);

    let silent = post_json(&app, &path, json!({"silent": true})).await;
    assert_eq!(silent.status, 204, "{:?}", silent.body);
    assert_eq!(ground_truth(&app, &w.supergroup)[0]["pinned"], true);
    assert_eq!(count_calls(&app, "messages.updatePinnedMessage"), 3);
}

#[tokio::test]
async fn pinning_a_missing_message_is_404_and_in_a_read_only_channel_403() {
    let app = ready_app().await;
    let w = world(&app);
    post_empty(&app, &format!("/v1/messages/{}/999999/pin", w.channel))
        .await
        .assert_error(404, "MESSAGE_NOT_FOUND");
    let id = ground_truth(&app, &w.readonly_channel)[0]["id"].clone();
    post_empty(
        &app,
        &format!("/v1/messages/{}/{id}/pin", w.readonly_channel),
    )
    .await
    .assert_error(403, "FORBIDDEN");
    post_json(
        &app,
        &format!("/v1/messages/{}/{id}/pin", w.channel),
        json!({"loud": true}),
    )
    .await
    .assert_error(400, "INVALID_REQUEST");
}

#[tokio::test]
async fn reading_up_to_an_id_and_then_everything_marks_messages_read() {
    let app = ready_app().await;
    let w = world(&app);
    let first = incoming(&app, &w.other, None, "one");
    incoming(&app, &w.other, None, "two");
    let path = format!("/v1/chats/{}/read", w.other);

    let answer = post_json(&app, &path, json!({"max_id": first})).await;
    assert_eq!(answer.status, 204, "{:?}", answer.body);
    let truth = ground_truth(&app, &w.other);
    assert_eq!(
        (&truth[0]["read"], &truth[1]["read"]),
        (&json!(false), &json!(true))
    );

    let answer = post_empty(&app, &path).await;
    assert_eq!(answer.status, 204, "{:?}", answer.body);
    assert!(
        ground_truth(&app, &w.other)
            .iter()
            .all(|m| m["read"] == true)
    );

    incoming(&app, &w.other, Some(&w.supergroup), "group news");
    let group = post_empty(&app, &format!("/v1/chats/{}/read", w.supergroup)).await;
    assert_eq!(group.status, 204, "{:?}", group.body);
    assert_eq!(ground_truth(&app, &w.supergroup)[0]["read"], true);
    assert_eq!(count_calls(&app, "channels.readHistory"), 1);

    post_json(&app, &path, json!({"max_id": 0}))
        .await
        .assert_error(400, "INVALID_REQUEST");
}

#[tokio::test]
async fn typing_with_a_duration_is_sent_again_until_a_cancel_replaces_it() {
    let app = ready_app().await;
    let w = world(&app);
    let path = format!("/v1/chats/{}/typing", w.other);
    let kept = post_json(&app, &path, json!({"action": "typing", "duration": 60})).await;
    assert_eq!(kept.status, 204, "{:?}", kept.body);
    let typing_calls = |app: &TestApp| {
        requests(app)
            .into_iter()
            .filter(|r| r["method"] == "messages.setTyping")
            .map(|r| r["action"].clone())
            .collect::<Vec<Value>>()
    };
    // Telegram shows an action for ~5 s: mtgate repeats it (every 4 s) while the duration lasts.
    eventually(DEADLINE, "the typing action to be sent again", || async {
        (typing_calls(&app).len() >= 2).then_some(())
    })
    .await;
    let cancel = post_json(&app, &path, json!({"action": "cancel"})).await;
    assert_eq!(cancel.status, 204, "{:?}", cancel.body);
    let calls = typing_calls(&app);
    assert_eq!(calls.last(), Some(&json!("sendMessageCancelAction")));
    assert!(
        calls[..calls.len() - 1]
            .iter()
            .all(|a| a == "sendMessageTypingAction"),
        "{calls:?}"
    );

    for bad in [json!(0), json!(301), json!("5")] {
        post_json(&app, &path, json!({"duration": bad}))
            .await
            .assert_error(400, "INVALID_REQUEST");
    }
}

#[tokio::test]
async fn typing_reaches_telegram_with_the_chosen_action() {
    let app = ready_app().await;
    let w = world(&app);
    let path = format!("/v1/chats/{}/typing", w.other);
    assert_eq!(post_empty(&app, &path).await.status, 204);
    let photo = post_json(&app, &path, json!({"action": "upload_photo"})).await;
    assert_eq!(photo.status, 204, "{:?}", photo.body);
    let actions: Vec<Value> = requests(&app)
        .into_iter()
        .filter(|r| r["method"] == "messages.setTyping")
        .map(|r| r["action"].clone())
        .collect();
    assert_eq!(
        actions,
        vec![
            json!("sendMessageTypingAction"),
            json!("sendMessageUploadPhotoAction")
        ]
    );
    post_json(&app, &path, json!({"action": "dance"}))
        .await
        .assert_error(400, "INVALID_REQUEST");
    post_empty(&app, &format!("/v1/chats/{}/typing", w.readonly_channel))
        .await
        .assert_error(403, "FORBIDDEN");
}

#[tokio::test]
async fn the_chat_list_shows_unread_counts_and_pages_through_every_chat_once() {
    let app = ready_app().await;
    let w = world(&app);
    incoming(&app, &w.other, None, "ping");
    incoming(&app, &w.other, None, "ping again");

    let first = get(&app, "/v1/chats").await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let top = &first.body["chats"][0];
    assert_eq!(top["peer"]["username"], w.other.trim_start_matches('@'));
    assert_eq!(top["peer"]["type"], "user");
    assert_eq!(top["unread_count"], 2);
    assert_eq!(top["last_message"]["text"], "ping again");
    let all = first.body["chats"].as_array().unwrap().len();
    assert!(first.body["next_cursor"].is_null());

    let mut seen = Vec::new();
    let mut path = "/v1/chats?limit=2".to_string();
    loop {
        let page = get(&app, &path).await;
        assert_eq!(page.status, 200, "{:?}", page.body);
        for chat in page.body["chats"].as_array().unwrap() {
            seen.push(chat["peer"]["id"].clone());
        }
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/chats?limit=2&cursor={cursor}"),
            None => break,
        }
        assert!(seen.len() <= all, "paging never repeats");
    }
    assert_eq!(seen.len(), all);

    get(&app, "/v1/chats?cursor=nonsense")
        .await
        .assert_error(400, "INVALID_REQUEST");
    get(&app, "/v1/chats?limit=0")
        .await
        .assert_error(400, "INVALID_REQUEST");
}
