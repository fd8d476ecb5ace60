//! `POST /v1/messages` against the sandbox: every peer form, formatting, options, and the
//! sandbox's ground truth.

use crate::common;
use crate::messages_support;

use common::AppOptions;
use messages_support::*;
use serde_json::json;

#[tokio::test]
async fn sending_to_a_username_stores_exactly_that_message() {
    let app = ready_app().await;
    let w = world(&app);
    let sent = send_text(&app, &w.other, "hello alice").await;

    assert_eq!(sent["text"], "hello alice");
    assert_eq!(sent["outgoing"], true);
    assert_eq!(sent["peer"]["type"], "user");
    assert!(sent["peer"]["id"].as_i64().unwrap() > 0);
    chrono::DateTime::parse_from_rfc3339(sent["date"].as_str().unwrap()).expect("RFC 3339 date");
    assert!(sent.get("edit_date").is_none());

    let truth = ground_truth(&app, &w.other);
    assert_eq!(truth[0]["id"], sent["id"]);
    assert_eq!(truth[0]["text"], "hello alice");
    assert_eq!(truth[0]["peer"], sent["peer"]);
}

#[tokio::test]
async fn sending_to_a_t_me_link_posts_in_the_channel() {
    let app = ready_app().await;
    let w = world(&app);
    let link = format!("https://t.me/{}", w.channel.trim_start_matches('@'));
    let before = ground_truth(&app, &w.channel).len();
    let sent = send_text(&app, &link, "via link").await;

    assert_eq!(sent["peer"]["type"], "channel");
    let id = sent["peer"]["id"].as_i64().unwrap();
    assert!(id.to_string().starts_with("-100"), "{id}");
    let truth = ground_truth(&app, &w.channel);
    assert_eq!(truth.len(), before + 1);
    assert_eq!(truth[0]["id"], sent["id"]);
    assert_eq!(truth[0]["text"], "via link");
}

#[tokio::test]
async fn sending_to_a_bot_api_channel_id_posts_in_that_channel() {
    let app = ready_app().await;
    let w = world(&app);
    let channel = get(&app, &format!("/v1/peers/{}", w.channel)).await;
    let id = channel.body["id"].as_i64().unwrap();

    let sent = send_text(&app, &id.to_string(), "by id").await;
    assert_eq!(sent["peer"]["id"], id);
    assert_eq!(ground_truth(&app, &id.to_string())[0]["text"], "by id");
}

#[tokio::test]
async fn sending_to_me_lands_in_saved_messages() {
    let app = ready_app().await;
    let w = world(&app);
    let sent = send_text(&app, "me", "note to self").await;
    let me = get(&app, "/v1/peers/me").await;
    assert_eq!(sent["peer"]["id"], me.body["id"]);
    assert_eq!(ground_truth(&app, &w.me)[0]["text"], "note to self");
}

#[tokio::test]
async fn markdown_becomes_plain_text_with_entities() {
    let app = ready_app().await;
    let w = world(&app);
    let answer = send(
        &app,
        json!({"peer": w.channel, "text": "**bold** and [link](https://example.com)", "parse_mode": "markdown"}),
    )
    .await;
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    assert_eq!(answer.body["text"], "bold and link");

    let stored = &ground_truth(&app, &w.channel)[0];
    assert_eq!(stored["text"], "bold and link");
    assert_eq!(
        stored["entities"],
        json!([
            {"type": "bold", "offset": 0, "length": 4},
            {"type": "text_url", "offset": 9, "length": 4, "url": "https://example.com"}
        ])
    );
}

#[tokio::test]
async fn html_becomes_plain_text_with_entities_at_utf16_offsets() {
    let app = ready_app().await;
    let w = world(&app);
    let answer = send(
        &app,
        json!({"peer": w.other, "text": "😀 <i>it</i> <code>x</code>", "parse_mode": "html"}),
    )
    .await;
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    let stored = &ground_truth(&app, &w.other)[0];
    assert_eq!(stored["text"], "😀 it x");
    assert_eq!(
        stored["entities"],
        json!([
            {"type": "italic", "offset": 3, "length": 2},
            {"type": "code", "offset": 6, "length": 1}
        ])
    );
}

#[tokio::test]
async fn plain_text_is_stored_as_written() {
    let app = ready_app().await;
    let w = world(&app);
    send_text(&app, &w.other, "**not bold** <b>nor this</b>").await;
    let stored = &ground_truth(&app, &w.other)[0];
    assert_eq!(stored["text"], "**not bold** <b>nor this</b>");
    assert_eq!(stored["entities"], json!([]));
}

#[tokio::test]
async fn the_default_peer_is_used_when_a_request_names_none() {
    let probe = ready_app().await;
    let channel = world(&probe).channel;
    drop(probe);
    let app = ready_app_with(AppOptions::default().var("MTGATE_DEFAULT_PEER", &channel)).await;

    let sent = send(&app, json!({"text": "to the default"})).await;
    assert_eq!(sent.status, 201, "{:?}", sent.body);
    assert_eq!(sent.body["peer"]["type"], "channel");
    assert_eq!(ground_truth(&app, &channel)[0]["text"], "to the default");
}

#[tokio::test]
async fn a_reply_is_sent_as_a_reply() {
    let app = ready_app().await;
    let w = world(&app);
    let first = send_text(&app, &w.channel, "question").await;
    let answer = send(
        &app,
        json!({"peer": w.channel, "text": "answer", "reply_to": first["id"], "silent": true, "link_preview": false}),
    )
    .await;
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    let stored = &ground_truth(&app, &w.channel)[0];
    assert_eq!(stored["text"], "answer");
    assert_eq!(stored["reply_to"], first["id"]);
    assert_eq!(stored["silent"], true);
    assert_eq!(stored["link_preview"], false);
    let plain = &ground_truth(&app, &w.channel)[1];
    assert_eq!(plain["silent"], false);
    assert_eq!(plain["link_preview"], true);
}

#[tokio::test]
async fn a_username_is_resolved_once_then_served_from_the_cache() {
    let app = ready_app().await;
    let w = world(&app);
    for text in ["one", "two", "three"] {
        send_text(&app, &w.other, text).await;
    }
    assert_eq!(count_calls(&app, "contacts.resolveUsername"), 1);
    assert_eq!(count_calls(&app, "messages.sendMessage"), 3);
}
