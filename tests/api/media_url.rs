//! A JSON send naming its file by `media.url`: fetched by mtgate from a loopback server and
//! streamed to Telegram; off unless `MTGATE_MEDIA_URL_SCHEMES` allows the scheme; size-capped.

use serde_json::json;

use crate::common::AppOptions;
use crate::media_support::*;
use crate::messages_support::{count_calls, ground_truth, ready_app, ready_app_with, send, world};

#[tokio::test]
async fn a_file_named_by_url_is_fetched_and_arrives_byte_identical() {
    let options = AppOptions::default().var("MTGATE_MEDIA_URL_SCHEMES", "http");
    let app = ready_app_with(options).await;
    let me = world(&app).me;
    let bytes = noise(900 * 1024, 21);
    let base = file_server(bytes.clone()).await;
    let body = json!({"peer": me, "text": "fetched", "media": {"kind": "document", "url": format!("{base}/files/report.pdf")}});
    let answer = send(&app, body).await;
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    assert_eq!(answer.body["media"]["file_name"], "report.pdf");
    assert_eq!(answer.body["media"]["mime_type"], "application/pdf");
    let truth = ground_truth(&app, &me);
    assert_eq!(truth[0]["text"], "fetched");
    assert_eq!(truth[0]["media"]["sha256"], sha256_hex(&bytes));

    let missing =
        json!({"peer": me, "media": {"kind": "document", "url": format!("{base}/nothing")}});
    send(&app, missing)
        .await
        .assert_error(502, "MEDIA_URL_FAILED");
    let file = json!({"peer": me, "media": {"kind": "document", "url": "file:///etc/passwd"}});
    send(&app, file)
        .await
        .assert_error(403, "MEDIA_URL_DISABLED");
    assert_eq!(count_calls(&app, "messages.sendMedia"), 1);
}

#[tokio::test]
async fn urls_are_off_unless_configured_and_refused_with_403_media_url_disabled() {
    let app = ready_app().await;
    let me = world(&app).me;
    let base = file_server(vec![1; 10]).await;
    let body = json!({"peer": me, "media": {"kind": "document", "url": format!("{base}/files/report.pdf")}});
    let answer = send(&app, body).await;
    answer.assert_error(403, "MEDIA_URL_DISABLED");
    assert!(
        answer.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("MTGATE_MEDIA_URL_SCHEMES")
    );
    assert_eq!(count_calls(&app, "upload.saveFilePart"), 0);
}

#[tokio::test]
async fn a_url_over_the_size_limit_is_refused_with_413() {
    let options = AppOptions::default()
        .var("MTGATE_MEDIA_URL_SCHEMES", "http")
        .var("MTGATE_MEDIA_MAX_BYTES", "1000");
    let app = ready_app_with(options).await;
    let me = world(&app).me;
    let base = file_server(vec![7; 1001]).await;
    let body = json!({"peer": me, "media": {"kind": "document", "url": format!("{base}/files/report.pdf")}});
    send(&app, body)
        .await
        .assert_error(413, "PAYLOAD_TOO_LARGE");
    assert_eq!(count_calls(&app, "messages.sendMedia"), 0);
}
