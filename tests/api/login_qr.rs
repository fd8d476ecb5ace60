//! `mtgate login --qr` against a real sandbox Telegram: the QR is drawn, the login is accepted
//! through the sandbox's control (as a phone scanning it would), and the printed session works.

use crate::login_support;

use std::time::{Duration, Instant};

use login_support::{
    TempDir, accept_qr_login, login_command, sandbox_args, session_from_stdout, start_sandbox,
    who_is,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scanned_qr_code_prints_a_session_that_logs_in() {
    let sandbox = start_sandbox().await;
    let dir = TempDir::new("qr");
    let mut args = sandbox_args(&sandbox);
    args.push("--qr".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut command = login_command(dir.path(), &args);
    command.env("TG_API_HASH", "sandbox-api-hash");
    let mut child = command.spawn().expect("spawning mtgate");
    drop(child.stdin.take());

    // Poll until the binary has exported a token, then accept it as a phone would.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !accept_qr_login(&sandbox) {
        assert!(
            Instant::now() < deadline,
            "no QR login token was ever exported"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "mtgate exited before showing a QR code"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "stderr: {stderr}");
    // The code was drawn on stderr with Unicode blocks, never on stdout.
    assert!(
        stderr.contains('█') && stderr.contains("Scan this"),
        "{stderr}"
    );
    assert!(!stdout.contains('█'));
    assert!(
        stderr.contains("Logged in as Sandy Box (@sandy"),
        "{stderr}"
    );

    let session = session_from_stdout(&stdout);
    let (id, username) = who_is(&session, 1).await;
    assert_eq!(id, mtgate_sandbox::world::fixture::ME_ID);
    assert_eq!(username.as_deref(), Some("sandy"));
}
