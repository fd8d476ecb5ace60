//! An unexpected Telegram failure is logged with the request id (and without the message
//! text), as the real binary writes its JSON logs.

use crate::common;

use common::{DEADLINE, MtgateProcess, TempDir, base_vars, eventually, random_api_key};
use mtgate_sandbox::harness::Sandbox;
use serde_json::{Value, json};

#[tokio::test]
async fn an_unexpected_telegram_error_is_logged_with_the_request_id_but_not_the_text() {
    let sandbox = Sandbox::start().await.unwrap();
    let state_dir = TempDir::new("logging");
    let key = random_api_key();
    let process = MtgateProcess::spawn(&["serve"], &base_vars(&sandbox, state_dir.path(), &key));
    let address = process.wait_for_listen_address().await;
    let client = reqwest::Client::new();
    eventually(DEADLINE, "mtgate to be ready", || async {
        let ready = client
            .get(format!("http://{address}/health/ready"))
            .send()
            .await;
        ready.ok().filter(|r| r.status() == 200).map(|_| ())
    })
    .await;

    let channel = sandbox.world().channel;
    sandbox
        .control()
        .inject_rpc_error("messages.sendMessage", 500, "INTERNAL_SERVER_ERROR", 1);
    let response = client
        .post(format!("http://{address}/v1/messages"))
        .bearer_auth(&key)
        .header("X-Request-Id", "req-unexpected-42")
        .json(&json!({"peer": channel, "text": "very private words"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 502);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "INTERNAL");

    let line = eventually(DEADLINE, "the error log line", || async {
        process.stderr_lines().into_iter().find_map(|line| {
            let json: Value = serde_json::from_str(&line).ok()?;
            (json["msg"]
                .as_str()
                .is_some_and(|m| m.contains("request failed unexpectedly")))
            .then_some(json)
        })
    })
    .await;
    assert_eq!(line["request_id"], "req-unexpected-42", "{line}");
    assert_eq!(line["code"], "INTERNAL", "{line}");
    assert!(!process.stderr().contains("very private words"));
}
