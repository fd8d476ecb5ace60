//! The outbox's events: a job that settles (sent, failed, dead) is announced once in the
//! account's event log, logged with its state change, and streamed over SSE like any event.

use std::time::Duration;

use crate::events_support::{SseClient, logged};
use crate::outbox_support::{enqueue_text, inject_send_error, outbox_app, wait_for_state};

#[tokio::test]
async fn a_sent_job_and_a_failed_job_each_stream_one_job_event() {
    let app = outbox_app().await;
    let mut stream = SseClient::open(&app, "/v1/events?types=job.sent,job.failed", None).await;

    let sent = enqueue_text(&app, "@sandbox_news", "announced when sent").await;
    let sent_id = sent["id"].as_str().unwrap().to_owned();
    let frame = stream.next().await.expect("a job.sent frame");
    assert_eq!(frame.event, "job.sent");
    assert_eq!(frame.data["type"], "job.sent");
    assert_eq!(frame.data["data"]["id"], sent_id.as_str());
    let job = wait_for_state(&app, &sent_id, "sent", Duration::from_secs(15)).await;
    assert_eq!(frame.data["data"]["message_id"], job["message_id"]);
    assert!(
        !frame.data.to_string().contains("announced when sent"),
        "job events carry no message text"
    );

    inject_send_error(&app, 403, "CHAT_WRITE_FORBIDDEN", 1);
    let failed = enqueue_text(&app, "@sandbox_news", "refused for good").await;
    let frame = stream.next().await.expect("a job.failed frame");
    assert_eq!(frame.event, "job.failed");
    assert_eq!(frame.data["data"]["id"], failed["id"]);
    assert_eq!(
        frame.data["data"]["error"]["telegram"],
        "CHAT_WRITE_FORBIDDEN"
    );

    let job_events: Vec<_> = logged(&app, "default")
        .await
        .into_iter()
        .filter(|e| e["type"].as_str().unwrap_or_default().starts_with("job."))
        .collect();
    assert_eq!(job_events.len(), 2, "{job_events:#?}");
}
