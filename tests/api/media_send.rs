//! `POST /v1/messages` with `multipart/form-data`: each file arrives in the sandbox
//! byte-identical (its SHA-256), big files go in big-file parts, several files form an album,
//! the size limit stops an upload with nothing sent, and a retry after a dropped connection
//! leaves exactly one message.

use serde_json::json;
use tokio::io::AsyncWriteExt;

use crate::common::{AppOptions, DEADLINE, eventually};
use crate::media_support::*;
use crate::messages_support::{count_calls, ground_truth, ready_app, ready_app_with, world};

#[tokio::test]
async fn a_photo_arrives_byte_identical_with_its_caption_and_dimensions() {
    let app = ready_app().await;
    let channel = world(&app).channel;
    let bytes = png(800, 600, 200 * 1024);
    let body = json!({"peer": channel, "media": {"kind": "photo", "caption": "**sunset**"}, "parse_mode": "markdown"});
    let file = FilePart {
        name: "sunset.png",
        content_type: "image/png",
        bytes: &bytes,
    };
    let answer = send_files(&app, "/v1/messages", &body, &[file], None).await;
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    assert_eq!(answer.body["text"], "sunset");
    assert_eq!(answer.body["media"]["kind"], "photo");
    assert_eq!(answer.body["media"]["size"], bytes.len());
    assert_eq!(answer.body["media"]["width"], 800);
    assert_eq!(answer.body["media"]["sha256"], sha256_hex(&bytes));
    assert!(answer.body.get("album").is_none());

    let truth = ground_truth(&app, &channel);
    assert_eq!(truth[0]["id"], answer.body["id"]);
    assert_eq!(truth[0]["media"]["kind"], "photo");
    assert_eq!(truth[0]["media"]["sha256"], sha256_hex(&bytes));
    assert_eq!(truth[0]["entities"][0]["type"], "bold");
    assert_eq!(stored_bytes(&app, &sha256_hex(&bytes)), bytes);
    assert_eq!(count_calls(&app, "upload.saveFilePart"), 1);
}

#[tokio::test]
async fn a_document_keeps_its_file_name_and_mime_type() {
    let app = ready_app().await;
    let other = world(&app).other;
    let bytes = noise(700 * 1024, 1);
    let body = json!({"peer": other, "media": {"kind": "document", "file_name": "Q3 report.pdf", "mime_type": "application/pdf"}});
    let file = FilePart {
        name: "upload.bin",
        content_type: "application/octet-stream",
        bytes: &bytes,
    };
    let answer = send_files(&app, "/v1/messages", &body, &[file], None).await;
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    let media = &answer.body["media"];
    assert_eq!(
        (
            media["kind"].clone(),
            media["file_name"].clone(),
            media["mime_type"].clone()
        ),
        (
            json!("document"),
            json!("Q3 report.pdf"),
            json!("application/pdf")
        )
    );
    let truth = ground_truth(&app, &other);
    assert_eq!(truth[0]["media"]["file_name"], "Q3 report.pdf");
    assert_eq!(truth[0]["media"]["mime_type"], "application/pdf");
    assert_eq!(truth[0]["media"]["sha256"], sha256_hex(&bytes));
    // 700 KiB: two 512 KiB-sized parts, the small-file way.
    assert_eq!(count_calls(&app, "upload.saveFilePart"), 2);
}

#[tokio::test]
async fn a_twenty_mib_file_goes_up_in_big_file_parts_and_arrives_whole() {
    let app = ready_app().await;
    let me = world(&app).me;
    let bytes = noise(20 * 1024 * 1024 + 4321, 2);
    let body = json!({"peer": me, "media": {"kind": "video"}, "text": "a long one"});
    let file = FilePart {
        name: "clip.mp4",
        content_type: "video/mp4",
        bytes: &bytes,
    };
    let answer = send_files(&app, "/v1/messages", &body, &[file], None).await;
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    assert_eq!(answer.body["media"]["kind"], "video");
    assert_eq!(answer.body["media"]["mime_type"], "video/mp4");
    let truth = ground_truth(&app, &me);
    assert_eq!(truth[0]["media"]["size"], bytes.len());
    assert_eq!(truth[0]["media"]["sha256"], sha256_hex(&bytes));
    assert_eq!(count_calls(&app, "upload.saveBigFilePart"), 41);
    assert_eq!(count_calls(&app, "upload.saveFilePart"), 0);
}

