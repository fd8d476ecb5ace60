//! `mtgate login` failures that need no Telegram: configuration mistakes and an unreachable
//! server each end with their own exit code, before or without printing a session.

use crate::login_support;

use std::net::TcpListener;

use login_support::{TempDir, login_command, run_with_input};
use mtgate_session::{SessionFormat, StringSession};

/// A well-formed session string for `addr` with a key no server knows.
fn session_for(addr: std::net::SocketAddr) -> String {
    StringSession {
        dc_id: 2,
        addr,
        auth_key: [7u8; 256],
        format: SessionFormat::Telethon,
    }
    .to_telethon_string()
}

#[test]
fn the_help_says_where_api_credentials_come_from_and_lists_exit_codes() {
    let dir = TempDir::new("help");
    let out = run_with_input(login_command(dir.path(), &["--help"]), "");
    assert_eq!(out.code, Some(0));
    assert!(out.stdout.contains("https://my.telegram.org"));
    assert!(out.stdout.contains("API development tools"));
    assert!(out.stdout.contains("TG_API_ID"));
    assert!(out.stdout.contains("Exit codes:"));
    assert!(out.stdout.contains("130"));
}

#[test]
fn without_api_credentials_and_without_a_terminal_it_exits_2() {
    let dir = TempDir::new("nocreds");
    let out = run_with_input(login_command(dir.path(), &["--phone", "+15550000000"]), "");
    assert_eq!(out.code, Some(2), "stderr: {}", out.stderr);
    assert!(out.stderr.contains("TG_API_ID"));
    assert!(out.stdout.is_empty());
}

#[test]
fn api_credentials_are_read_from_dotenv_in_the_working_directory() {
    let dir = TempDir::new("dotenv");
    dir.write(".env", "TG_API_ID=not-a-number\nTG_API_HASH=abc\n");
    let out = run_with_input(login_command(dir.path(), &["--phone", "+15550000000"]), "");
    // The .env value was read: it is rejected for what it is, not reported missing.
    assert_eq!(out.code, Some(2), "stderr: {}", out.stderr);
    assert!(
        out.stderr.contains("TG_API_ID must be a number"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_malformed_from_session_exits_2_without_echoing_it() {
    let dir = TempDir::new("badsession");
    let bad = "1-definitely-not-a-session-string";
    let mut command = login_command(
        dir.path(),
        &["--server", "127.0.0.1:9", "--from-session", bad],
    );
    command.env("TG_API_ID", "1").env("TG_API_HASH", "hash");
    let out = run_with_input(command, "");
    assert_eq!(out.code, Some(2), "stderr: {}", out.stderr);
    assert!(out.stderr.contains("--from-session"));
    assert!(!out.stderr.contains(bad));
}

#[test]
fn a_missing_password_file_exits_2_before_connecting() {
    let dir = TempDir::new("nopwfile");
    let missing = dir.path().join("nope.txt");
    let mut command = login_command(dir.path(), &["--password-file", missing.to_str().unwrap()]);
    command.env("TG_API_ID", "1").env("TG_API_HASH", "hash");
    let out = run_with_input(command, "");
    assert_eq!(out.code, Some(2), "stderr: {}", out.stderr);
    assert!(out.stderr.contains("--password-file"));
}

#[test]
fn an_unreachable_server_exits_5_and_prints_no_session() {
    // A port that was just free: nothing listens there any more.
    let addr = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let dir = TempDir::new("unreachable");
    let session = session_for(addr);
    let mut command = login_command(
        dir.path(),
        &[
            "--server",
            &addr.to_string(),
            "--from-session",
            &session,
            "--phone",
            "+15550000000",
        ],
    );
    command.env("TG_API_ID", "1").env("TG_API_HASH", "hash");
    let out = run_with_input(command, "12345\n");
    assert_eq!(out.code, Some(5), "stderr: {}", out.stderr);
    assert!(out.stdout.is_empty());
    assert!(!out.stderr.contains(&session));
}
