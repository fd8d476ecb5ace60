//! `Idempotency-Key` on multipart sends, whose fingerprint is the `json` part only: a refusal
//! (maybe about the files) is not replayed to the next request with the key, which runs and
//! uploads anew; a success still is.

use serde_json::json;

use crate::media_support::*;
use crate::messages_support::{count_calls, ground_truth, ready_app, world};

#[tokio::test]
async fn a_photo_telegram_could_not_decode_does_not_answer_a_retry_with_a_real_image() {
    let app = ready_app().await;
    let me = world(&app).me;
    let body = json!({"peer": me, "media": {"kind": "photo"}});
    let garbage = noise(2000, 11);
    let bad = FilePart {
        name: "a.png",
        content_type: "image/png",
        bytes: &garbage,
    };
    let first = send_files(&app, "/v1/messages", &body, &[bad], Some("photo-1")).await;
    first.assert_error(400, "INVALID_REQUEST");
    let uploads = count_calls(&app, "upload.saveFilePart");

    let image = png(32, 16, 500);
    let good = FilePart {
        name: "a.png",
        content_type: "image/png",
        bytes: &image,
    };
    let retry = send_files(&app, "/v1/messages", &body, &[good], Some("photo-1")).await;
    assert_eq!(retry.status, 201, "{:?}", retry.body);
    assert!(retry.headers.get("idempotent-replayed").is_none());
    assert_eq!(retry.body["media"]["sha256"], sha256_hex(&image));
    assert_eq!(
        count_calls(&app, "upload.saveFilePart"),
        uploads + 1,
        "the new file is uploaded, not the refused one reused"
    );
    let truth = ground_truth(&app, &me);
    assert_eq!(truth[0]["id"], retry.body["id"]);
    assert_eq!(truth[0]["media"]["sha256"], sha256_hex(&image));

    // The success is what the key remembers now.
    let good = FilePart {
        name: "a.png",
        content_type: "image/png",
        bytes: &image,
    };
    let again = send_files(&app, "/v1/messages", &body, &[good], Some("photo-1")).await;
    assert_eq!(again.status, 201);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.body["id"], retry.body["id"]);
    assert_eq!(ground_truth(&app, &me).len(), truth.len());
}

#[tokio::test]
async fn a_form_refused_for_an_empty_file_part_does_not_answer_the_next_form_with_that_key() {
    let app = ready_app().await;
    let me = world(&app).me;
    let before = ground_truth(&app, &me).len();
    let body = json!({"peer": me, "media": {"kind": "document"}, "text": "notes"});
    let bytes = noise(1000, 12);
    let file = || FilePart {
        name: "n.bin",
        content_type: "application/octet-stream",
        bytes: &bytes,
    };
    let empty = FilePart {
        name: "e.bin",
        content_type: "application/octet-stream",
        bytes: b"",
    };
    let first = send_files(
        &app,
        "/v1/messages",
        &body,
        &[file(), empty],
        Some("empty-1"),
    )
    .await;
    first.assert_error(400, "INVALID_REQUEST");
    assert_eq!(ground_truth(&app, &me).len(), before, "nothing sent");

    let retry = send_files(&app, "/v1/messages", &body, &[file()], Some("empty-1")).await;
    assert_eq!(retry.status, 201, "{:?}", retry.body);
    assert!(retry.headers.get("idempotent-replayed").is_none());
    assert_eq!(retry.body["text"], "notes");
    assert_eq!(ground_truth(&app, &me).len(), before + 1);
}