#[tokio::test]
async fn three_files_form_one_album_each_intact() {
    let app = ready_app().await;
    let group = world(&app).supergroup;
    let files: Vec<Vec<u8>> = (0..3)
        .map(|i| png(100 + i, 100, 5000 * (i as usize + 1)))
        .collect();
    let names = ["a.png", "b.png", "c.png"];
    let parts = png_parts(&files, &names);
    let body = json!({"peer": group, "media": {"kind": "photo"}, "text": "trip"});
    let answer = send_files(&app, "/v1/messages", &body, &parts, None).await;
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    let album = answer.body["album"].as_array().expect("an album").clone();
    assert_eq!(album.len(), 3);
    assert_eq!(answer.body["id"], album[0]["id"]);

    let truth = ground_truth(&app, &group);
    let group_id = truth[0]["grouped_id"].clone();
    assert!(group_id.is_i64(), "{truth:?}");
    for (i, bytes) in files.iter().enumerate() {
        let stored = truth
            .iter()
            .find(|m| m["id"] == album[i]["id"])
            .expect("each album message is stored");
        assert_eq!(stored["grouped_id"], group_id);
        assert_eq!(stored["media"]["sha256"], sha256_hex(bytes));
        assert_eq!(album[i]["media"]["sha256"], sha256_hex(bytes));
    }
    assert_eq!(
        truth.iter().find(|m| m["id"] == album[0]["id"]).unwrap()["text"],
        "trip"
    );
    assert_eq!(count_calls(&app, "messages.uploadMedia"), 3);
    assert_eq!(count_calls(&app, "messages.sendMultiMedia"), 1);
}

#[tokio::test]
async fn a_file_over_the_limit_is_refused_with_413_and_nothing_is_sent() {
    let options = AppOptions::default().var("MTGATE_MEDIA_MAX_BYTES", "1048576");
    let app = ready_app_with(options).await;
    let me = world(&app).me;
    let before = ground_truth(&app, &me).len();
    let bytes = noise(1024 * 1024 + 1, 3);
    let body = json!({"peer": me, "media": {"kind": "document"}});
    let file = FilePart {
        name: "big.bin",
        content_type: "application/octet-stream",
        bytes: &bytes,
    };
    let answer = send_files(&app, "/v1/messages", &body, &[file], None).await;
    answer.assert_error(413, "PAYLOAD_TOO_LARGE");
    assert_eq!(ground_truth(&app, &me).len(), before);
    assert_eq!(count_calls(&app, "messages.sendMedia"), 0);

    // Exactly at the limit is fine.
    let bytes = noise(1024 * 1024, 4);
    let file = FilePart {
        name: "fits.bin",
        content_type: "application/octet-stream",
        bytes: &bytes,
    };
    let answer = send_files(&app, "/v1/messages", &body, &[file], None).await;
    assert_eq!(answer.status, 201, "{:?}", answer.body);
}

#[tokio::test]
async fn bad_forms_are_refused_before_anything_is_sent() {
    let app = ready_app().await;
    let me = world(&app).me;
    let bytes = b"hello".to_vec();
    let file = || FilePart {
        name: "a.txt",
        content_type: "text/plain",
        bytes: &bytes,
    };
    let cases = [
        json!({"peer": me, "media": {"kind": "sticker"}}),
        json!({"peer": me, "media": {"kind": "document"}, "extra": 1}),
        json!({"peer": me, "text": "a", "media": {"kind": "document", "caption": "b"}}),
        json!({"peer": me, "media": {"kind": "document", "caption": "x".repeat(1025)}}),
        // A caption that is given is not blank (the document says so for both fields).
        json!({"peer": me, "text": "", "media": {"kind": "document"}}),
        json!({"peer": me, "media": {"kind": "document", "caption": ""}}),
        json!({"peer": me, "media": {"kind": "document", "caption": " \n"}}),
    ];
    for body in cases {
        let answer = send_files(&app, "/v1/messages", &body, &[file()], None).await;
        assert_eq!(answer.status, 400, "{body}: {:?}", answer.body);
    }
    let answer = send_files(
        &app,
        "/v1/messages",
        &json!({"peer": me, "media": {"kind": "document"}}),
        &[],
        None,
    )
    .await;
    answer.assert_error(400, "INVALID_REQUEST");
    let eleven: Vec<FilePart> = (0..11).map(|_| file()).collect();
    let answer = send_files(
        &app,
        "/v1/messages",
        &json!({"peer": me, "media": {"kind": "document"}}),
        &eleven,
        None,
    )
    .await;
    answer.assert_error(400, "INVALID_REQUEST");
    // A body that arrived whole but stops inside the form is malformed, not cut short.
    let whole = form(
        &json!({"peer": me, "media": {"kind": "document"}}),
        &[file()],
    );
    let truncated = whole[..whole.len() - BOUNDARY.len() - 8].to_vec();
    let response = app
        .post("/v1/messages")
        .header("content-type", content_type())
        .body(truncated)
        .send()
        .await
        .unwrap();
    crate::messages_support::Answer::of(response)
        .await
        .assert_error(400, "INVALID_REQUEST");
    assert_eq!(count_calls(&app, "messages.sendMedia"), 0);
    assert_eq!(count_calls(&app, "messages.sendMultiMedia"), 0);
}

