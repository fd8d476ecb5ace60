//! What only the real binary shows: startup failures (exit code 2, one line), graceful
//! SIGTERM with a request in flight, and logs free of secrets.

use crate::common;

use std::time::Duration;

use common::{DEADLINE, MtgateProcess, TempDir, base_vars, eventually, random_api_key};
use mtgate_sandbox::harness::Sandbox;
use reqwest::StatusCode;

fn vars_for(sandbox: &Sandbox, state_dir: &TempDir, key: &str) -> Vec<(String, String)> {
    let mut vars = base_vars(sandbox, state_dir.path(), key);
    vars.push(("RUST_LOG".into(), "debug".into()));
    vars
}

/// A real `mtgate serve` process against its own sandbox, ready to take requests.
struct Served {
    sandbox: Sandbox,
    /// Kept alive for as long as the process runs.
    state_dir: TempDir,
    key: String,
    process: MtgateProcess,
    client: reqwest::Client,
    base: String,
}

/// Starts a sandbox and `mtgate serve` (debug logs) and waits until it is ready.
async fn serve_ready(label: &str) -> Served {
    let sandbox = Sandbox::start().await.unwrap();
    let state_dir = TempDir::new(label);
    let key = random_api_key();
    let process = MtgateProcess::spawn(&["serve"], &vars_for(&sandbox, &state_dir, &key));
    let address = process.wait_for_listen_address().await;
    let client = reqwest::Client::new();
    let base = format!("http://{address}");
    wait_until_ready(&client, &base).await;
    Served {
        sandbox,
        state_dir,
        key,
        process,
        client,
        base,
    }
}

