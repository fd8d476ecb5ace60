//! The outbox with replicas on one PostgreSQL database: jobs enqueued through any replica are
//! sent once, by the account's holder; when the holder dies, the replica that takes the
//! account over sends what was still queued.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::cluster_support::Replicas;
use crate::common::{DEADLINE, eventually};

async fn enqueue(cluster: &Replicas, replica: usize, body: Value) -> Value {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let response = cluster
            .client
            .post(cluster.url(replica, "/v1/outbox"))
            .bearer_auth(&cluster.key)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        if status == StatusCode::ACCEPTED {
            return answer["job"].clone();
        }
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
        assert!(
            tokio::time::Instant::now() < deadline,
            "still 503: {answer}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn jobs_through_any_replica_are_sent_once_and_survive_the_holders_death() {
    let mut cluster = Replicas::start(2).await;
    let holder = cluster.holder_of("default").await;
    let standby = 1 - holder;
    for (n, replica) in [standby, holder].into_iter().enumerate() {
        let text = format!("cluster job {n}");
        enqueue(
            &cluster,
            replica,
            json!({"peer": "@sandbox_news", "text": text}),
        )
        .await;
    }
    for n in 0..2 {
        let text = format!("cluster job {n}");
        eventually(DEADLINE, "the job sent", || async {
            (cluster.copies("default", &text) == 1).then_some(())
        })
        .await;
    }
    // Due in a moment; the holder dies before: the other replica must send it.
    let send_at = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    let body = json!({"peer": "@sandbox_news", "text": "after the failover", "send_at": send_at});
    enqueue(&cluster, holder, body).await;
    cluster.kill(holder);
    eventually(
        Duration::from_secs(30),
        "the job sent by the new holder",
        || async { (cluster.copies("default", "after the failover") == 1).then_some(()) },
    )
    .await;
    for n in 0..2 {
        assert_eq!(cluster.copies("default", &format!("cluster job {n}")), 1);
    }
    cluster.assert_one_driver_at_a_time();
}

/// The chats of the broadcast below and how many messages each gets.
const CHATS: [&str; 4] = [
    "@sandbox_news",
    "@bob_sandbox",
    "@carol_sandbox",
    "@sandbox_chat",
];
const PER_CHAT: usize = 6;

#[tokio::test]
async fn a_holder_killed_mid_broadcast_hands_over_and_every_message_lands_once_in_order() {
    // Paced so the broadcast takes a few seconds: the kill lands in the middle of it.
    let mut cluster = Replicas::start_with(
        3,
        &[("MTGATE_OUTBOX_RATES", "chat=3/s,group=60/m,account=30/s")],
    )
    .await;
    let holder = cluster.holder_of("default").await;
    let other = (holder + 1) % 3;
    for n in 0..PER_CHAT {
        let body = json!({"peers": CHATS, "text": format!("broadcast {n}")});
        let response = cluster
            .client
            .post(cluster.url(other, "/v1/outbox/batch"))
            .bearer_auth(&cluster.key)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::ACCEPTED);
    }
    let control = cluster.sandbox.control().clone();
    let delivered = |chat: &str| -> Vec<String> {
        let mut texts: Vec<String> = control
            .chat_messages(chat)
            .unwrap()
            .into_iter()
            .map(|m| m.text)
            .filter(|t| t.starts_with("broadcast "))
            .collect();
        texts.reverse();
        texts
    };
    eventually(DEADLINE, "the broadcast to be under way", || async {
        (delivered("@sandbox_news").len() >= 2).then_some(())
    })
    .await;
    cluster.kill(holder);
    eventually(
        Duration::from_secs(60),
        "the broadcast to complete",
        || async {
            CHATS
                .iter()
                .all(|chat| delivered(chat).len() >= PER_CHAT)
                .then_some(())
        },
    )
    .await;
    let expected: Vec<String> = (0..PER_CHAT).map(|n| format!("broadcast {n}")).collect();
    for chat in CHATS {
        assert_eq!(delivered(chat), expected, "{chat}: each once, in order");
    }
    cluster.assert_one_driver_at_a_time();
}