#[tokio::test]
async fn the_account_route_sends_files_too() {
    let app = ready_app().await;
    let me = world(&app).me;
    let bytes = noise(1000, 5);
    let file = FilePart {
        name: "n.txt",
        content_type: "text/plain",
        bytes: &bytes,
    };
    let body = json!({"peer": me, "media": {"kind": "document"}});
    let answer = send_files(&app, "/v1/accounts/default/messages", &body, &[file], None).await;
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    assert_eq!(answer.body["media"]["file_name"], "n.txt");
    assert_eq!(answer.body["media"]["mime_type"], "text/plain");
}

#[tokio::test]
async fn a_retry_after_a_dropped_upload_leaves_exactly_one_message() {
    let app = ready_app().await;
    let me = world(&app).me;
    let before = ground_truth(&app, &me).len();
    let bytes = noise(3 * 1024 * 1024, 6);
    let body = json!({"peer": me, "media": {"kind": "document"}, "text": "once"});
    let file = FilePart {
        name: "once.bin",
        content_type: "application/octet-stream",
        bytes: &bytes,
    };
    let form = form(&body, &[file]);

    // The first attempt: headers and half the body, then the connection drops.
    let mut stream = tokio::net::TcpStream::connect(app.address).await.unwrap();
    let head = format!(
        "POST /v1/messages HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {}\r\n\
         Idempotency-Key: drop-1\r\nContent-Type: {}\r\nContent-Length: {}\r\n\r\n",
        app.api_key,
        content_type(),
        form.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&form[..form.len() / 2]).await.unwrap();
    // Parts of the first half reach Telegram before the drop.
    eventually(DEADLINE, "the first attempt uploads a part", || async {
        (count_calls(&app, "upload.saveFilePart") > 0).then_some(())
    })
    .await;
    drop(stream);

    let file = FilePart {
        name: "once.bin",
        content_type: "application/octet-stream",
        bytes: &bytes,
    };
    let answer = send_files(&app, "/v1/messages", &body, &[file], Some("drop-1")).await;
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    assert_eq!(answer.body["media"]["sha256"], sha256_hex(&bytes));
    let truth = ground_truth(&app, &me);
    assert_eq!(truth.len(), before + 1, "exactly one new message");
    assert_eq!(truth[0]["media"]["sha256"], sha256_hex(&bytes));

    // A third try with the same key replays the answer: no upload, no send.
    let uploads = count_calls(&app, "upload.saveFilePart");
    let file = FilePart {
        name: "once.bin",
        content_type: "application/octet-stream",
        bytes: &bytes,
    };
    let again = send_files(&app, "/v1/messages", &body, &[file], Some("drop-1")).await;
    assert_eq!(again.status, 201);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.body["id"], answer.body["id"]);
    assert_eq!(count_calls(&app, "upload.saveFilePart"), uploads);
    assert_eq!(ground_truth(&app, &me).len(), before + 1);
}

#[tokio::test]
async fn a_retry_after_a_failed_send_reuses_the_finished_upload() {
    let app = ready_app().await;
    let me = world(&app).me;
    let bytes = noise(600 * 1024, 7);
    let body = json!({"peer": me, "media": {"kind": "document"}});
    let file = || FilePart {
        name: "r.bin",
        content_type: "application/octet-stream",
        bytes: &bytes,
    };
    // Telegram fails the send once (an internal error: not a final answer).
    app.sandbox
        .control()
        .inject_rpc_error("messages.sendMedia", 500, "INTERNAL_SERVER_ERROR", 1);
    let first = send_files(&app, "/v1/messages", &body, &[file()], Some("fail-1")).await;
    first.assert_error(502, "INTERNAL");
    let uploads = count_calls(&app, "upload.saveFilePart");
    assert_eq!(uploads, 2);

    let retry = send_files(&app, "/v1/messages", &body, &[file()], Some("fail-1")).await;
    assert_eq!(retry.status, 201, "{:?}", retry.body);
    assert_eq!(
        count_calls(&app, "upload.saveFilePart"),
        uploads,
        "not uploaded again"
    );
    assert_eq!(
        ground_truth(&app, &me)[0]["media"]["sha256"],
        sha256_hex(&bytes)
    );
}