/// Polls `/health/ready` of the service at `base` until it answers 200.
async fn wait_until_ready(client: &reqwest::Client, base: &str) {
    eventually(DEADLINE, "ready", || async {
        let r = client
            .get(format!("{base}/health/ready"))
            .send()
            .await
            .ok()?;
        (r.status() == StatusCode::OK).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_malformed_session_fails_startup_with_exit_code_2_and_one_line() {
    let state_dir = TempDir::new("malformed");
    let vars: Vec<(String, String)> = [
        ("TG_API_ID", "12345"),
        ("TG_API_HASH", "0123456789abcdef0123456789abcdef"),
        ("TG_SESSION", "1this-is-not-a-session-string"),
        ("MTGATE_API_KEYS", "some-key"),
        ("MTGATE_LISTEN", "127.0.0.1:0"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .chain([(
        "MTGATE_STATE_DIR".to_string(),
        state_dir.path().display().to_string(),
    )])
    .collect();
    let mut process = MtgateProcess::spawn(&["serve"], &vars);
    let status = process.wait_for_exit(DEADLINE).await;
    assert_eq!(status.code(), Some(2));
    let lines = process.stderr_lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("error: TG_SESSION: "), "{}", lines[0]);
    assert!(!lines[0].contains("this-is-not-a-session-string"));
}

#[tokio::test]
async fn every_missing_variable_is_named_at_once_one_line_each_with_exit_code_2() {
    let mut process = MtgateProcess::spawn(&[], &[]);
    let status = process.wait_for_exit(DEADLINE).await;
    assert_eq!(status.code(), Some(2));
    let lines = process.stderr_lines();
    let expected = ["TG_API_ID", "TG_API_HASH", "TG_SESSION", "MTGATE_API_KEYS"];
    assert_eq!(lines.len(), expected.len(), "{lines:?}");
    for (line, var) in lines.iter().zip(expected) {
        assert!(line.starts_with(&format!("error: {var}: ")), "{line}");
    }
}

#[tokio::test]
async fn sigterm_lets_the_request_in_flight_finish_and_exits_0() {
    let Served {
        sandbox,
        state_dir: _state_dir,
        key,
        mut process,
        client,
        base,
    } = serve_ready("sigterm").await;

    // Replies are held back, so the status call stays in flight while we signal.
    sandbox.control().set_delay(Duration::from_millis(1500));
    let calls_before = sandbox.control().requests().len();
    let in_flight = tokio::spawn({
        let client = client.clone();
        let url = format!("{base}/telegram/session/status");
        let key = key.clone();
        async move { client.get(url).bearer_auth(key).send().await }
    });
    // The status call (users.getUsers), not the update pump's own background calls.
    eventually(DEADLINE, "the call to reach the sandbox", || async {
        sandbox.control().requests()[calls_before..]
            .iter()
            .any(|r| r.method == "users.getUsers")
            .then_some(())
    })
    .await;
    process.terminate();

    let response = in_flight
        .await
        .unwrap()
        .expect("the in-flight request completes");
    assert_eq!(response.status(), StatusCode::OK);
    let status = process.wait_for_exit(DEADLINE).await;
    assert_eq!(status.code(), Some(0), "{}", process.stderr());
    assert!(process.stderr().contains("disconnected from Telegram"));
}

#[tokio::test]
async fn the_logs_of_a_whole_run_hold_no_secret_phone_or_message_text() {
    let Served {
        sandbox,
        state_dir: _state_dir,
        key,
        mut process,
        client,
        base,
    } = serve_ready("logs").await;

    let status = client
        .get(format!("{base}/telegram/session/status"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(status.status(), StatusCode::OK);
    let secret_text = "confidential-message-text-4e1f";
    let user = sandbox.info()["world"]["user"]
        .as_str()
        .unwrap()
        .to_string();
    let sent = client
        .post(format!("{base}/v1/messages"))
        .bearer_auth(&key)
        .json(&serde_json::json!({ "peer": user, "text": secret_text }))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), StatusCode::CREATED);
    let held = sandbox.control().chat_messages(&user).unwrap();
    assert!(
        held.iter().any(|m| m.text == secret_text),
        "the text went through"
    );
    // An incoming message reaches mtgate as an update on the live connection.
    let other = sandbox.info()["world"]["others"][0]
        .as_str()
        .unwrap()
        .to_string();
    let incoming_text = "incoming-private-text-9b2c";
    sandbox
        .control()
        .incoming(&other, None, incoming_text)
        .unwrap();
    // Wrong key, so the key-check path logs too.
    let _ = client
        .get(format!("{base}/telegram/session/status"))
        .bearer_auth("wrong-key")
        .send()
        .await
        .unwrap();
    sandbox.control().drop_connections();
    eventually(DEADLINE, "healed after a drop", || async {
        let r = client
            .get(format!("{base}/health/ready"))
            .send()
            .await
            .ok()?;
        (r.status() == StatusCode::OK).then_some(())
    })
    .await;
    process.terminate();
    assert_eq!(process.wait_for_exit(DEADLINE).await.code(), Some(0));

    let logs = process.stderr();
    assert!(logs.contains("mtgate is listening"), "logs were captured");
    let session = sandbox.session().to_string();
    let telethon = mtgate_session::StringSession::parse(&session, None).unwrap();
    let key_hex: String = telethon.auth_key[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let phone = sandbox.info()["phone"].as_str().unwrap().to_string();
    let phone_digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let forbidden = [
        ("the session string", session[1..40].to_string()),
        ("the auth key", key_hex),
        ("the API key", key.clone()),
        (
            "the API hash",
            "0123456789abcdef0123456789abcdef".to_string(),
        ),
        ("the phone number", phone_digits),
        ("the message text", secret_text.to_string()),
        ("the incoming message text", incoming_text.to_string()),
    ];
    for (what, value) in forbidden {
        assert!(!logs.contains(&value), "the logs contain {what}");
    }
}

#[tokio::test]
async fn serve_sandbox_prints_the_json_line_and_a_curl_example_then_serves() {
    let vars = vec![
        ("MTGATE_LISTEN".to_string(), "127.0.0.1:0".to_string()),
        ("RUST_LOG".to_string(), "info".to_string()),
    ];
    let mut process = MtgateProcess::spawn(&["serve", "--sandbox"], &vars);
    let lines = eventually(DEADLINE, "the JSON line and the curl example", || async {
        let lines = process.stdout_lines();
        (lines.len() >= 2).then_some(lines)
    })
    .await;
    let first: serde_json::Value = serde_json::from_str(&lines[0]).expect("a JSON first line");
    let base_url = first["base_url"].as_str().unwrap().to_string();
    let api_key = first["api_key"].as_str().unwrap().to_string();
    assert!(base_url.starts_with("http://127.0.0.1:"), "{base_url}");
    assert!(lines[1].starts_with("curl "), "{}", lines[1]);
    assert!(lines[1].contains(&format!("{base_url}/v1/messages")));
    assert!(lines[1].contains(&api_key));

    let client = reqwest::Client::new();
    wait_until_ready(&client, &base_url).await;
    let status = client
        .get(format!("{base_url}/telegram/session/status"))
        .bearer_auth(&api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(status.status(), StatusCode::OK);
    // The curl example's body, sent as the example would.
    let body = lines[1]
        .rsplit_once(" -d '")
        .map(|(_, rest)| rest.trim_end_matches('\''))
        .unwrap();
    let sent = client
        .post(format!("{base_url}/v1/messages"))
        .bearer_auth(&api_key)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), StatusCode::CREATED);

    process.terminate();
    assert_eq!(process.wait_for_exit(DEADLINE).await.code(), Some(0));
}

#[tokio::test]
async fn a_revoked_session_logs_no_reconnect_storm() {
    let Served {
        sandbox,
        state_dir: _state_dir,
        key: _,
        mut process,
        client,
        base,
    } = serve_ready("revoked").await;

    sandbox.control().revoke_sessions();
    // Dropping the connection is what would make a naive client redial in a loop.
    sandbox.control().drop_connections();
    eventually(DEADLINE, "unhealthy", || async {
        let r = client.get(format!("{base}/health")).send().await.ok()?;
        (r.status() == StatusCode::SERVICE_UNAVAILABLE).then_some(())
    })
    .await;
    let attempts = |process: &MtgateProcess| {
        process
            .stderr_lines()
            .iter()
            .filter(|l| l.contains("\"msg\":\"[TELEGRAM_CALL - START]\""))
            .count()
    };
    let after_revocation = attempts(&process);
    assert!(after_revocation > 0, "Telegram call spans are in the logs");
    let watch_until = tokio::time::Instant::now() + Duration::from_millis(1500);
    while tokio::time::Instant::now() < watch_until {
        let more = attempts(&process) - after_revocation;
        assert!(
            more == 0,
            "{more} Telegram calls logged after the session was revoked"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let logs = process.stderr();
    assert!(
        logs.contains("not authorized"),
        "the revocation is logged once"
    );
    assert_eq!(
        logs.matches("not retrying until restarted").count(),
        1,
        "one warning, not one per attempt"
    );
    process.terminate();
    assert_eq!(process.wait_for_exit(DEADLINE).await.code(), Some(0));
}

#[tokio::test]
async fn an_unusable_state_dir_fails_startup_naming_it() {
    let sandbox = Sandbox::start().await.unwrap();
    let parent = TempDir::new("statefile");
    let not_a_dir = parent.path().join("a-file");
    std::fs::write(&not_a_dir, b"not a directory").unwrap();
    let mut vars = base_vars(&sandbox, &not_a_dir, &random_api_key());
    vars.push(("RUST_LOG".into(), "warn".into()));
    let mut process = MtgateProcess::spawn(&["serve"], &vars);
    let status = process.wait_for_exit(DEADLINE).await;
    assert_eq!(status.code(), Some(2));
    let errors: Vec<String> = process
        .stderr_lines()
        .into_iter()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("error: MTGATE_STATE_DIR: "),
        "{}",
        errors[0]
    );
}
