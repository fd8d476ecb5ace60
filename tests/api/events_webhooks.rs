//! Webhooks over the wire: signed deliveries to a small receiver in the test, retries that
//! outlast a flaky receiver, the breaker and dead letters of a receiver that stays down,
//! redelivery, and the subscription routes.

use std::sync::atomic::Ordering;

use axum::http::StatusCode;
use axum::http::header::LOCATION;
use serde_json::{Value, json};

use crate::common::{AppOptions, DEADLINE, eventually, spawn_app, spawn_app_with};
use crate::events_support::{
    Receiver, body, incoming, listed_webhooks, subscribe, verify, wait_for_pump,
};

/// Quick retries for tests.
fn quick(attempts: &str, threshold: &str) -> AppOptions {
    AppOptions::default()
        .var("MTGATE_WEBHOOK_RETRY_BASE", "5ms")
        .var("MTGATE_WEBHOOK_MAX_ATTEMPTS", attempts)
        .var("MTGATE_WEBHOOK_BREAKER_THRESHOLD", threshold)
        .var("MTGATE_WEBHOOK_BREAKER_COOLDOWN", "100ms")
        .var("MTGATE_WEBHOOK_TIMEOUT", "2s")
}

#[tokio::test]
async fn an_incoming_message_reaches_a_webhook_signed_as_standard_webhooks_says() {
    let app = spawn_app().await;
    wait_for_pump(&app).await;
    let (receiver, url) = Receiver::start(0).await;
    let hook = subscribe(&app, json!({"url": url, "events": ["message.new"]})).await;
    let secret = hook["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(hook["events"], json!(["message.new"]));
    let from = app.sandbox.world().others[0].clone();
    let id = incoming(&app, &from, None, "ring ring").await;
    let delivery = receiver.wait_for(1).await.remove(0);
    assert!(verify(secret, &delivery), "the signature verifies");
    let event = body(&delivery);
    assert_eq!(event["type"], "message.new");
    assert_eq!(event["data"]["id"], id);
    assert_eq!(event["data"]["text"], "ring ring");
    assert_eq!(delivery.id, format!("evt_default_{}", event["id"]));
    let age = mtgate::store::now() - delivery.timestamp.parse::<i64>().unwrap();
    assert!((0..60).contains(&age));
    let metrics = app
        .get_anonymous("/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let hook_id = hook["id"].as_str().unwrap();
    let delivered =
        format!("mtgate_webhook_deliveries_total{{webhook=\"{hook_id}\",outcome=\"delivered\"}} 1");
    assert!(metrics.contains(&delivered), "{metrics}");
    assert!(metrics.contains("mtgate_events_logged_total{account=\"default\"}"));
}

#[tokio::test]
async fn a_receiver_failing_five_times_then_recovering_gets_every_event_in_order() {
    let app = spawn_app_with(quick("8", "20")).await;
    wait_for_pump(&app).await;
    let (receiver, url) = Receiver::start(5).await;
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    subscribe(&app, json!({"url": url, "secret": secret})).await;
    let from = app.sandbox.world().others[1].clone();
    let control = app.sandbox.control();
    let a = incoming(&app, &from, None, "first").await;
    incoming(&app, &from, None, "second").await;
    control.incoming_edit(&from, a, "first, edited").unwrap();
    let got = receiver.wait_for(3).await;
    let summary: Vec<Value> = got
        .iter()
        .map(|d| {
            let e = body(d);
            json!([e["type"], e["data"]["text"]])
        })
        .collect();
    assert_eq!(
        summary,
        [
            json!(["message.new", "first"]),
            json!(["message.new", "second"]),
            json!(["message.edited", "first, edited"]),
        ]
    );
    assert!(got.iter().all(|d| verify(secret, d)));
    assert_eq!(
        receiver.seen.load(Ordering::SeqCst),
        8,
        "5 failures, then 3 deliveries"
    );
    let hooks = listed_webhooks(&app).await;
    assert_eq!(hooks[0]["failures"], 0);
    assert_eq!(hooks[0]["breaker"], "closed");
}

#[tokio::test]
async fn a_receiver_that_stays_down_trips_the_breaker_and_its_events_are_redelivered() {
    let app = spawn_app_with(quick("3", "2")).await;
    wait_for_pump(&app).await;
    let (receiver, url) = Receiver::start(0).await;
    receiver.down.store(true, Ordering::SeqCst);
    let hook = subscribe(&app, json!({"url": url})).await;
    let id = hook["id"].as_str().unwrap().to_string();
    let from = app.sandbox.world().others[0].clone();
    incoming(&app, &from, None, "lost 1").await;
    incoming(&app, &from, None, "lost 2").await;
    let failures_path = format!("/v1/webhooks/{id}/failures");
    let failures = eventually(DEADLINE, "two dead letters", || async {
        let body: Value = app
            .get(&failures_path)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (body["failures"].as_array().unwrap().len() == 2).then_some(body)
    })
    .await;
    assert_eq!(failures["failures"][0]["attempts"], 3);
    assert_eq!(failures["failures"][0]["last_error"], "HTTP 500");
    let hooks = listed_webhooks(&app).await;
    assert_eq!(hooks[0]["breaker"], "open");
    assert!(receiver.accepted().is_empty());
    // The breaker kept most attempts from reaching the receiver: 2 failures opened it, and
    // after that only one probe per cooldown.
    assert!(receiver.seen.load(Ordering::SeqCst) <= 6);

    receiver.down.store(false, Ordering::SeqCst);
    let redeliver = app
        .post(&format!("/v1/webhooks/{id}/redeliver"))
        .send()
        .await
        .unwrap();
    assert_eq!(redeliver.status(), 202);
    assert_eq!(redeliver.json::<Value>().await.unwrap()["redelivering"], 2);
    let got = receiver.wait_for(2).await;
    let texts: Vec<Value> = got
        .iter()
        .map(|d| body(d)["data"]["text"].clone())
        .collect();
    assert_eq!(texts, ["lost 1", "lost 2"]);
    eventually(DEADLINE, "the failures to clear", || async {
        let body: Value = app
            .get(&failures_path)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["failures"]
            .as_array()
            .unwrap()
            .is_empty()
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn webhooks_are_listed_deleted_and_bad_subscriptions_refused() {
    let app = spawn_app().await;
    let hook = subscribe(
        &app,
        json!({"url": "http://127.0.0.1:9/x", "chats": ["-1001500000002"]}),
    )
    .await;
    assert_eq!(hook["chats"], json!([-1001500000002_i64]));
    let id = hook["id"].as_str().unwrap();
    let list = listed_webhooks(&app).await;
    assert_eq!(list[0]["id"], id);
    assert!(list[0].get("secret").is_none(), "the secret is shown once");
    let path = format!("/v1/webhooks/{id}");
    assert_eq!(app.delete(&path).send().await.unwrap().status(), 204);
    let again = app.delete(&path).send().await.unwrap();
    assert_eq!(again.status(), 404);
    assert_eq!(
        again.json::<Value>().await.unwrap()["error"]["code"],
        "WEBHOOK_NOT_FOUND"
    );
    for bad in [
        json!({"url": "ftp://x"}),
        json!({"url": "http://x", "events": ["message.sent"]}),
        json!({"url": "http://x", "secret": "hunter2"}),
        json!({"url": "http://x", "colour": "red"}),
    ] {
        let response = app.post("/v1/webhooks").json(&bad).send().await.unwrap();
        assert_eq!(response.status(), 400, "{bad}");
    }
}

#[tokio::test]
async fn a_webhook_from_the_webhooks_file_delivers_and_is_listed_as_configured() {
    let (receiver, url) = Receiver::start(0).await;
    let dir = crate::common::TempDir::new("webhooks");
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let file = dir.path().join("webhooks.toml");
    let text = format!(
        "[webhooks.crm]\nurl = \"{url}\"\nsecret = \"{secret}\"\nevents = [\"message.new\"]\n"
    );
    std::fs::write(&file, text).unwrap();
    let options = AppOptions::default().var("MTGATE_WEBHOOKS_FILE", file.display().to_string());
    let app = spawn_app_with(options).await;
    wait_for_pump(&app).await;
    let list = listed_webhooks(&app).await;
    assert_eq!(list[0]["id"], "cfg_crm");
    assert_eq!(list[0]["source"], "config");
    let from = app.sandbox.world().others[0].clone();
    incoming(&app, &from, None, "to the crm").await;
    let delivery = receiver.wait_for(1).await.remove(0);
    assert!(verify(secret, &delivery));
    assert_eq!(body(&delivery)["data"]["text"], "to the crm");
}

#[tokio::test]
async fn messages_one_after_another_reach_both_a_stream_and_a_webhook() {
    let app = spawn_app().await;
    wait_for_pump(&app).await;
    let (receiver, url) = Receiver::start(0).await;
    subscribe(&app, json!({"url": url, "events": ["message.new"]})).await;
    let mut stream = crate::events_support::SseClient::open(&app, "/v1/events", None).await;
    let from = app.sandbox.world().others[0].clone();
    for n in 0..40 {
        let text = format!("one by one {n}");
        incoming(&app, &from, None, &text).await;
        let frame = stream.next().await.unwrap();
        assert_eq!(frame.data["data"]["text"], text.as_str());
        let got = receiver.wait_for(n + 1).await;
        assert_eq!(body(&got[n])["data"]["text"], text.as_str());
    }
}

#[tokio::test]
async fn a_receiver_answering_with_a_redirect_is_a_failed_attempt_and_the_redirect_is_not_followed()
{
    let app = spawn_app_with(quick("2", "20")).await;
    wait_for_pump(&app).await;
    // Where the redirect points: a receiver that would accept anything.
    let (elsewhere, elsewhere_url) = Receiver::start(0).await;
    let redirector = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let to = elsewhere_url.clone();
            async move { (StatusCode::TEMPORARY_REDIRECT, [(LOCATION, to)]) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, redirector).await.unwrap() });
    let hook = subscribe(&app, json!({"url": url, "events": ["message.new"]})).await;
    let id = hook["id"].as_str().unwrap().to_string();
    let from = app.sandbox.world().others[0].clone();
    incoming(&app, &from, None, "follow me").await;

    let failed = eventually(DEADLINE, "the event recorded as failed", || async {
        let hooks = listed_webhooks(&app).await;
        let hook = hooks
            .iter()
            .find(|h| h["id"] == id.as_str())
            .cloned()
            .unwrap();
        (hook["failures"].as_i64().unwrap() >= 1).then_some(hook)
    })
    .await;
    assert_eq!(failed["last_error"], "HTTP 307");
    assert_eq!(
        elsewhere.seen.load(Ordering::SeqCst),
        0,
        "nothing was posted where the redirect pointed"
    );
}
