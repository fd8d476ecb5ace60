//! Files through the outbox: a multipart (or `media.url`) enqueue uploads the files before
//! answering 202, registers them once, and the job sends them later — byte-identical (the
//! sandbox's SHA-256), as an album for several files, once per chat of a batch, after a
//! restart, and not at all when the file is over the limit.

use std::path::Path;
use std::time::Duration;

use mtgate_sandbox::harness::Sandbox;
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{AppOptions, DEADLINE, TestApp};
use crate::media_support::*;
use crate::messages_support::{Answer, count_calls, ground_truth, ready_app_with, world};
use crate::outbox_support::{outbox_options, wait_for_state};

fn photo(bytes: &[u8]) -> FilePart<'_> {
    FilePart {
        name: "chart.png",
        content_type: "image/png",
        bytes,
    }
}

async fn jobs(app: &TestApp) -> Vec<Value> {
    let answer = Answer::of(app.get("/v1/jobs").send().await.expect("GET")).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body["jobs"].as_array().cloned().unwrap_or_default()
}

/// The ground-truth message with this id in `peer`.
fn message(app: &TestApp, peer: &str, id: &Value) -> Value {
    ground_truth(app, peer)
        .into_iter()
        .find(|m| m["id"] == *id)
        .unwrap_or_else(|| panic!("no message {id} in {peer}"))
}

#[tokio::test]
async fn a_photo_enqueued_as_multipart_arrives_byte_identical_and_the_job_ends_sent() {
    let app = ready_app_with(outbox_options()).await;
    let channel = world(&app).channel;
    let bytes = png(640, 480, 300 * 1024);
    let body = json!({"peer": channel, "text": "**Q3** chart", "parse_mode": "markdown", "media": {"kind": "photo"}});
    let answer = send_files(&app, "/v1/outbox", &body, &[photo(&bytes)], None).await;
    assert_eq!(answer.status, 202, "{:?}", answer.body);
    let job = &answer.body["job"];
    assert_eq!(job["media"]["kind"], "photo");
    assert_eq!(job["media"]["count"], 1);
    assert_eq!(job["media"]["size"], bytes.len());
    assert_eq!(job["media"]["files"][0]["sha256"], sha256_hex(&bytes));
    assert_eq!(job["media"]["files"][0]["file_name"], "chart.png");

    let id = job["id"].as_str().unwrap();
    let sent = wait_for_state(&app, id, "sent", DEADLINE).await;
    let stored = message(&app, &channel, &sent["message_id"]);
    assert_eq!(stored["media"]["kind"], "photo");
    assert_eq!(stored["media"]["sha256"], sha256_hex(&bytes));
    assert_eq!(stored["text"], "Q3 chart");
    assert_eq!(stored["entities"][0]["type"], "bold");
    assert_eq!(stored_bytes(&app, &sha256_hex(&bytes)), bytes);
    assert_eq!(sent["media"]["files"][0]["sha256"], sha256_hex(&bytes));
    assert_eq!(count_calls(&app, "messages.uploadMedia"), 1);
    assert_eq!(count_calls(&app, "messages.sendMedia"), 1);
}

