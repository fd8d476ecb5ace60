//! `mtgate sandbox` as a user runs it: one JSON line on stdout, a working control API, and a
//! clean exit on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const DEADLINE: Duration = Duration::from_secs(15);

#[tokio::test]
async fn mtgate_sandbox_prints_its_json_line_and_exits_zero_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mtgate"))
        .args([
            "sandbox",
            "--listen",
            "127.0.0.1:0",
            "--control",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("mtgate starts");
    let stdout = child.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    });
    let line = tokio::time::timeout(DEADLINE, line)
        .await
        .expect("the JSON line comes promptly")
        .unwrap()
        .unwrap();
    let info: Value = serde_json::from_str(&line).expect("one JSON line");
    for key in [
        "mtproto_addr",
        "control_url",
        "session",
        "unauthorized_session",
        "phone",
        "login_code",
        "password",
    ] {
        assert!(info[key].is_string(), "{key} in {info}");
    }
    for key in ["user", "channel", "supergroup", "readonly_channel"] {
        assert!(
            info["world"][key].as_str().unwrap().starts_with('@'),
            "world.{key}"
        );
    }
    assert!(!info["world"]["others"].as_array().unwrap().is_empty());
    mtgate_session::StringSession::parse(info["session"].as_str().unwrap(), None)
        .expect("the session is a valid string session");

    let control = info["control_url"].as_str().unwrap();
    let requests = reqwest::get(format!("{control}/requests")).await.unwrap();
    assert_eq!(requests.status(), 200);
    assert_eq!(
        requests.json::<Value>().await.unwrap(),
        serde_json::json!([])
    );

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "mtgate sandbox did not exit on SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(status.code(), Some(0));
}