#[tokio::test]
async fn kinds_spoilers_and_force_document_reach_telegram_as_asked() {
    let app = ready_app().await;
    let me = world(&app).me;
    let sound = noise(3000, 8);
    let picture = png(64, 64, 1000);
    let cases = [
        (
            json!({"kind": "audio"}),
            "song.mp3",
            "audio/mpeg",
            &sound,
            "audio",
            false,
        ),
        (
            json!({"kind": "voice"}),
            "note.ogg",
            "audio/ogg",
            &sound,
            "voice",
            false,
        ),
        (
            json!({"kind": "photo", "spoiler": true}),
            "p.png",
            "image/png",
            &picture,
            "photo",
            true,
        ),
        (
            json!({"kind": "photo", "force_document": true}),
            "p.png",
            "image/png",
            &picture,
            "document",
            false,
        ),
    ];
    for (media, name, content_type, bytes, kind, spoiler) in cases {
        let body = json!({"peer": me, "media": media});
        let file = FilePart {
            name,
            content_type,
            bytes,
        };
        let answer = send_files(&app, "/v1/messages", &body, &[file], None).await;
        assert_eq!(answer.status, 201, "{media}: {:?}", answer.body);
        assert_eq!(answer.body["media"]["kind"], kind, "{media}");
        let truth = ground_truth(&app, &me);
        assert_eq!(truth[0]["media"]["kind"], kind, "{media}");
        assert_eq!(truth[0]["media"]["spoiler"], spoiler, "{media}");
        assert_eq!(truth[0]["media"]["sha256"], sha256_hex(bytes), "{media}");
    }
    let truth = ground_truth(&app, &me);
    assert_eq!(truth[0]["media"]["file_name"], "p.png");
    assert_eq!(truth[0]["media"]["mime_type"], "image/png");
}

#[tokio::test]
async fn a_chunked_upload_of_unknown_length_goes_up_as_a_streamed_big_file() {
    let app = ready_app().await;
    let me = world(&app).me;
    let bytes = noise(1024 * 1024 + 99, 9);
    let body = json!({"peer": me, "media": {"kind": "document"}});
    let file = FilePart {
        name: "stream.bin",
        content_type: "application/octet-stream",
        bytes: &bytes,
    };
    let form = form(&body, &[file]);
    let mut stream = tokio::net::TcpStream::connect(app.address).await.unwrap();
    let head = format!(
        "POST /v1/messages HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {}\r\n\
         Content-Type: {}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        app.api_key,
        content_type(),
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for chunk in form.chunks(100_000) {
        stream
            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .await
            .unwrap();
        stream.write_all(chunk).await.unwrap();
        stream.write_all(b"\r\n").await.unwrap();
    }
    stream.write_all(b"0\r\n\r\n").await.unwrap();
    let mut answer = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut stream, &mut answer)
        .await
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    let truth = ground_truth(&app, &me);
    assert_eq!(truth[0]["media"]["sha256"], sha256_hex(&bytes));
    // No length known: big-file parts, the count left open until the last one.
    assert_eq!(count_calls(&app, "upload.saveBigFilePart"), 3);
    assert_eq!(count_calls(&app, "upload.saveFilePart"), 0);
}

#[tokio::test]
async fn only_files_that_may_exceed_ten_mib_go_the_big_file_way() {
    let app = ready_app().await;
    let me = world(&app).me;
    let first = noise(6 * 1024 * 1024, 41);
    let second = noise(6 * 1024 * 1024, 42);
    let parts = [&first, &second].map(|bytes| FilePart {
        name: "half.bin",
        content_type: "application/octet-stream",
        bytes,
    });
    let body = json!({"peer": me, "media": {"kind": "document"}});
    let answer = send_files(&app, "/v1/messages", &body, &parts, None).await;
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    // The request is 12 MiB: the first file might have been all of it; the second, read
    // after 6 MiB, cannot exceed 10 MiB.
    assert_eq!(count_calls(&app, "upload.saveBigFilePart"), 12);
    assert_eq!(count_calls(&app, "upload.saveFilePart"), 12);
    let album = answer.body["album"].as_array().unwrap();
    assert_eq!(album[0]["media"]["sha256"], sha256_hex(&first));
    assert_eq!(album[1]["media"]["sha256"], sha256_hex(&second));
}