#[tokio::test]
async fn an_album_of_three_through_the_outbox_arrives_as_one_group_in_order() {
    let app = ready_app_with(outbox_options()).await;
    let group = world(&app).supergroup;
    let files: Vec<Vec<u8>> = (0..3)
        .map(|i| png(100 + i, 80, 4000 * (i as usize + 1)))
        .collect();
    let names = ["1.png", "2.png", "3.png"];
    let parts = png_parts(&files, &names);
    let body = json!({"peer": group, "media": {"kind": "photo", "caption": "trip"}});
    let answer = send_files(&app, "/v1/outbox", &body, &parts, None).await;
    assert_eq!(answer.status, 202, "{:?}", answer.body);
    assert_eq!(answer.body["job"]["media"]["count"], 3);
    let id = answer.body["job"]["id"].as_str().unwrap();
    let sent = wait_for_state(&app, id, "sent", DEADLINE).await;

    let hashes: Vec<String> = files.iter().map(|f| sha256_hex(f)).collect();
    let mut album: Vec<Value> = ground_truth(&app, &group)
        .into_iter()
        .filter(|m| hashes.iter().any(|h| m["media"]["sha256"] == *h))
        .collect();
    album.sort_by_key(|m| m["id"].as_i64());
    assert_eq!(album.len(), 3, "{album:?}");
    assert_eq!(sent["message_id"], album[0]["id"]);
    assert_eq!(album[0]["text"], "trip");
    assert!(album[0]["grouped_id"].is_i64(), "{album:?}");
    for (stored, hash) in album.iter().zip(&hashes) {
        assert_eq!(stored["grouped_id"], album[0]["grouped_id"]);
        assert_eq!(
            stored["media"]["sha256"], *hash,
            "the files keep their order"
        );
    }
    assert_eq!(count_calls(&app, "messages.sendMultiMedia"), 1);
}

#[tokio::test]
async fn a_batch_with_one_document_gives_every_chat_the_same_bytes_from_one_upload() {
    let app = ready_app_with(outbox_options()).await;
    let names = app.sandbox.world();
    let peers = [
        names.others[0].clone(),
        names.others[1].clone(),
        names.channel.clone(),
    ];
    // Two parts of 512 KiB at most.
    let bytes = noise(700 * 1024, 9);
    let body = json!({"peers": peers, "text": "report", "media": {"kind": "document", "file_name": "q3.pdf", "mime_type": "application/pdf"}});
    let file = FilePart {
        name: "upload.bin",
        content_type: "application/octet-stream",
        bytes: &bytes,
    };
    let answer = send_files(
        &app,
        "/v1/accounts/default/outbox/batch",
        &body,
        &[file],
        None,
    )
    .await;
    assert_eq!(answer.status, 202, "{:?}", answer.body);
    let jobs = answer.body["jobs"].as_array().unwrap().clone();
    assert_eq!(jobs.len(), 3);
    for (job, peer) in jobs.iter().zip(&peers) {
        let sent = wait_for_state(&app, job["id"].as_str().unwrap(), "sent", DEADLINE).await;
        let stored = message(&app, peer, &sent["message_id"]);
        assert_eq!(stored["media"]["sha256"], sha256_hex(&bytes), "{peer}");
        assert_eq!(stored["media"]["file_name"], "q3.pdf");
        assert_eq!(stored["media"]["mime_type"], "application/pdf");
        assert_eq!(stored["text"], "report");
    }
    assert_eq!(count_calls(&app, "upload.saveFilePart"), 2);
    assert_eq!(count_calls(&app, "messages.uploadMedia"), 1);
    assert_eq!(count_calls(&app, "messages.sendMedia"), 3);
}

#[tokio::test]
async fn a_file_named_by_url_is_fetched_at_enqueue_and_sent_by_the_job() {
    let app = ready_app_with(outbox_options().var("MTGATE_MEDIA_URL_SCHEMES", "http")).await;
    let me = world(&app).me;
    let bytes = noise(300 * 1024, 5);
    let base = file_server(bytes.clone()).await;
    let url = format!("{base}/files/report.pdf");
    let body = json!({"peer": me, "text": "fetched", "media": {"kind": "document", "url": url}});
    let answer = Answer::of(app.post("/v1/outbox").json(&body).send().await.unwrap()).await;
    assert_eq!(answer.status, 202, "{:?}", answer.body);
    let job = &answer.body["job"];
    assert_eq!(job["media"]["files"][0]["file_name"], "report.pdf");
    assert_eq!(job["media"]["files"][0]["mime_type"], "application/pdf");
    let sent = wait_for_state(&app, job["id"].as_str().unwrap(), "sent", DEADLINE).await;
    let stored = message(&app, &me, &sent["message_id"]);
    assert_eq!(stored["media"]["sha256"], sha256_hex(&bytes));
    assert_eq!(stored["text"], "fetched");

    // A URL that does not answer 2xx is refused before anything is stored.
    let missing =
        json!({"peer": me, "media": {"kind": "document", "url": format!("{base}/nothing")}});
    Answer::of(app.post("/v1/outbox").json(&missing).send().await.unwrap())
        .await
        .assert_error(502, "MEDIA_URL_FAILED");
    assert_eq!(jobs(&app).await.len(), 1);
}

