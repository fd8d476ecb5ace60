//! Shared by the `login_*` integration tests: running the real `mtgate login` binary in a
//! private temporary directory with a clean environment.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The binary under test.
pub const MTGATE: &str = env!("CARGO_BIN_EXE_mtgate");

/// A temporary directory removed on drop; every test gets its own.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(label: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "mtgate-login-{label}-{}-{}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes a file with owner-only permissions and returns its path.
    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `mtgate login ARGS` in `dir`, with no inherited Telegram variables, stdout and stderr
/// captured and stdin piped.
pub fn login_command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(MTGATE);
    command
        .arg("login")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    isolated(command, dir)
}

/// The same command with its stdio left alone, for running it on a pseudo-terminal.
///
/// A pty starts with echo off, but a person's terminal echoes what is typed (which is what
/// makes "the password is not shown" mean something). Echo is turned on *before* mtgate
/// starts, because mtgate saves the terminal settings at start and restores them on exit.
pub fn login_command_on_terminal(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new("sh");
    command
        .args(["-c", "stty echo && exec \"$0\" login \"$@\"", MTGATE])
        .args(args);
    isolated(command, dir)
}

/// Runs in `dir` with no inherited Telegram variables and no logs.
fn isolated(mut command: Command, dir: &Path) -> Command {
    command
        .current_dir(dir)
        .env_remove("TG_API_ID")
        .env_remove("TG_API_HASH")
        .env_remove("TG_SESSION")
        .env("RUST_LOG", "off");
    command
}

/// What a finished `mtgate login` left behind.
pub struct Finished {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the command with `input` on stdin (then closed) and waits for it.
pub fn run_with_input(mut command: Command, input: &str) -> Finished {
    use std::io::Write;
    let mut child = command.spawn().expect("spawning mtgate");
    let mut stdin = child.stdin.take().unwrap();
    // The process may exit before reading everything; a broken pipe is not a failure here.
    let _ = stdin.write_all(input.as_bytes());
    drop(stdin);
    let output = child.wait_with_output().expect("waiting for mtgate");
    Finished {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The session lines `mtgate login` prints: the string, then `TG_SESSION=` the same string.
/// Returns the string after checking the shape.
pub fn session_from_stdout(stdout: &str) -> String {
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "stdout is exactly two lines: {stdout:?}");
    assert!(lines[0].starts_with('1'), "a Telethon string starts with 1");
    assert_eq!(lines[1], format!("TG_SESSION={}", lines[0]));
    lines[0].to_owned()
}

/// The sandbox harness every login test runs against (a real MTProto server on a random
/// port with a fresh world).
pub use mtgate_sandbox::harness::Sandbox as TestSandbox;

/// Starts a sandbox for one test.
pub async fn start_sandbox() -> TestSandbox {
    TestSandbox::start().await.expect("starting the sandbox")
}

/// Accepts the pending QR login token as if the account scanned it; false while none is
/// pending yet.
pub fn accept_qr_login(sandbox: &TestSandbox) -> bool {
    sandbox.control().accept_login_token(None).is_ok()
}

/// Logs in with `session` against the sandbox at `addr` and returns `(user id, username)`
/// from `get_me`: the proof that a printed session string really works.
pub async fn who_is(session: &str, api_id: i32) -> (i64, Option<String>) {
    use grammers_client::{Client, SenderPool};
    use grammers_session::storages::MemorySession;
    let parsed = mtgate_session::StringSession::parse(session, None).expect("valid string");
    let memory = std::sync::Arc::new(MemorySession::from(parsed.to_session_data()));
    let pool = SenderPool::new(memory, api_id);
    let client = Client::new(pool.handle);
    let runner = tokio::spawn(pool.runner.run());
    let me = client
        .get_me()
        .await
        .expect("get_me with the printed session");
    client.disconnect();
    let _ = runner.await;
    (me.raw.id(), me.username().map(str::to_owned))
}

/// The login arguments that point `mtgate login` at `sandbox` on its unauthorized key.
pub fn sandbox_args(sandbox: &TestSandbox) -> Vec<String> {
    let mut args = vec!["--api-id".into(), "1".into()];
    args.extend(server_args(sandbox, sandbox.unauthorized_session()));
    args
}

/// `--server` and `--from-session` only (API credentials left to the test).
pub fn server_args(sandbox: &TestSandbox, session: &str) -> Vec<String> {
    vec![
        "--server".into(),
        sandbox.mtproto_addr().to_string(),
        "--from-session".into(),
        session.to_owned(),
    ]
}

/// Starts the real service (in-process, port 0) with `TG_SESSION = session` against the
/// sandbox, waits until `/telegram/session/status` answers 200 and returns its body — the
/// check that a printed session is one `mtgate serve` accepts.
pub async fn status_through_service(sandbox: &TestSandbox, session: &str) -> serde_json::Value {
    use std::time::{Duration, Instant};
    let state_dir = TempDir::new("service-state");
    let api_key = format!("login-test-{:032x}", rand::random::<u128>());
    let vars: Vec<(String, String)> = [
        ("TG_API_ID", "12345".to_string()),
        (
            "TG_API_HASH",
            "0123456789abcdef0123456789abcdef".to_string(),
        ),
        ("TG_SESSION", session.to_string()),
        ("MTGATE_API_KEYS", api_key.clone()),
        ("MTGATE_LISTEN", "127.0.0.1:0".to_string()),
        ("MTGATE_STATE_DIR", state_dir.path().display().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let config = mtgate::config::Config::from_lookup(|name| {
        vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    })
    .expect("the printed session is a valid TG_SESSION");
    let listener = tokio::net::TcpListener::bind(config.listen).await.unwrap();
    let address = listener.local_addr().unwrap();
    let state = mtgate::app::build_state(config)
        .await
        .expect("building the service");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let service = tokio::spawn(mtgate::app::run(listener, state, async move {
        let _ = stopped.await;
    }));

    let _ = sandbox; // the session already points at it; kept for the caller's lifetime
    let client = reqwest::Client::new();
    let url = format!("http://{address}/telegram/session/status");
    let deadline = Instant::now() + Duration::from_secs(30);
    let body = loop {
        let response = client.get(&url).bearer_auth(&api_key).send().await;
        if let Ok(response) = response
            && response.status() == 200
        {
            break response.json::<serde_json::Value>().await.unwrap();
        }
        assert!(
            Instant::now() < deadline,
            "the service never reported a connected session"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let _ = stop.send(());
    let _ = service.await;
    body
}
