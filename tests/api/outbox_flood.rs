//! Flood waits: a FLOOD_WAIT in one chat parks only that chat while the others keep being
//! delivered; FLOOD_WAITs in several chats park the whole account until the wait ends.

use std::time::Duration;

use serde_json::json;

use crate::common::DEADLINE;
use crate::messages_support::{Answer, world};
use crate::outbox_support::*;

fn at(job: &serde_json::Value, field: &str) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(job[field].as_str().unwrap_or_else(|| {
        panic!("job without {field}: {job}");
    }))
    .unwrap()
}

#[tokio::test]
async fn a_flood_wait_in_one_chat_parks_only_that_chat() {
    let app = outbox_app().await;
    let w = world(&app);
    let others = app.sandbox.world().others;
    inject_send_error(&app, 420, "FLOOD_WAIT_3", 1);
    let first = enqueue_text(&app, &others[0], "parked 1").await;
    let second = enqueue_text(&app, &others[0], "parked 2").await;
    let first_id = first["id"].as_str().unwrap();
    let flooded = eventually_flooded(&app, first_id).await;
    let resume_at = at(&flooded, "next_attempt_at");

    let elsewhere = [
        enqueue_text(&app, &others[1], "flowing").await,
        enqueue_text(&app, &w.channel, "flowing").await,
    ];
    for job in &elsewhere {
        let sent = wait_for_state(&app, job["id"].as_str().unwrap(), "sent", DEADLINE).await;
        assert!(
            at(&sent, "updated_at") < resume_at,
            "other chats did not wait"
        );
    }
    assert!(
        delivered_with(&app, &others[0], "parked").is_empty(),
        "the parked chat got a message before its wait ended"
    );
    let sent = wait_for_state(&app, second["id"].as_str().unwrap(), "sent", DEADLINE).await;
    assert!(at(&sent, "updated_at") >= resume_at);
    assert_eq!(
        delivered_with(&app, &others[0], "parked"),
        ["parked 1", "parked 2"]
    );
    let metrics = app
        .get("/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("mtgate_outbox_flood_parks_total{account=\"default\",scope=\"chat\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn flood_waits_in_two_chats_park_the_whole_account_until_they_end() {
    let app = outbox_app().await;
    let w = world(&app);
    let others = app.sandbox.world().others;
    inject_send_error(&app, 420, "FLOOD_WAIT_2", 2);
    let answer = Answer::of(
        app.post("/v1/outbox/batch")
            .json(&json!({"peers": [others[0], others[1]], "text": "both flooded"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, 202, "{:?}", answer.body);
    let mut resume_at = Vec::new();
    for job in answer.body["jobs"].as_array().unwrap() {
        let flooded = eventually_flooded(&app, job["id"].as_str().unwrap()).await;
        resume_at.push(at(&flooded, "next_attempt_at"));
    }
    let parked_until = resume_at.into_iter().max().unwrap();
    // A chat that never flooded waits too.
    let bystander = enqueue_text(&app, &w.channel, "bystander").await;
    let sent = wait_for_state(&app, bystander["id"].as_str().unwrap(), "sent", DEADLINE).await;
    assert!(
        at(&sent, "updated_at") >= parked_until - chrono::Duration::milliseconds(5),
        "sent at {}, the account was parked until {parked_until}",
        sent["updated_at"]
    );
    for chat in &others[..2] {
        eventually_delivered(&app, chat, "both flooded").await;
    }
    let metrics = app
        .get("/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .contains("mtgate_outbox_flood_parks_total{account=\"default\",scope=\"account\"} 1"),
        "{metrics}"
    );
}

/// Waits until job `id` is back in the queue after a FLOOD_WAIT; returns it.
async fn eventually_flooded(app: &crate::common::TestApp, id: &str) -> serde_json::Value {
    crate::common::eventually(DEADLINE, "a flood wait", || async {
        let job = job(app, id).await;
        (job["error"]["code"] == "FLOOD_WAIT" && job["state"] == "queued").then_some(job)
    })
    .await
}

async fn eventually_delivered(app: &crate::common::TestApp, chat: &str, text: &str) {
    crate::common::eventually(Duration::from_secs(10), "delivery", || async {
        (delivered_with(app, chat, text).len() == 1).then_some(())
    })
    .await;
}

#[tokio::test]
async fn slow_mode_parks_the_supergroup_alone_and_its_messages_keep_their_order() {
    let app = outbox_app().await;
    let w = world(&app);
    app.sandbox
        .control()
        .set_slow_mode(&w.supergroup, 2)
        .unwrap();
    let first = enqueue_text(&app, &w.supergroup, "slow 1").await;
    let second = enqueue_text(&app, &w.supergroup, "slow 2").await;
    let meanwhile = enqueue_text(&app, &w.channel, "fast").await;
    wait_for_state(&app, meanwhile["id"].as_str().unwrap(), "sent", DEADLINE).await;
    wait_for_state(&app, first["id"].as_str().unwrap(), "sent", DEADLINE).await;
    let sent = wait_for_state(&app, second["id"].as_str().unwrap(), "sent", DEADLINE).await;
    assert_eq!(sent["error"], serde_json::Value::Null);
    assert_eq!(
        delivered_with(&app, &w.supergroup, "slow"),
        ["slow 1", "slow 2"]
    );
    let metrics = app
        .get("/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .contains("mtgate_outbox_flood_parks_total{account=\"default\",scope=\"account\"} 0"),
        "slow mode never parks the account: {metrics}"
    );
}

#[tokio::test]
async fn pacing_at_the_sandboxs_limits_draws_no_flood_wait() {
    let rates = "chat=5/s,group=60/m,account=10/s";
    let app =
        crate::messages_support::ready_app_with(outbox_options().var("MTGATE_OUTBOX_RATES", rates))
            .await;
    app.sandbox.control().set_limits(rates).unwrap();
    let w = world(&app);
    let chats = [w.channel.clone(), w.supergroup.clone(), w.other.clone()];
    let peers: Vec<&String> = (0..8).flat_map(|_| chats.iter()).collect();
    let answer = Answer::of(
        app.post("/v1/outbox/batch")
            .json(&json!({"peers": peers, "text": "paced"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, 202, "{:?}", answer.body);
    for job in answer.body["jobs"].as_array().unwrap() {
        wait_for_state(&app, job["id"].as_str().unwrap(), "sent", DEADLINE).await;
    }
    let refused: Vec<serde_json::Value> = crate::messages_support::requests(&app)
        .into_iter()
        .filter(|r| r["method"] == "messages.sendMessage" && r["ok"] == false)
        .collect();
    assert!(refused.is_empty(), "{refused:?}");
    for chat in &chats {
        assert_eq!(delivered_with(&app, chat, "paced").len(), 8);
    }
}