#[tokio::test]
async fn an_over_limit_file_stores_no_job_and_a_replayed_key_does_not_upload_again() {
    let app = ready_app_with(outbox_options().var("MTGATE_MEDIA_MAX_BYTES", "100000")).await;
    let me = world(&app).me;
    let body = json!({"peer": me, "media": {"kind": "document"}});
    let big = noise(100_001, 1);
    let file = |bytes| FilePart {
        name: "a.bin",
        content_type: "application/octet-stream",
        bytes,
    };
    send_files(&app, "/v1/outbox", &body, &[file(&big)], Some("too-big"))
        .await
        .assert_error(413, "PAYLOAD_TOO_LARGE");
    // Bad forms: no file part; files without `media`.
    send_files(&app, "/v1/outbox", &body, &[], None)
        .await
        .assert_error(400, "INVALID_REQUEST");
    let no_media = json!({"peer": me, "text": "x"});
    send_files(&app, "/v1/outbox", &no_media, &[file(b"abc")], None)
        .await
        .assert_error(400, "INVALID_REQUEST");
    assert!(jobs(&app).await.is_empty());

    let fits = noise(100_000, 2);
    let first = send_files(&app, "/v1/outbox", &body, &[file(&fits)], Some("fits")).await;
    assert_eq!(first.status, 202, "{:?}", first.body);
    let uploads = count_calls(&app, "upload.saveFilePart");
    assert_eq!(count_calls(&app, "messages.uploadMedia"), 1);
    // The replay's files are neither read nor uploaded (these bytes are not even the same).
    let replay = send_files(&app, "/v1/outbox", &body, &[file(&big)], Some("fits")).await;
    assert_eq!(replay.status, 202, "{:?}", replay.body);
    assert_eq!(replay.headers["idempotent-replayed"], "true");
    assert_eq!(replay.body["job"]["id"], first.body["job"]["id"]);
    assert_eq!(count_calls(&app, "upload.saveFilePart"), uploads);
    assert_eq!(count_calls(&app, "messages.uploadMedia"), 1);
    let other = json!({"peer": me, "media": {"kind": "photo"}});
    send_files(&app, "/v1/outbox", &other, &[file(&fits)], Some("fits"))
        .await
        .assert_error(409, "IDEMPOTENCY_KEY_REUSED");
    assert_eq!(jobs(&app).await.len(), 1);
}

const NEWS_ONLY: &str = "outbox-media-news-only-key-0123456789";

/// A key that may use the channel only.
fn news_only_key(sandbox: &Sandbox, dir: &Path) -> Vec<(String, String)> {
    let path = dir.join("keys.toml");
    let channel = sandbox.world().channel;
    let text = format!(
        "[keys.news-only]\nkey = \"{NEWS_ONLY}\"\naccounts = [\"default\"]\nchats = [\"{channel}\"]\n"
    );
    std::fs::write(&path, text).expect("write the keys file");
    vec![("MTGATE_KEYS_FILE".into(), path.display().to_string())]
}

#[tokio::test]
async fn a_chat_scoped_key_cannot_enqueue_files_elsewhere_and_nothing_is_uploaded() {
    let options = AppOptions {
        sandbox_vars: Some(news_only_key),
        ..outbox_options()
    };
    let app = ready_app_with(options).await;
    let names = app.sandbox.world();
    let bytes = png(10, 10, 100);
    let body = json!({"peers": [names.channel, names.others[0]], "media": {"kind": "photo"}});
    let answer = Answer::of(
        app.request_with_key(NEWS_ONLY, Method::POST, "/v1/outbox/batch")
            .header("content-type", content_type())
            .body(form(&body, &[photo(&bytes)]))
            .send()
            .await
            .unwrap(),
    )
    .await;
    answer.assert_error(403, "KEY_SCOPE");
    assert_eq!(count_calls(&app, "upload.saveFilePart"), 0);
    assert!(jobs(&app).await.is_empty());
}

