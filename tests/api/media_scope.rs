//! Scoped keys and media: a key limited to one chat cannot upload elsewhere or download from
//! elsewhere, a read-only key cannot upload at all but may download; nothing reaches Telegram
//! when refused.

use std::path::Path;

use mtgate_sandbox::harness::Sandbox;
use serde_json::json;

use crate::common::{AppOptions, TestApp};
use crate::media_support::*;
use crate::messages_support::{Answer, count_calls, ready_app_with, world};

const CHANNEL_ONLY: &str = "channel-only-key-0123456789";
const READER: &str = "reader-key-0123456789";

fn keys(sandbox: &Sandbox, dir: &Path) -> Vec<(String, String)> {
    let path = dir.join("keys.toml");
    let channel = sandbox.world().channel;
    let text = format!(
        "[keys.channel-only]\nkey = \"{CHANNEL_ONLY}\"\naccounts = [\"default\"]\nchats = [\"{channel}\"]\n\
         [keys.reader]\nkey = \"{READER}\"\naccounts = [\"*\"]\nread_only = true\n"
    );
    std::fs::write(&path, text).expect("write the keys file");
    vec![("MTGATE_KEYS_FILE".into(), path.display().to_string())]
}

async fn upload_as(app: &TestApp, key: &str, peer: &str, bytes: &[u8]) -> Answer {
    let body = json!({"peer": peer, "media": {"kind": "document"}});
    let file = FilePart {
        name: "s.bin",
        content_type: "application/octet-stream",
        bytes,
    };
    let response = app
        .request_with_key(key, reqwest::Method::POST, "/v1/messages")
        .header("content-type", content_type())
        .body(form(&body, &[file]))
        .send()
        .await
        .unwrap();
    Answer::of(response).await
}

#[tokio::test]
async fn scoped_keys_upload_and_download_only_where_they_may() {
    let app = ready_app_with(AppOptions {
        sandbox_vars: Some(keys),
        ..AppOptions::default()
    })
    .await;
    let names = world(&app);
    let bytes = noise(2000, 31);

    upload_as(&app, CHANNEL_ONLY, &names.me, &bytes)
        .await
        .assert_error(403, "KEY_SCOPE");
    upload_as(&app, READER, &names.channel, &bytes)
        .await
        .assert_error(403, "KEY_SCOPE");
    assert_eq!(count_calls(&app, "upload.saveFilePart"), 0);

    let sent = upload_as(&app, CHANNEL_ONLY, &names.channel, &bytes).await;
    assert_eq!(sent.status, 201, "{:?}", sent.body);
    let id = sent.body["id"].as_i64().unwrap();
    let path = format!("/v1/messages/{}/{id}/media", names.channel);
    let read = app
        .request_with_key(READER, reqwest::Method::GET, &path)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    assert_eq!(read.bytes().await.unwrap().as_ref(), bytes.as_slice());

    // Elsewhere the chat-scoped key may not read: refused before Telegram is asked.
    let mine = upload_as(&app, &app.api_key, &names.me, &bytes).await;
    let path = format!("/v1/messages/{}/{}/media", names.me, mine.body["id"]);
    let other = app
        .request_with_key(CHANNEL_ONLY, reqwest::Method::GET, &path)
        .send()
        .await
        .unwrap();
    let other = Answer::of(other).await;
    other.assert_error(403, "KEY_SCOPE");
}
