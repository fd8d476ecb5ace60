//! Nothing lost: updates made while mtgate was disconnected (`down`, dropped connections) or
//! stopped are caught up through the difference and logged exactly once, in order; a burst
//! of 5,000 messages is logged whole.

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{DEADLINE, TestApp, eventually, spawn_app};
use crate::events_support::{SseClient, incoming, logged, wait_for_pump};

/// `[type, id or ids, text]` of every logged event after `after`.
async fn log_after(app: &TestApp, after: i64) -> Vec<Value> {
    logged(app, "default")
        .await
        .into_iter()
        .filter(|e| e["id"].as_i64().unwrap() > after)
        .map(|e| {
            let data = &e["data"];
            json!([
                e["type"],
                data.get("id").or(data.get("ids")),
                data.get("text")
            ])
        })
        .collect()
}

async fn last_id(app: &TestApp) -> i64 {
    app.state
        .events
        .store()
        .event_bounds("default")
        .await
        .unwrap()
        .1
}

/// Waits until `n` events follow `after` in the log, then a moment more for any duplicate.
async fn wait_for_log(app: &TestApp, after: i64, n: usize) -> Vec<Value> {
    eventually(DEADLINE, "the caught-up events", || async {
        (log_after(app, after).await.len() >= n).then_some(())
    })
    .await;
    // A duplicate would come with the same batch or the next difference.
    tokio::time::sleep(Duration::from_millis(300)).await;
    log_after(app, after).await
}

/// Makes mtgate track the supergroup's own update sequence (a first live post, logged).
/// Returns the group, the other user who posts in it, and the last logged event id.
async fn tracking_the_supergroup(app: &TestApp) -> (String, String, i64) {
    wait_for_pump(app).await;
    let world = app.sandbox.world();
    let (group, from) = (world.supergroup.clone(), world.others[2].clone());
    incoming(app, &from, Some(&group), "live").await;
    wait_for_log(app, 0, 1).await;
    (group, from, last_id(app).await)
}

/// Waits (up to `deadline`) until as many events as `ids` follow `after`, then checks they
/// are exactly those messages: none missing, none twice, in the order they were made.
async fn assert_logged_once_in_order(app: &TestApp, after: i64, ids: &[i32], deadline: Duration) {
    let log = eventually(deadline, "every message logged", || async {
        let log = log_after(app, after).await;
        (log.len() >= ids.len()).then_some(log)
    })
    .await;
    assert_eq!(log.len(), ids.len(), "no duplicates");
    let logged: Vec<i64> = log.iter().map(|e| e[1].as_i64().unwrap()).collect();
    let made: Vec<i64> = ids.iter().map(|&id| i64::from(id)).collect();
    assert_eq!(logged, made, "every message, in order");
}

/// Things another user does while mtgate cannot hear: two messages, an edit, a deletion.
async fn while_away(app: &TestApp, tag: &str) -> Vec<Value> {
    let from = app.sandbox.world().others[0].clone();
    let control = app.sandbox.control();
    let a = incoming(app, &from, None, &format!("{tag} a")).await;
    let b = incoming(app, &from, None, &format!("{tag} b")).await;
    control
        .incoming_edit(&from, a, &format!("{tag} a2"))
        .unwrap();
    control.incoming_delete(&from, &[b]).unwrap();
    vec![
        json!(["message.new", a, format!("{tag} a")]),
        json!(["message.new", b, format!("{tag} b")]),
        json!(["message.edited", a, format!("{tag} a2")]),
        json!(["message.deleted", [b], null]),
    ]
}

#[tokio::test]
async fn updates_made_while_telegram_was_down_arrive_exactly_once_in_order() {
    let app = spawn_app().await;
    wait_for_pump(&app).await;
    let before = last_id(&app).await;
    app.set_sandbox_down(true).await;
    let expected = while_away(&app, "down").await;
    app.set_sandbox_down(false).await;
    assert_eq!(wait_for_log(&app, before, 4).await, expected);
}

#[tokio::test]
async fn updates_made_across_dropped_connections_arrive_exactly_once_in_order() {
    let app = spawn_app().await;
    wait_for_pump(&app).await;
    let before = last_id(&app).await;
    let mut stream = SseClient::open(&app, "/v1/events", None).await;
    let from = app.sandbox.world().others[1].clone();
    let control = app.sandbox.control();
    let mut texts = Vec::new();
    for round in 0..3 {
        control.drop_connections();
        for n in 0..3 {
            let text = format!("round {round} #{n}");
            incoming(&app, &from, None, &text).await;
            texts.push(json!(text));
        }
    }
    let log = wait_for_log(&app, before, 9).await;
    let logged_texts: Vec<Value> = log.iter().map(|e| e[2].clone()).collect();
    assert_eq!(logged_texts, texts);
    let streamed: Vec<Value> = stream
        .take(9)
        .await
        .iter()
        .map(|f| f.data["data"]["text"].clone())
        .collect();
    assert_eq!(streamed, texts);
}

