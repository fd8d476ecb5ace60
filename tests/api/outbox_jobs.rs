//! The outbox's HTTP surface over the wire: enqueue (idempotent), job states, listing,
//! cancel, retry, scheduled delivery, permanent and transient failures.

use std::time::Duration;

use serde_json::json;

use crate::common::DEADLINE;
use crate::messages_support::{Answer, count_calls, ready_app_with, world};
use crate::outbox_support::*;

#[tokio::test]
async fn an_enqueued_message_is_answered_202_with_its_job_and_then_sent_once() {
    let app = outbox_app().await;
    let w = world(&app);
    let answer = enqueue(&app, json!({"peer": w.other, "text": "queued hello"})).await;
    assert_eq!(answer.status, 202, "{:?}", answer.body);
    let job = &answer.body["job"];
    let id = job["id"].as_str().unwrap();
    assert_eq!(
        answer.headers["location"].to_str().unwrap(),
        format!("/v1/jobs/{id}")
    );
    assert_eq!(job["peer"], w.other);
    assert_eq!(job["priority"], "normal");
    chrono::DateTime::parse_from_rfc3339(job["created_at"].as_str().unwrap()).unwrap();

    let sent = wait_for_state(&app, id, "sent", DEADLINE).await;
    assert_eq!(sent["attempts"], 1);
    let truth = crate::messages_support::ground_truth(&app, &w.other);
    assert_eq!(truth[0]["text"], "queued hello");
    assert_eq!(sent["message_id"], truth[0]["id"]);
    assert_eq!(delivered_with(&app, &w.other, "queued hello").len(), 1);
    let metrics = app
        .get("/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "mtgate_outbox_jobs{account=\"default\",state=\"sent\",priority=\"normal\"} 1",
        "mtgate_outbox_jobs{account=\"default\",state=\"queued\",priority=\"normal\"} 0",
        "mtgate_outbox_enqueued_total{account=\"default\",priority=\"normal\"} 1",
        "mtgate_outbox_send_latency_seconds_count{account=\"default\"} 1",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "missing {line}\n{metrics}"
        );
    }
}

#[tokio::test]
async fn the_same_idempotency_key_gives_the_same_job_and_another_body_a_conflict() {
    let app = outbox_app().await;
    let w = world(&app);
    let post = |body: serde_json::Value| {
        let request = app
            .post("/v1/outbox")
            .header("Idempotency-Key", "enqueue-1")
            .json(&body);
        async move { Answer::of(request.send().await.unwrap()).await }
    };
    let body = json!({"peer": w.channel, "text": "only once"});
    let first = post(body.clone()).await;
    assert_eq!(first.status, 202);
    let again = post(body).await;
    assert_eq!(again.status, 202);
    assert_eq!(again.body["job"]["id"], first.body["job"]["id"]);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    let other = post(json!({"peer": w.channel, "text": "something else"})).await;
    other.assert_error(409, "IDEMPOTENCY_KEY_REUSED");

    let id = first.body["job"]["id"].as_str().unwrap();
    wait_for_state(&app, id, "sent", DEADLINE).await;
    assert_eq!(delivered_with(&app, &w.channel, "only once").len(), 1);
    assert!(delivered_with(&app, &w.channel, "something else").is_empty());
}

#[tokio::test]
async fn a_scheduled_job_waits_for_its_send_at() {
    let app = outbox_app().await;
    let w = world(&app);
    let send_at = chrono::Utc::now() + chrono::Duration::milliseconds(1500);
    let answer = enqueue(
        &app,
        json!({"peer": w.other, "text": "later", "send_at": send_at.to_rfc3339()}),
    )
    .await;
    assert_eq!(answer.status, 202, "{:?}", answer.body);
    let id = answer.body["job"]["id"].as_str().unwrap().to_owned();
    assert_eq!(answer.body["job"]["state"], "scheduled");
    assert!(answer.body["job"]["send_at"].is_string());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(job(&app, &id).await["state"], "scheduled");
    assert!(delivered_with(&app, &w.other, "later").is_empty());

    let sent = wait_for_state(&app, &id, "sent", DEADLINE).await;
    let sent_at =
        chrono::DateTime::parse_from_rfc3339(sent["updated_at"].as_str().unwrap()).unwrap();
    assert!(sent_at >= send_at, "sent at {sent_at}, due {send_at}");
    assert_eq!(delivered_with(&app, &w.other, "later").len(), 1);
}

