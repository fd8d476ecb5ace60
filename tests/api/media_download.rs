//! `GET /v1/messages/{peer}/{id}/media`: the same bytes back (photos and documents, across
//! several 512 KiB windows), with type, length and name headers; `Range` gives 206 with
//! `Content-Range`, or 416 outside the file; a message without media is 404.

use serde_json::json;

use crate::common::TestApp;
use crate::media_support::*;
use crate::messages_support::{get, ready_app, send_text, world};

async fn upload(app: &TestApp, peer: &str, kind: &str, file: FilePart<'_>) -> i64 {
    let body = json!({"peer": peer, "media": {"kind": kind}});
    let answer = send_files(app, "/v1/messages", &body, &[file], None).await;
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    answer.body["id"].as_i64().unwrap()
}

#[tokio::test]
async fn a_document_downloads_byte_identical_with_its_headers() {
    let app = ready_app().await;
    let channel = world(&app).channel;
    // Over two windows, not a multiple of one.
    let bytes = noise(1300 * 1024 + 17, 11);
    let file = FilePart {
        name: "data set.csv",
        content_type: "text/csv",
        bytes: &bytes,
    };
    let id = upload(&app, &channel, "document", file).await;
    let response = app
        .get(&format!("/v1/messages/{channel}/{id}/media"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "text/csv");
    assert_eq!(headers["content-length"], bytes.len().to_string().as_str());
    assert_eq!(headers["accept-ranges"], "bytes");
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.contains("filename=\"data set.csv\""),
        "{disposition}"
    );
    let body = response.bytes().await.unwrap();
    assert_eq!(sha256_hex(&body), sha256_hex(&bytes));
}

#[tokio::test]
async fn a_photo_downloads_its_largest_size() {
    let app = ready_app().await;
    let me = world(&app).me;
    let bytes = png(1920, 1080, 90 * 1024);
    let file = FilePart {
        name: "screen.png",
        content_type: "image/png",
        bytes: &bytes,
    };
    let id = upload(&app, &me, "photo", file).await;
    let response = app
        .get(&format!("/v1/messages/{me}/{id}/media"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/jpeg");
    assert_eq!(response.bytes().await.unwrap().to_vec(), bytes);
    // The history shows the photo's size and dimensions.
    let page = get(&app, &format!("/v1/messages/{me}?limit=1")).await;
    let media = &page.body["messages"][0]["media"];
    assert_eq!(
        (
            media["kind"].clone(),
            media["width"].clone(),
            media["size"].clone()
        ),
        (json!("photo"), json!(1920), json!(bytes.len()))
    );
}

#[tokio::test]
async fn ranges_give_206_and_outside_ranges_416() {
    let app = ready_app().await;
    let me = world(&app).me;
    let bytes = noise(1100 * 1024, 12);
    let file = FilePart {
        name: "r.bin",
        content_type: "application/octet-stream",
        bytes: &bytes,
    };
    let id = upload(&app, &me, "document", file).await;
    let path = format!("/v1/messages/{me}/{id}/media");
    let size = bytes.len();
    // Across the first window boundary, an open end, and a suffix.
    for (range, start, end) in [
        ("bytes=524000-525000".to_string(), 524_000, 525_000),
        (format!("bytes={}-", size - 10), size - 10, size - 1),
        ("bytes=-300".to_string(), size - 300, size - 1),
        ("bytes=0-0".to_string(), 0, 0),
    ] {
        let response = app.get(&path).header("Range", &range).send().await.unwrap();
        assert_eq!(response.status(), 206, "{range}");
        assert_eq!(
            response.headers()["content-range"],
            format!("bytes {start}-{end}/{size}").as_str()
        );
        assert_eq!(
            response.headers()["content-length"],
            (end - start + 1).to_string().as_str()
        );
        let body = response.bytes().await.unwrap();
        assert_eq!(body.as_ref(), &bytes[start..=end], "{range}");
    }
    let response = app
        .get(&path)
        .header("Range", format!("bytes={size}-"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 416);
    assert_eq!(
        response.headers()["content-range"],
        format!("bytes */{size}").as_str()
    );
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "RANGE_NOT_SATISFIABLE");
}

#[tokio::test]
async fn a_message_without_media_is_not_found() {
    let app = ready_app().await;
    let me = world(&app).me;
    let sent = send_text(&app, &me, "just text").await;
    let id = sent["id"].as_i64().unwrap();
    let answer = get(&app, &format!("/v1/messages/{me}/{id}/media")).await;
    answer.assert_error(404, "MESSAGE_NOT_FOUND");
    let answer = get(&app, &format!("/v1/messages/{me}/999999/media")).await;
    answer.assert_error(404, "MESSAGE_NOT_FOUND");
    let answer = get(&app, &format!("/v1/messages/{me}/abc/media")).await;
    answer.assert_error(400, "INVALID_REQUEST");
}

#[tokio::test]
async fn a_download_longer_than_the_idle_timeout_is_not_cut_off() {
    let options = crate::common::AppOptions::default().var("MTGATE_HTTP_IDLE_TIMEOUT", "300ms");
    let app = crate::messages_support::ready_app_with(options).await;
    let me = world(&app).me;
    let bytes = noise(3 * 1024 * 1024, 13);
    let file = FilePart {
        name: "slow.bin",
        content_type: "application/octet-stream",
        bytes: &bytes,
    };
    let id = upload(&app, &me, "document", file).await;
    // Every Telegram answer now takes 250 ms: six windows take well over the idle timeout.
    app.sandbox
        .control()
        .set_delay(std::time::Duration::from_millis(250));
    let started = std::time::Instant::now();
    let response = app
        .get(&format!("/v1/messages/{me}/{id}/media"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body = response.bytes().await.expect("the whole body arrives");
    assert!(started.elapsed() > std::time::Duration::from_millis(600));
    assert_eq!(sha256_hex(&body), sha256_hex(&bytes));
}
