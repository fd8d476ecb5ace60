//! `GET /v1/events`: incoming messages, edits and deletions reach an SSE client; a client
//! that reconnects with `Last-Event-ID` misses nothing; filters and retention.

use serde_json::json;

use crate::common::{AppOptions, spawn_app, spawn_app_with};
use crate::events_support::{SseClient, incoming, summary, wait_for_pump};
use mtgate_sandbox::harness::Sandbox;
use reqwest::Method;
use std::path::Path;

#[tokio::test]
async fn an_incoming_message_reaches_an_sse_client_as_a_message_new_event() {
    let app = spawn_app().await;
    wait_for_pump(&app).await;
    let mut stream = SseClient::open(&app, "/v1/events", None).await;
    let from = app.sandbox.world().others[0].clone();
    let id = incoming(&app, &from, None, "hello *there*").await;
    let frame = stream.next().await.unwrap();
    assert_eq!(frame.event, "message.new");
    let event = frame.data;
    assert_eq!(Some(event["id"].as_i64().unwrap()), frame.id);
    assert_eq!(event["account"], "default");
    assert_eq!(event["type"], "message.new");
    assert!(event["created_at"].as_str().unwrap().ends_with('Z'));
    let data = &event["data"];
    assert_eq!(data["id"], id);
    assert_eq!(data["text"], "hello *there*");
    assert_eq!(data["outgoing"], false);
    assert_eq!(data["chat"]["type"], "user");
    assert_eq!(data["sender"]["id"], data["chat"]["id"]);
    assert!(data["date"].as_str().is_some());
}

#[tokio::test]
async fn edits_and_deletions_by_the_sender_arrive_after_the_message() {
    let app = spawn_app().await;
    wait_for_pump(&app).await;
    let mut stream = SseClient::open(&app, "/v1/events", None).await;
    let from = app.sandbox.world().others[1].clone();
    let id = incoming(&app, &from, None, "draft").await;
    let control = app.sandbox.control();
    control.incoming_edit(&from, id, "final").unwrap();
    control.incoming_delete(&from, &[id]).unwrap();
    let frames = stream.take(3).await;
    assert_eq!(
        summary(&frames),
        [
            json!(["message.new", id, "draft"]),
            json!(["message.edited", id, "final"]),
            json!(["message.deleted", [id], null]),
        ]
    );
    assert!(frames[1].data["data"]["edit_date"].is_string());
    let ids: Vec<i64> = frames.iter().map(|f| f.id.unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[1] > w[0]), "{ids:?}");
}

#[tokio::test]
async fn a_client_reconnecting_with_last_event_id_gets_exactly_what_it_missed() {
    let app = spawn_app().await;
    wait_for_pump(&app).await;
    let from = app.sandbox.world().others[0].clone();
    let mut stream = SseClient::open(&app, "/v1/events", None).await;
    incoming(&app, &from, None, "one").await;
    let first = stream.next().await.unwrap();
    drop(stream);
    for text in ["two", "three", "four"] {
        incoming(&app, &from, None, text).await;
    }
    let mut resumed = SseClient::open(&app, "/v1/events", first.id).await;
    let texts: Vec<_> = resumed
        .take(3)
        .await
        .iter()
        .map(|f| f.data["data"]["text"].clone())
        .collect();
    assert_eq!(texts, ["two", "three", "four"]);
    // The query parameter does the same, for clients that cannot set headers.
    let path = format!("/v1/events?last_event_id={}", first.id.unwrap());
    let mut by_query = SseClient::open(&app, &path, None).await;
    assert_eq!(by_query.next().await.unwrap().data["data"]["text"], "two");
}