#[tokio::test]
async fn updates_made_while_mtgate_was_stopped_arrive_after_a_restart() {
    let mut app = spawn_app().await;
    wait_for_pump(&app).await;
    let from = app.sandbox.world().others[0].clone();
    incoming(&app, &from, None, "before the stop").await;
    let seen = wait_for_log(&app, 0, 1).await.len();
    let before = last_id(&app).await;
    assert!(seen >= 1);
    app.stop().await;
    let expected = while_away(&app, "stopped").await;
    app.restart().await;
    assert_eq!(wait_for_log(&app, before, 4).await, expected);
    // A client that kept its cursor across the restart resumes where it was.
    let mut stream = SseClient::open(&app, "/v1/events", Some(before)).await;
    assert_eq!(
        stream.next().await.unwrap().data["data"]["text"],
        "stopped a"
    );
}

#[tokio::test]
async fn a_burst_of_five_thousand_incoming_messages_is_logged_whole() {
    let app = spawn_app().await;
    wait_for_pump(&app).await;
    let before = last_id(&app).await;
    let from = app.sandbox.world().others[2].clone();
    let ids = app
        .sandbox
        .control()
        .incoming_burst(&from, None, "burst", 5_000)
        .unwrap();
    assert_logged_once_in_order(&app, before, &ids, Duration::from_secs(60)).await;
}

#[tokio::test]
async fn a_supergroups_posts_and_edits_made_while_down_or_stopped_are_caught_up() {
    let mut app = spawn_app().await;
    let (group, from, before) = tracking_the_supergroup(&app).await;
    app.set_sandbox_down(true).await;
    let id = incoming(&app, &from, Some(&group), "while down").await;
    let control = app.sandbox.control();
    control
        .incoming_edit(&group, id, "while down, edited")
        .unwrap();
    app.set_sandbox_down(false).await;
    assert_eq!(
        wait_for_log(&app, before, 2).await,
        [
            json!(["message.new", id, "while down"]),
            json!(["message.edited", id, "while down, edited"]),
        ]
    );
    // Stopped: the group's sequence was stored with the events, so a restart catches up.
    let before = last_id(&app).await;
    app.stop().await;
    let id = incoming(&app, &from, Some(&group), "while stopped").await;
    app.restart().await;
    assert_eq!(
        wait_for_log(&app, before, 1).await,
        [json!(["message.new", id, "while stopped"])]
    );
}

#[tokio::test]
async fn more_posts_than_one_difference_holds_are_caught_up_in_several_calls_once_in_order() {
    let mut app = spawn_app().await;
    let (group, from, before) = tracking_the_supergroup(&app).await;
    app.stop().await;
    // grammers asks a user account's channel difference for 100 updates at a time.
    let ids = app
        .sandbox
        .control()
        .incoming_burst(&from, Some(&group), "missed", 250)
        .unwrap();
    let calls_before = app.sandbox.control().requests().len();
    app.restart().await;
    assert_logged_once_in_order(&app, before, &ids, DEADLINE).await;
    // The most calls any one channel took since the restart: the group's catch-up.
    let mut per_channel = std::collections::HashMap::<Option<i64>, usize>::new();
    for call in &app.sandbox.control().requests()[calls_before..] {
        if call.method == "updates.getChannelDifference" && call.ok {
            *per_channel.entry(call.peer).or_default() += 1;
        }
    }
    let most = per_channel.values().copied().max().unwrap_or(0);
    assert!(
        most >= 3,
        "250 posts at 100 a call take at least 3 calls, saw {per_channel:?}"
    );
}

#[tokio::test]
async fn posts_in_a_channel_never_heard_of_live_are_caught_up_after_a_restart() {
    let mut app = spawn_app().await;
    wait_for_pump(&app).await;
    let world = app.sandbox.world();
    let (group, from) = (world.supergroup.clone(), world.others[1].clone());
    let before = last_id(&app).await;
    app.stop().await;
    let id = incoming(&app, &from, Some(&group), "first post mtgate hears of").await;
    app.restart().await;
    assert_eq!(
        wait_for_log(&app, before, 1).await,
        [json!(["message.new", id, "first post mtgate hears of"])]
    );
}
