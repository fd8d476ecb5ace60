//! The integration-test harness: the real mtgate, in-process or as the real binary, against a
//! fresh sandbox Telegram. Every test gets its own sandbox, port (0 = random) and state
//! directory, so tests run in parallel without sharing anything.
//!
//! ```ignore
//! mod common;
//!
//! #[tokio::test]
//! async fn status_names_the_sandbox_user() {
//!     let app = common::spawn_app().await;
//!     let response = app.get("/telegram/session/status").send().await.unwrap();
//!     assert_eq!(response.status(), 200);
//! }
//! ```
//!
//! - [`spawn_app`] / [`spawn_app_with`]: the app in-process ([`TestApp`]: `get`/`post`/…
//!   with the API key, `restart()`, `health()`, direct access to the sandbox and app state).
//! - [`MtgateProcess`]: the real binary with chosen environment variables, its stderr
//!   captured (for exit codes, signals and log contents).
//! - [`eventually`]: poll a condition with a deadline instead of sleeping.
//! - [`TempDir`]: a unique directory removed on drop.
//!
//! Not every test file uses every helper.
#![allow(dead_code)]

pub mod process;

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use mtgate::api::AppState;
use mtgate::config::Config;
use mtgate::telegram::ManagerOptions;
use mtgate_sandbox::harness::Sandbox;
use mtgate_session::StringSession;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

#[allow(unused_imports)]
pub use process::MtgateProcess;

/// How long a test waits for something that should happen "soon" (a connection, a heal).
pub const DEADLINE: Duration = Duration::from_secs(15);