#[tokio::test]
async fn a_job_not_yet_sent_can_be_cancelled_once_and_is_never_sent() {
    let app = outbox_app().await;
    let w = world(&app);
    let send_at = chrono::Utc::now() + chrono::Duration::seconds(60);
    let answer = enqueue(
        &app,
        json!({"peer": w.other, "text": "never", "send_at": send_at.to_rfc3339()}),
    )
    .await;
    let id = answer.body["job"]["id"].as_str().unwrap().to_owned();
    let cancelled = Answer::of(app.delete(&format!("/v1/jobs/{id}")).send().await.unwrap()).await;
    assert_eq!(cancelled.status, 200, "{:?}", cancelled.body);
    assert_eq!(cancelled.body["job"]["state"], "cancelled");
    let again = Answer::of(app.delete(&format!("/v1/jobs/{id}")).send().await.unwrap()).await;
    again.assert_error(409, "JOB_NOT_CANCELLABLE");
    let unknown = Answer::of(app.get("/v1/jobs/job_nope").send().await.unwrap()).await;
    unknown.assert_error(404, "JOB_NOT_FOUND");
    assert!(delivered_with(&app, &w.other, "never").is_empty());
}

#[tokio::test]
async fn a_permanent_refusal_fails_the_job_at_the_first_attempt() {
    let app = outbox_app().await;
    let w = world(&app);
    let job = enqueue_text(&app, &w.readonly_channel, "not allowed").await;
    let failed = wait_for_state(&app, job["id"].as_str().unwrap(), "failed", DEADLINE).await;
    assert_eq!(failed["attempts"], 1);
    assert_eq!(failed["error"]["code"], "FORBIDDEN");
    assert!(failed["error"]["telegram"].is_string());
    assert!(failed.get("next_attempt_at").is_none());
}

#[tokio::test]
async fn transient_errors_back_off_and_then_the_job_is_sent_once() {
    let app = outbox_app().await;
    let w = world(&app);
    inject_send_error(&app, 500, "INTERNAL_SERVER_ERROR", 2);
    let job = enqueue_text(&app, &w.other, "after two failures").await;
    let sent = wait_for_state(&app, job["id"].as_str().unwrap(), "sent", DEADLINE).await;
    assert_eq!(sent["attempts"], 3);
    assert_eq!(count_calls(&app, "messages.sendMessage"), 3);
    assert_eq!(
        delivered_with(&app, &w.other, "after two failures").len(),
        1
    );
}