#[tokio::test]
async fn type_and_chat_filters_pass_only_what_was_asked_for() {
    let app = spawn_app().await;
    wait_for_pump(&app).await;
    let world = app.sandbox.world();
    let (alice, bob) = (world.others[0].clone(), world.others[1].clone());
    let path = format!("/v1/events?types=message.edited&chats={bob}");
    let mut edits_from_bob = SseClient::open(&app, &path, None).await;
    let mut per_account =
        SseClient::open(&app, "/v1/accounts/default/events?types=message.new", None).await;
    let a = incoming(&app, &alice, None, "from alice").await;
    let b = incoming(&app, &bob, None, "from bob").await;
    let control = app.sandbox.control();
    control.incoming_edit(&alice, a, "alice edited").unwrap();
    control.incoming_edit(&bob, b, "bob edited").unwrap();
    let frame = edits_from_bob.next().await.unwrap();
    assert_eq!(
        summary(&[frame]),
        [json!(["message.edited", b, "bob edited"])]
    );
    let news = per_account.take(2).await;
    assert_eq!(
        summary(&news),
        [
            json!(["message.new", a, "from alice"]),
            json!(["message.new", b, "from bob"])
        ]
    );
    let bad = app
        .get("/v1/events?types=message.created")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn a_cursor_older_than_retention_gets_a_clear_error_event() {
    let options = AppOptions::default().var("MTGATE_EVENTS_RETENTION_COUNT", "2");
    let app = spawn_app_with(options).await;
    wait_for_pump(&app).await;
    let from = app.sandbox.world().others[0].clone();
    let mut stream = SseClient::open(&app, "/v1/events", None).await;
    for n in 0..5 {
        incoming(&app, &from, None, &format!("m{n}")).await;
    }
    let frames = stream.take(5).await;
    let first = frames[0].id.unwrap();
    // Retention runs when the writer next gets events; force a purge through the store.
    app.state
        .events
        .store()
        .purge_events("default", 2, 0)
        .await
        .unwrap();
    let mut late = SseClient::open(&app, "/v1/events", Some(first)).await;
    let error = late.next().await.unwrap();
    assert_eq!(error.event, "error");
    assert_eq!(error.data["error"]["code"], "EVENTS_EXPIRED");
    assert_eq!(error.data["error"]["status"], 410);
    assert_eq!(error.data["error"]["oldest_id"], first + 3);
    assert!(
        late.next().await.is_none(),
        "the stream ends after the error"
    );
    // A cursor still inside retention resumes normally.
    let mut fine = SseClient::open(&app, "/v1/events", Some(first + 3)).await;
    assert_eq!(fine.next().await.unwrap().data["data"]["text"], "m4");
}

const BOB_ONLY: &str = "bob-only-events-key-0123456789";

fn bob_only_key(sandbox: &Sandbox, dir: &Path) -> Vec<(String, String)> {
    let bob = &sandbox.world().others[1];
    let path = dir.join("keys.toml");
    let text = format!(
        "[keys.bob-only]\nkey = \"{BOB_ONLY}\"\naccounts = [\"default\"]\nchats = [\"{bob}\"]\n"
    );
    std::fs::write(&path, text).unwrap();
    vec![("MTGATE_KEYS_FILE".into(), path.display().to_string())]
}

#[tokio::test]
async fn a_chat_scoped_key_streams_only_its_chats() {
    let app = spawn_app_with(AppOptions {
        sandbox_vars: Some(bob_only_key),
        ..AppOptions::default()
    })
    .await;
    wait_for_pump(&app).await;
    let world = app.sandbox.world();
    let (alice, bob) = (world.others[0].clone(), world.others[1].clone());
    let mut scoped = SseClient::open_with_key(&app, BOB_ONLY, "/v1/events", None).await;
    incoming(&app, &alice, None, "not for that key").await;
    let b = incoming(&app, &bob, None, "for bob's key").await;
    let frame = scoped.next().await.unwrap();
    assert_eq!(
        summary(&[frame]),
        [json!(["message.new", b, "for bob's key"])]
    );
    let path = format!("/v1/events?chats={alice}");
    let refused = app
        .request_with_key(BOB_ONLY, Method::GET, &path)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "KEY_SCOPE");
}

#[tokio::test]
async fn supergroup_messages_and_deletions_name_their_group() {
    let app = spawn_app().await;
    wait_for_pump(&app).await;
    let world = app.sandbox.world();
    let group = world.supergroup.clone();
    let mut stream = SseClient::open(&app, "/v1/events", None).await;
    let id = incoming(&app, &world.others[2], Some(&group), "in the group").await;
    app.sandbox
        .control()
        .incoming_delete(&group, &[id])
        .unwrap();
    let frames = stream.take(2).await;
    let (new, gone) = (&frames[0].data["data"], &frames[1].data["data"]);
    assert_eq!(new["chat"]["type"], "group");
    assert!(new["chat"]["id"].as_i64().unwrap() < -1_000_000_000_000);
    assert!(new["sender"]["id"].as_i64().unwrap() > 0);
    assert_eq!(frames[1].event, "message.deleted");
    assert_eq!(gone["chat"], new["chat"]);
    assert_eq!(gone["ids"], json!([id]));
}

#[tokio::test]
async fn an_idle_stream_gets_heartbeat_comments() {
    let app = spawn_app_with(AppOptions::default().var("MTGATE_EVENTS_HEARTBEAT", "50ms")).await;
    let mut response = app.get("/v1/events").send().await.unwrap();
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while !seen.contains("heartbeat") {
        let chunk = tokio::time::timeout_at(deadline, response.chunk())
            .await
            .expect("a heartbeat within 5 s")
            .unwrap()
            .expect("the stream stays open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(!seen.contains("data:"), "only comments on an idle stream");
}

#[tokio::test]
async fn messages_the_account_sends_are_outgoing_message_new_events() {
    let app = spawn_app().await;
    wait_for_pump(&app).await;
    let world = app.sandbox.world();
    let mut stream = SseClient::open(&app, "/v1/events", None).await;
    for peer in [world.others[0].clone(), world.channel.clone()] {
        let sent: serde_json::Value = app
            .post("/v1/messages")
            .json(&json!({"peer": peer, "text": "from mtgate **bold**", "parse_mode": "markdown"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let frame = stream.next().await.unwrap();
        let data = &frame.data["data"];
        assert_eq!(frame.event, "message.new", "{peer}");
        assert_eq!(data["id"], sent["id"], "{peer}");
        assert_eq!(data["outgoing"], true, "{peer}");
        assert_eq!(data["text"], "from mtgate bold", "{peer}");
        assert_eq!(data["entities"][0]["type"], "bold", "{peer}");
        assert_eq!(data["chat"]["id"], sent["peer"]["id"], "{peer}");
    }
}

#[tokio::test]
async fn a_stream_outlives_the_http_idle_timeout() {
    let options = AppOptions::default()
        .var("MTGATE_HTTP_IDLE_TIMEOUT", "300ms")
        .var("MTGATE_EVENTS_HEARTBEAT", "100ms");
    let app = spawn_app_with(options).await;
    wait_for_pump(&app).await;
    let mut stream = SseClient::open(&app, "/v1/events", None).await;
    // Idle far longer than the keep-alive idle timeout: an open stream is not idle.
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let from = app.sandbox.world().others[0].clone();
    incoming(&app, &from, None, "still there?").await;
    let frame = stream.next().await.expect("the stream is still open");
    assert_eq!(frame.data["data"]["text"], "still there?");
}