#[tokio::test]
async fn a_scheduled_file_job_is_sent_with_its_file_after_a_restart() {
    let mut app = ready_app_with(outbox_options()).await;
    let other = world(&app).other;
    let bytes = noise(200 * 1024, 11);
    let send_at = chrono::Utc::now() + chrono::Duration::seconds(3);
    let body = json!({"peer": other, "send_at": send_at.to_rfc3339(), "media": {"kind": "voice", "caption": "later"}});
    let file = FilePart {
        name: "note.ogg",
        content_type: "audio/ogg",
        bytes: &bytes,
    };
    let answer = send_files(&app, "/v1/outbox", &body, &[file], None).await;
    assert_eq!(answer.status, 202, "{:?}", answer.body);
    assert_eq!(answer.body["job"]["state"], "scheduled");
    let id = answer.body["job"]["id"].as_str().unwrap().to_owned();
    assert_eq!(count_calls(&app, "messages.sendMedia"), 0);

    app.restart().await;
    app.wait_until_healthy().await;
    let sent = wait_for_state(&app, &id, "sent", Duration::from_secs(20)).await;
    let stored = message(&app, &other, &sent["message_id"]);
    assert_eq!(stored["media"]["sha256"], sha256_hex(&bytes));
    assert_eq!(stored["text"], "later");
    assert_eq!(count_calls(&app, "messages.uploadMedia"), 1);
}

#[tokio::test]
async fn a_stale_file_reference_fails_the_job_with_media_expired() {
    let app = ready_app_with(outbox_options()).await;
    let me = world(&app).me;
    app.sandbox
        .control()
        .inject_rpc_error("messages.sendMedia", 400, "FILE_REFERENCE_EXPIRED", 1);
    let bytes = b"%PDF-1.4 tiny".to_vec();
    let body = json!({"peer": me, "media": {"kind": "document"}});
    let file = FilePart {
        name: "tiny.pdf",
        content_type: "application/pdf",
        bytes: &bytes,
    };
    let answer = send_files(&app, "/v1/outbox", &body, &[file], None).await;
    assert_eq!(answer.status, 202, "{:?}", answer.body);
    let failed = wait_for_state(
        &app,
        answer.body["job"]["id"].as_str().unwrap(),
        "failed",
        DEADLINE,
    )
    .await;
    assert_eq!(failed["error"]["code"], "MEDIA_EXPIRED");
    assert_eq!(failed["error"]["telegram"], "FILE_REFERENCE_EXPIRED");
    assert_eq!(failed["attempts"], 1);
}

#[tokio::test]
async fn a_flood_wait_on_a_file_job_parks_it_and_it_is_sent_once_afterwards() {
    let app = ready_app_with(outbox_options()).await;
    let other = world(&app).other;
    app.sandbox
        .control()
        .inject_rpc_error("messages.sendMedia", 420, "FLOOD_WAIT_1", 1);
    let bytes = png(20, 20, 1000);
    let body = json!({"peer": other, "media": {"kind": "photo"}});
    let answer = send_files(&app, "/v1/outbox", &body, &[photo(&bytes)], None).await;
    assert_eq!(answer.status, 202, "{:?}", answer.body);
    let id = answer.body["job"]["id"].as_str().unwrap();
    let sent = wait_for_state(&app, id, "sent", DEADLINE).await;
    assert_eq!(sent["attempts"], 2);
    let copies = ground_truth(&app, &other)
        .into_iter()
        .filter(|m| m["media"]["sha256"] == sha256_hex(&bytes))
        .count();
    assert_eq!(copies, 1);
    assert_eq!(count_calls(&app, "messages.uploadMedia"), 1);
}
