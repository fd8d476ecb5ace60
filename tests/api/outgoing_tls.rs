//! Outgoing HTTPS over the wire: `media.url` fetches and webhook deliveries to loopback
//! HTTPS servers whose certificates come from a throwaway CA made by the test, trusted only
//! through `MTGATE_TLS_CA_FILE`. Without it the certificate is refused like any failure: a
//! 502 for a fetch, failed attempts and a dead letter for a webhook.

use serde_json::{Value, json};

use crate::common::{AppOptions, DEADLINE, eventually, spawn_app_with};
use crate::events_support::{Receiver, body, incoming, subscribe, verify, wait_for_pump};
use crate::media_support::{file_routes, noise, sha256_hex};
use crate::messages_support::{count_calls, ground_truth, ready_app_with, send, world};
use crate::tls_support::TestCa;

#[tokio::test]
async fn an_https_media_url_signed_by_the_configured_ca_arrives_byte_identical() {
    let ca = TestCa::new();
    let options = AppOptions::default()
        .var("MTGATE_MEDIA_URL_SCHEMES", "http,https")
        .var("MTGATE_TLS_CA_FILE", ca.file());
    let app = ready_app_with(options).await;
    let me = world(&app).me;
    let bytes = noise(700 * 1024, 33);
    let base = ca.serve(file_routes(bytes.clone())).await;
    let url = format!("{base}/files/report.pdf");
    assert!(url.starts_with("https://"));
    let body = json!({"peer": me, "text": "over tls", "media": {"kind": "document", "url": url}});
    let answer = send(&app, body).await;
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    assert_eq!(answer.body["media"]["file_name"], "report.pdf");
    let truth = ground_truth(&app, &me);
    assert_eq!(truth[0]["text"], "over tls");
    assert_eq!(truth[0]["media"]["sha256"], sha256_hex(&bytes));
}

#[tokio::test]
async fn an_https_media_url_from_an_untrusted_ca_is_refused_with_502_and_nothing_is_sent() {
    let ca = TestCa::new();
    let options = AppOptions::default().var("MTGATE_MEDIA_URL_SCHEMES", "https");
    let app = ready_app_with(options).await;
    let me = world(&app).me;
    let base = ca.serve(file_routes(noise(4096, 5))).await;
    let body = json!({"peer": me, "media": {"kind": "document", "url": format!("{base}/files/report.pdf")}});
    let answer = send(&app, body).await;
    answer.assert_error(502, "MEDIA_URL_FAILED");
    let message = answer.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("certificate is not trusted"), "{message}");
    assert!(message.contains("MTGATE_TLS_CA_FILE"), "{message}");
    assert!(!message.contains("127.0.0.1"), "no address in {message}");
    assert_eq!(count_calls(&app, "upload.saveFilePart"), 0);
    assert_eq!(count_calls(&app, "messages.sendMedia"), 0);
}

#[tokio::test]
async fn a_webhook_at_an_https_url_gets_signed_events_when_its_ca_is_configured() {
    let ca = TestCa::new();
    let app = spawn_app_with(AppOptions::default().var("MTGATE_TLS_CA_FILE", ca.file())).await;
    wait_for_pump(&app).await;
    let receiver = Receiver::default();
    let url = format!("{}/hook", ca.serve(receiver.router()).await);
    let hook = subscribe(&app, json!({"url": url, "events": ["message.new"]})).await;
    assert_eq!(hook["url"], url.as_str());
    let from = app.sandbox.world().others[0].clone();
    let id = incoming(&app, &from, None, "sealed").await;
    let delivery = receiver.wait_for(1).await.remove(0);
    assert!(verify(hook["secret"].as_str().unwrap(), &delivery));
    let event = body(&delivery);
    assert_eq!(event["type"], "message.new");
    assert_eq!(event["data"]["id"], id);
    assert_eq!(event["data"]["text"], "sealed");
}

#[tokio::test]
async fn a_webhook_whose_certificate_is_untrusted_fails_its_attempts_and_is_dead_lettered() {
    let ca = TestCa::new();
    let options = AppOptions::default()
        .var("MTGATE_WEBHOOK_RETRY_BASE", "5ms")
        .var("MTGATE_WEBHOOK_MAX_ATTEMPTS", "2")
        .var("MTGATE_WEBHOOK_TIMEOUT", "2s");
    let app = spawn_app_with(options).await;
    wait_for_pump(&app).await;
    let receiver = Receiver::default();
    let url = format!("{}/hook", ca.serve(receiver.router()).await);
    let hook = subscribe(&app, json!({"url": url})).await;
    let from = app.sandbox.world().others[0].clone();
    incoming(&app, &from, None, "never arrives").await;
    let path = format!("/v1/webhooks/{}/failures", hook["id"].as_str().unwrap());
    let failures = eventually(DEADLINE, "a dead letter", || async {
        let body: Value = app.get(&path).send().await.unwrap().json().await.unwrap();
        (!body["failures"].as_array().unwrap().is_empty()).then_some(body)
    })
    .await;
    let failure = &failures["failures"][0];
    assert_eq!(failure["attempts"], 2);
    let last_error = failure["last_error"].as_str().unwrap();
    assert!(
        last_error.contains("certificate is not trusted"),
        "{last_error}"
    );
    assert_eq!(
        receiver.seen.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "no request got past the handshake"
    );
}
