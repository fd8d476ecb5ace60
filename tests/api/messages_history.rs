//! `GET /v1/messages/{peer}`: newest first, paged with `before_id` / `next_before_id`.

use crate::messages_support;

use messages_support::*;
use serde_json::Value;

#[tokio::test]
async fn paging_through_250_messages_returns_each_once_newest_first() {
    let app = ready_app().await;
    let w = world(&app);
    // The channel starts with a few seeded posts; they page like any other message.
    let seeded = ground_truth(&app, &w.channel).len();
    assert!((1..50).contains(&seeded), "{seeded} seeded posts");
    for i in 0..250 {
        send_text(&app, &w.channel, &format!("message {i}")).await;
    }
    let truth: Vec<Value> = ground_truth(&app, &w.channel)
        .iter()
        .map(|m| m["id"].clone())
        .collect();
    assert_eq!(truth.len(), 250 + seeded);

    let mut seen = Vec::new();
    let mut pages = Vec::new();
    let mut path = format!("/v1/messages/{}?limit=100", w.channel);
    loop {
        let page = get(&app, &path).await;
        assert_eq!(page.status, 200, "{:?}", page.body);
        let messages = page.body["messages"].as_array().unwrap().clone();
        pages.push(messages.len());
        seen.extend(messages.iter().map(|m| m["id"].clone()));
        match page.body["next_before_id"].as_i64() {
            Some(next) => {
                assert_eq!(Some(next), messages.last().and_then(|m| m["id"].as_i64()));
                path = format!("/v1/messages/{}?limit=100&before_id={next}", w.channel);
            }
            None => {
                assert!(page.body["next_before_id"].is_null());
                break;
            }
        }
        assert!(pages.len() <= 4, "paging does not end: {pages:?}");
    }
    assert_eq!(seen, truth, "every message once, newest first");
    assert_eq!(pages[..3], [100, 100, 50 + seeded]);
}

#[tokio::test]
async fn history_messages_have_the_contract_shape() {
    let app = ready_app().await;
    let w = world(&app);
    let sent = send_text(&app, &w.other, "latest").await;
    let page = get(&app, &format!("/v1/messages/{}?limit=1", w.other)).await;
    assert_eq!(page.status, 200, "{:?}", page.body);
    let messages = page.body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0], sent);
    // The seeded chat has older messages, so there is a next page.
    assert_eq!(page.body["next_before_id"], sent["id"]);
}

#[tokio::test]
async fn the_default_page_is_twenty_messages() {
    let app = ready_app().await;
    let w = world(&app);
    for i in 0..25 {
        send_text(&app, &w.channel, &format!("m{i}")).await;
    }
    let page = get(&app, &format!("/v1/messages/{}", w.channel)).await;
    assert_eq!(page.body["messages"].as_array().unwrap().len(), 20);
}

#[tokio::test]
async fn incoming_messages_show_as_not_outgoing() {
    let app = ready_app().await;
    let w = world(&app);
    // The seeded private chat starts with a message from the other user.
    let page = get(&app, &format!("/v1/messages/{}?limit=100", w.other)).await;
    let messages = page.body["messages"].as_array().unwrap();
    let truth = ground_truth(&app, &w.other);
    assert_eq!(messages.len(), truth.len());
    for (got, want) in messages.iter().zip(&truth) {
        assert_eq!(got["id"], want["id"]);
        assert_eq!(got["text"], want["text"]);
        assert_eq!(got["outgoing"], want["outgoing"]);
    }
    assert!(messages.iter().any(|m| m["outgoing"] == false));
}

#[tokio::test]
async fn limits_outside_1_to_100_are_rejected() {
    let app = ready_app().await;
    let w = world(&app);
    for query in [
        "limit=0",
        "limit=101",
        "limit=-1",
        "limit=abc",
        "before_id=0",
        "before_id=x",
        "page=2",
    ] {
        let answer = get(&app, &format!("/v1/messages/{}?{query}", w.channel)).await;
        answer.assert_error(400, "INVALID_REQUEST");
    }
    assert_eq!(count_calls(&app, "messages.getHistory"), 0);
}