#[tokio::test]
async fn a_job_past_its_retry_budget_is_dead_and_a_retry_sends_it() {
    let app = ready_app_with(outbox_options().var("MTGATE_OUTBOX_RETRY_BUDGET", "2")).await;
    let w = world(&app);
    inject_send_error(&app, 500, "INTERNAL_SERVER_ERROR", 2);
    let job = enqueue_text(&app, &w.other, "dead then alive").await;
    let id = job["id"].as_str().unwrap();
    let dead = wait_for_state(&app, id, "dead", DEADLINE).await;
    assert_eq!(dead["attempts"], 2);
    assert_eq!(dead["error"]["code"], "INTERNAL");
    assert!(delivered_with(&app, &w.other, "dead then alive").is_empty());

    let retried = Answer::of(
        app.post(&format!("/v1/jobs/{id}/retry"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(retried.status, 202, "{:?}", retried.body);
    wait_for_state(&app, id, "sent", DEADLINE).await;
    assert_eq!(delivered_with(&app, &w.other, "dead then alive").len(), 1);
    let again = Answer::of(
        app.post(&format!("/v1/jobs/{id}/retry"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    again.assert_error(409, "JOB_NOT_RETRYABLE");
}

#[tokio::test]
async fn jobs_are_listed_by_state_and_peer_a_page_at_a_time() {
    let app = outbox_app().await;
    let w = world(&app);
    let answer = Answer::of(
        app.post("/v1/outbox/batch")
            .json(&json!({"peers": [w.other, w.channel, w.other], "text": "fan out"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, 202, "{:?}", answer.body);
    let ids: Vec<String> = answer.body["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 3);
    for id in &ids {
        wait_for_state(&app, id, "sent", DEADLINE).await;
    }
    let list = |query: String| {
        let request = app.get(&format!("/v1/jobs{query}"));
        async move { Answer::of(request.send().await.unwrap()).await }
    };
    let first = list("?state=sent&limit=2".into()).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(first.body["jobs"].as_array().unwrap().len(), 2);
    let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
    let rest = list(format!("?state=sent&limit=2&cursor={cursor}")).await;
    assert_eq!(rest.body["jobs"].as_array().unwrap().len(), 1);
    assert!(rest.body["next_cursor"].is_null());
    let peer = w.other.trim_start_matches('@');
    let by_peer = list(format!("?peer={peer}")).await;
    assert_eq!(by_peer.body["jobs"].as_array().unwrap().len(), 2);
    let queued = list("?state=queued".into()).await;
    assert!(queued.body["jobs"].as_array().unwrap().is_empty());
    list("?limit=0".into())
        .await
        .assert_error(400, "INVALID_REQUEST");
    assert_eq!(delivered_with(&app, &w.other, "fan out").len(), 2);
}

#[tokio::test]
async fn bad_enqueues_are_refused_before_anything_is_stored() {
    let app = outbox_app().await;
    let w = world(&app);
    let too_long = "x".repeat(5000);
    enqueue(&app, json!({"peer": w.other, "text": too_long}))
        .await
        .assert_error(400, "MESSAGE_TOO_LONG");
    enqueue(
        &app,
        json!({"peer": w.other, "text": "x", "priority": "urgent"}),
    )
    .await
    .assert_error(400, "INVALID_REQUEST");
    // (A deadline already passed is accepted and the job goes dead unsent: see
    // `openapi_conformance`.)
    enqueue(&app, json!({"peer": w.other, "text": ""}))
        .await
        .assert_error(400, "INVALID_REQUEST");
    let batch = Answer::of(
        app.post("/v1/outbox/batch")
            .json(&json!({"peers": [], "text": "x"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    batch.assert_error(400, "INVALID_REQUEST");
    let listed = Answer::of(app.get("/v1/jobs").send().await.unwrap()).await;
    assert!(listed.body["jobs"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_job_that_cannot_be_sent_before_its_deadline_goes_dead() {
    let app = outbox_app().await;
    let w = world(&app);
    app.set_sandbox_down(true).await;
    let deadline = chrono::Utc::now() + chrono::Duration::milliseconds(1200);
    let answer = enqueue(
        &app,
        json!({"peer": w.other, "text": "too late", "deadline": deadline.to_rfc3339()}),
    )
    .await;
    assert_eq!(answer.status, 202, "{:?}", answer.body);
    let id = answer.body["job"]["id"].as_str().unwrap();
    let dead = wait_for_state(&app, id, "dead", DEADLINE).await;
    assert_eq!(dead["error"]["code"], "DEADLINE_EXCEEDED");
    assert!(dead["deadline"].is_string());
    app.set_sandbox_down(false).await;
    assert!(delivered_with(&app, &w.other, "too late").is_empty());
}
