//! Delivery order: FIFO within every chat whatever the priorities, and higher priority
//! first across chats when the account's pacing is the bottleneck.

use serde_json::{Value, json};

use crate::common::DEADLINE;
use crate::messages_support::{Answer, ready_app_with, requests, world};
use crate::outbox_support::*;

const PRIORITIES: [&str; 3] = ["low", "high", "normal"];

async fn batch(app: &crate::common::TestApp, body: Value) -> Vec<String> {
    let answer = Answer::of(
        app.post("/v1/outbox/batch")
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, 202, "{:?}", answer.body);
    answer.body["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn every_chat_gets_its_messages_in_enqueue_order_with_priorities_mixed() {
    let app = ready_app_with(
        outbox_options().var("MTGATE_OUTBOX_RATES", "chat=40/s,group=600/m,account=80/s"),
    )
    .await;
    let w = world(&app);
    let mut chats = app.sandbox.world().others;
    chats.extend([w.channel.clone(), w.supergroup.clone(), w.me.clone()]);
    let mut ids = Vec::new();
    for i in 0..8 {
        for chat in &chats {
            let priority = PRIORITIES[(i + chat.len()) % 3];
            let answer = enqueue(
                &app,
                json!({"peer": chat, "text": format!("order {i}"), "priority": priority}),
            )
            .await;
            assert_eq!(answer.status, 202, "{:?}", answer.body);
            ids.push(answer.body["job"]["id"].as_str().unwrap().to_owned());
        }
    }
    for id in &ids {
        wait_for_state(&app, id, "sent", DEADLINE).await;
    }
    let expected: Vec<String> = (0..8).map(|i| format!("order {i}")).collect();
    for chat in &chats {
        assert_eq!(delivered_with(&app, chat, "order "), expected, "{chat}");
    }
}

#[tokio::test]
async fn high_priority_chats_go_first_when_the_account_rate_is_the_limit() {
    let app = ready_app_with(outbox_options().var("MTGATE_OUTBOX_RATES", "account=20/s")).await;
    let w = world(&app);
    let low_chats: Vec<String> = app.sandbox.world().others;
    let mut low_peers = Vec::new();
    for _ in 0..5 {
        low_peers.extend(low_chats.iter().cloned());
    }
    let low = batch(
        &app,
        json!({"peers": low_peers, "text": "low", "priority": "low"}),
    )
    .await;
    let high = batch(
        &app,
        json!({"peers": [w.channel, w.supergroup, w.me], "text": "high", "priority": "high"}),
    )
    .await;
    for id in low.iter().chain(&high) {
        wait_for_state(&app, id, "sent", DEADLINE).await;
    }
    let order: Vec<String> = requests(&app)
        .iter()
        .filter(|r| r["method"] == "messages.sendMessage")
        .filter_map(|r| r["text"].as_str().map(str::to_owned))
        .collect();
    let last_high = order.iter().rposition(|t| t == "high").unwrap();
    let low_before = order[..last_high].iter().filter(|t| *t == "low").count();
    assert!(
        low_before <= 3,
        "{low_before} low-priority sends went before the last high one: {order:?}"
    );
}
