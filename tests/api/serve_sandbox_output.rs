//! What `mtgate serve --sandbox` shows. At a terminal (a real pseudo-terminal): the JSON line
//! first, then a banner with every address, the key and a curl that works when pasted; logs
//! human-readable, not JSON; Ctrl-C stops it cleanly. Into pipes: two stdout lines, and
//! `pretty` logs without colour codes.

use crate::common::TempDir;

use std::time::Duration;

use expectrl::{Eof, Session, WaitStatus};
use reqwest::StatusCode;
use serde_json::Value;

const MTGATE: &str = env!("CARGO_BIN_EXE_mtgate");

/// Runs `mtgate serve --sandbox ARGS` on a pty in an empty directory.
fn spawn_on_terminal(dir: &TempDir, args: &[&str]) -> Session {
    let mut command = std::process::Command::new(MTGATE);
    command
        .args(["serve", "--sandbox"])
        .args(args)
        .current_dir(dir.path())
        .env_remove("MTGATE_LISTEN")
        .env_remove("MTGATE_LOG_FORMAT")
        .env_remove("MTGATE_STATE_DIR")
        .env("RUST_LOG", "info");
    let mut session = Session::spawn(command).expect("spawning mtgate on a pty");
    // A deadline for each expectation, not a sleep.
    session.set_expect_timeout(Some(Duration::from_secs(60)));
    session
}

/// Waits for `text`, returning everything shown before it.
fn expect(session: &mut Session, text: &str) -> String {
    let found = session
        .expect(text)
        .unwrap_or_else(|e| panic!("waiting for {text:?}: {e}"));
    String::from_utf8_lossy(found.before()).into_owned()
}

#[tokio::test]
async fn on_a_terminal_serve_sandbox_shows_a_banner_apart_from_readable_logs() {
    let dir = TempDir::new("serve-pty");
    let mut terminal = spawn_on_terminal(&dir, &["--listen", "127.0.0.1:0"]);
    let before_banner = expect(&mut terminal, "mtgate is serving a sandbox Telegram");
    let json_line = before_banner
        .lines()
        .find(|line| line.starts_with('{') && line.contains("\"base_url\""))
        .unwrap_or_else(|| panic!("no JSON line before the banner:\n{before_banner}"));
    let line: Value = serde_json::from_str(json_line.trim()).expect("the JSON line parses");
    let base_url = line["base_url"].as_str().unwrap().to_string();
    let api_key = line["api_key"].as_str().unwrap().to_string();
    let control_url = line["control_url"].as_str().unwrap().to_string();

    let banner = expect(&mut terminal, "Ctrl-C stops.");
    for part in [
        format!("Base URL     {base_url}"),
        format!("API key      {api_key}"),
        format!("Control URL  {control_url}"),
        format!("curl -sS -X POST '{base_url}/v1/messages'"),
    ] {
        assert!(banner.contains(&part), "{part:?} missing from:\n{banner}");
    }
    // Logs on a terminal are for people: no bunyan JSON lines among them.
    assert!(
        !before_banner.contains("\"msg\":"),
        "JSON logs on a terminal:\n{before_banner}"
    );
    assert!(
        before_banner.contains("INFO"),
        "readable logs expected:\n{before_banner}"
    );

    // The banner's curl example, sent as pasted: it reaches the sandbox.
    let body = banner
        .lines()
        .find_map(|l| l.trim().strip_prefix("curl -sS -X POST"))
        .and_then(|l| l.rsplit_once(" -d '"))
        .map(|(_, rest)| rest.trim_end().trim_end_matches('\'').to_string())
        .expect("the curl line has a body");
    let client = reqwest::Client::new();
    let sent = client
        .post(format!("{base_url}/v1/messages"))
        .bearer_auth(&api_key)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), StatusCode::CREATED);
    let held: Value = client
        .get(format!("{control_url}/chats/@sandy/messages"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(held[0]["text"], "Hello from mtgate!");

    terminal.send("\x03").expect("typing Ctrl-C");
    terminal.expect(Eof).expect("mtgate ends");
    match terminal.get_process().wait().expect("waiting") {
        WaitStatus::Exited(_, code) => assert_eq!(code, 0),
        other => panic!("mtgate did not exit normally: {other:?}"),
    }
}

#[tokio::test]
async fn pretty_logs_into_a_pipe_carry_no_colour_codes_and_stdout_stays_two_lines() {
    use crate::common::{DEADLINE, MtgateProcess, eventually};
    let vars = [
        ("MTGATE_LISTEN", "127.0.0.1:0"),
        ("MTGATE_LOG_FORMAT", "pretty"),
        ("RUST_LOG", "info"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()));
    let mut process = MtgateProcess::spawn(&["serve", "--sandbox"], &vars);
    let lines = eventually(DEADLINE, "the JSON line and the curl line", || async {
        let lines = process.stdout_lines();
        (lines.len() >= 2).then_some(lines)
    })
    .await;
    let line: Value = serde_json::from_str(&lines[0]).expect("the JSON line");
    assert!(line["control_url"].as_str().unwrap().starts_with("http://"));
    assert!(lines[1].starts_with("curl "), "{}", lines[1]);
    let logs = process.stderr();
    assert!(logs.contains("INFO"), "pretty logs expected:\n{logs}");
    assert!(!logs.contains('\u{1b}'), "colour codes in a pipe:\n{logs}");
    process.terminate();
    assert_eq!(process.wait_for_exit(DEADLINE).await.code(), Some(0));
    assert_eq!(process.stdout_lines().len(), 2, "nothing else on stdout");
}