/// A unique temporary directory, removed (with its contents) on drop.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "mtgate-test-{label}-{}-{:016x}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::create_dir_all(&path).expect("create a temp dir");
        Self(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh random API key.
pub fn random_api_key() -> String {
    format!("test-{:032x}", rand::random::<u128>())
}

/// Polls `check` every 20 ms until it returns `Some`, or panics naming `what` at `deadline`.
pub async fn eventually<T, F, Fut>(deadline: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let until = tokio::time::Instant::now() + deadline;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        if tokio::time::Instant::now() >= until {
            panic!("timed out after {deadline:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Variables computed from the sandbox, with a directory to write files into.
pub type SandboxVars = fn(&Sandbox, &Path) -> Vec<(String, String)>;

/// What [`spawn_app_with`] may change from the defaults.
pub struct AppOptions {
    /// Environment-style variables applied on top of the generated ones (`TG_SESSION`,
    /// `TG_DC_ADDR`, `MTGATE_DEFAULT_PEER`, `MTGATE_FLOOD_SLEEP_MAX`, …), parsed by the real
    /// `Config::from_lookup`.
    pub vars: Vec<(String, String)>,
    /// Take the sandbox down before the app starts.
    pub sandbox_down: bool,
    /// Client manager timings.
    pub manager: ManagerOptions,
    /// More variables computed from the sandbox (e.g. an accounts file using its
    /// `other_sessions`), given a directory to write files into.
    pub sandbox_vars: Option<SandboxVars>,
}

impl Default for AppOptions {
    fn default() -> Self {
        Self {
            vars: Vec::new(),
            sandbox_down: false,
            manager: test_manager_options(),
            sandbox_vars: None,
        }
    }
}

impl AppOptions {
    pub fn var(mut self, name: &str, value: impl Into<String>) -> Self {
        self.vars.push((name.into(), value.into()));
        self
    }
}

/// Production timings, with quicker reconnect attempts so heals are seen quickly, and no
/// background liveness probe (it would add calls to the sandbox's request log at random
/// moments); tests of the probe set `liveness_interval` themselves.
pub fn test_manager_options() -> ManagerOptions {
    ManagerOptions {
        liveness_interval: Duration::from_secs(3600),
        reconnect_initial: Duration::from_millis(50),
        reconnect_max: Duration::from_millis(500),
        io_retry_delay: Duration::from_millis(50),
        ..ManagerOptions::default()
    }
}

/// The real app, in-process, on `127.0.0.1:0`, against its own sandbox.
pub struct TestApp {
    pub address: SocketAddr,
    pub base_url: String,
    pub api_key: String,
    /// A plain client; the helpers below add the API key.
    pub client: reqwest::Client,
    pub sandbox: Arc<Sandbox>,
    /// The running app's shared state (health snapshot, metrics, config).
    pub state: AppState,
    pub state_dir: Arc<TempDir>,
    options: AppOptions,
    running: Option<Running>,
}

struct Running {
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

/// A fresh sandbox and the app against it, with the defaults. Returns once HTTP is served
/// (not once Telegram is connected: use [`TestApp::wait_until_healthy`]).
pub async fn spawn_app() -> TestApp {
    spawn_app_with(AppOptions::default()).await
}

pub async fn spawn_app_with(options: AppOptions) -> TestApp {
    let sandbox = Arc::new(Sandbox::start().await.expect("start the sandbox"));
    if options.sandbox_down {
        set_sandbox_down(&sandbox, true).await;
    }
    let state_dir = Arc::new(TempDir::new("state"));
    let api_key = random_api_key();
    let (state, address, running) = start(&sandbox, &state_dir, &api_key, &options).await;
    TestApp {
        address,
        base_url: format!("http://{address}"),
        api_key,
        client: reqwest::Client::new(),
        sandbox,
        state,
        state_dir,
        options,
        running: Some(running),
    }
}

/// The variables a test app starts with: the sandbox's session, our key and state dir.
pub fn base_vars(sandbox: &Sandbox, state_dir: &Path, api_key: &str) -> Vec<(String, String)> {
    [
        ("TG_API_ID", "12345".to_string()),
        (
            "TG_API_HASH",
            "0123456789abcdef0123456789abcdef".to_string(),
        ),
        ("TG_SESSION", sandbox.session().to_string()),
        ("MTGATE_API_KEYS", api_key.to_string()),
        ("MTGATE_LISTEN", "127.0.0.1:0".to_string()),
        ("MTGATE_STATE_DIR", state_dir.display().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

async fn start(
    sandbox: &Sandbox,
    state_dir: &TempDir,
    api_key: &str,
    options: &AppOptions,
) -> (AppState, SocketAddr, Running) {
    let mut vars = base_vars(sandbox, state_dir.path(), api_key);
    vars.extend(options.vars.iter().cloned());
    if let Some(more) = options.sandbox_vars {
        vars.extend(more(sandbox, state_dir.path()));
    }
    let config = Config::from_lookup(|name| {
        vars.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    })
    .expect("a valid test config");
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .expect("bind the test listener");
    let address = listener.local_addr().unwrap();
    let state = mtgate::app::build_state_with(config, options.manager.clone())
        .await
        .expect("build the app state");
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(mtgate::app::run(listener, state.clone(), async move {
        let _ = stopped.await;
    }));
    (state, address, Running { stop, task })
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// A request with the API key (`Authorization: Bearer`).
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(&self.api_key)
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.request(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> RequestBuilder {
        self.request(Method::POST, path)
    }

    pub fn patch(&self, path: &str) -> RequestBuilder {
        self.request(Method::PATCH, path)
    }

    pub fn delete(&self, path: &str) -> RequestBuilder {
        self.request(Method::DELETE, path)
    }

    /// A request with another API key.
    pub fn request_with_key(&self, key: &str, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path)).bearer_auth(key)
    }

    /// A request without any key.
    pub fn get_anonymous(&self, path: &str) -> RequestBuilder {
        self.client.get(self.url(path))
    }

    /// `GET /health`: status code and body.
    pub async fn health(&self) -> (StatusCode, Value) {
        let response = self
            .get_anonymous("/health")
            .send()
            .await
            .expect("GET /health");
        let status = response.status();
        (status, response.json().await.expect("health is JSON"))
    }

    /// Polls `/health` until its `status` is `expected` (`healthy`, `degraded`,
    /// `unhealthy`); returns the body.
    pub async fn wait_for_health(&self, expected: &str, deadline: Duration) -> Value {
        eventually(deadline, &format!("/health to say {expected}"), || async {
            let (_, body) = self.health().await;
            (body["status"] == expected).then_some(body)
        })
        .await
    }

    /// Waits (up to [`DEADLINE`]) until the `default` account is connected to the sandbox
    /// (healthy and not in standby: with a database URL, the account connects once this
    /// process took its lease).
    pub async fn wait_until_healthy(&self) -> Value {
        eventually(DEADLINE, "/health to say healthy and connected", || async {
            let (_, body) = self.health().await;
            (body["status"] == "healthy" && body["checks"]["telegram"]["status"] == "connected")
                .then_some(body)
        })
        .await
    }

    /// Stops the app gracefully (as on SIGTERM) and starts it again with the same sandbox,
    /// state directory and key, on a new port (`address` and `base_url` change).
    pub async fn restart(&mut self) {
        self.stop().await;
        let (state, address, running) =
            start(&self.sandbox, &self.state_dir, &self.api_key, &self.options).await;
        self.state = state;
        self.address = address;
        self.base_url = format!("http://{address}");
        self.running = Some(running);
    }

    /// Graceful stop: in-flight requests finish, the client disconnects.
    pub async fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            let _ = running.stop.send(());
            running
                .task
                .await
                .expect("the app task panicked")
                .expect("the app failed");
        }
    }

    /// Takes the sandbox's MTProto server down (`true`, connections dropped, connects
    /// refused) or back up on the same port.
    pub async fn set_sandbox_down(&self, down: bool) {
        set_sandbox_down(&self.sandbox, down).await;
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            let _ = running.stop.send(());
        }
    }
}

async fn set_sandbox_down(sandbox: &Sandbox, down: bool) {
    sandbox
        .control()
        .set_down(down)
        .await
        .expect("toggle the sandbox");
}

/// The sandbox session as a Pyrogram string (current layout), which carries no address:
/// connect with `TG_DC_ADDR` set to the sandbox.
pub fn pyrogram_string(sandbox: &Sandbox, user_id: u64) -> String {
    use base64::Engine;
    let telethon = StringSession::parse(sandbox.session(), None).expect("sandbox session");
    let mut bytes = vec![telethon.dc_id as u8];
    bytes.extend_from_slice(&12345u32.to_be_bytes());
    bytes.push(0); // test_mode
    bytes.extend_from_slice(&telethon.auth_key);
    bytes.extend_from_slice(&user_id.to_be_bytes());
    bytes.push(0); // is_bot
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
