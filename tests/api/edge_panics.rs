//! Input grammers' text parsers would panic on is refused with 400, and the real binary's
//! stderr holds nothing but JSON log lines (no panic text, no backtrace).

use crate::common;

use common::{DEADLINE, MtgateProcess, TempDir, base_vars, eventually, random_api_key};
use mtgate_sandbox::harness::Sandbox;
use serde_json::{Value, json};

#[tokio::test]
async fn a_malformed_mention_gets_400_and_stderr_holds_only_json_lines() {
    let sandbox = Sandbox::start().await.unwrap();
    let state_dir = TempDir::new("panics");
    let key = random_api_key();
    let mut vars = base_vars(&sandbox, state_dir.path(), &key);
    vars.push(("RUST_BACKTRACE".into(), "1".into()));
    let process = MtgateProcess::spawn(&["serve"], &vars);
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

    let inputs = [
        ("markdown", "[x](tg://user?id=abc)"),
        ("markdown", "[x][r]\n\n[r]: tg://user?id=12ab"),
        ("html", r#"<a href="tg://user?id=abc">x</a>"#),
        ("html", r#"<a href="&#116;g://user?id=abc">x</a>"#),
    ];
    for (mode, text) in inputs {
        let response = client
            .post(format!("http://{address}/v1/messages"))
            .bearer_auth(&key)
            .json(&json!({"peer": "me", "text": text, "parse_mode": mode}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{mode} {text}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "INVALID_REQUEST");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("tg://user?id="),
            "{body}"
        );
    }
    let sends = sandbox
        .control()
        .requests()
        .into_iter()
        .filter(|r| r.method == "messages.sendMessage")
        .count();
    assert_eq!(sends, 0, "nothing reached Telegram");

    let lines = process.stderr_lines();
    assert!(!lines.is_empty(), "the binary logs JSON lines");
    for line in lines {
        let parsed: Result<Value, _> = serde_json::from_str(&line);
        assert!(
            parsed.is_ok_and(|v| v.is_object()),
            "not a JSON line: {line}"
        );
    }
    assert!(!process.stderr().contains("panicked"));
}
