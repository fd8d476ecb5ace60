//! The two processes under test, started from the `mtgate` binary cargo built for this
//! bench: `mtgate sandbox` (on random ports, announcing itself with one JSON line) and
//! `mtgate serve` (configured only through its environment, like in production). Separate
//! processes, so the service's memory is its own. Both are killed when dropped.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The bench's own `mtgate` binary (release, since `cargo bench` builds in that profile).
const MTGATE: &str = env!("CARGO_BIN_EXE_mtgate");

/// How long either process may take to come up before the bench gives up on it.
pub const START_DEADLINE: Duration = Duration::from_secs(30);

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The JSON line `mtgate sandbox` prints (the fields this bench uses).
#[derive(Clone, Debug, Deserialize)]
pub struct SandboxInfo {
    pub mtproto_addr: String,
    pub control_url: String,
    pub session: String,
    pub world: World,
}

/// The sandbox's starting peers, as `@username`.
#[derive(Clone, Debug, Deserialize)]
pub struct World {
    pub user: String,
    pub channel: String,
    pub supergroup: String,
    /// The other users.
    /// The other users (`@username`), who can send the account messages.
    #[serde(default)]
    pub others: Vec<String>,
}

/// A running `mtgate sandbox`.
pub struct Sandbox {
    pub info: SandboxInfo,
    pub child: Child,
}

impl Sandbox {
    /// Starts the sandbox on loopback with OS-chosen ports and reads its announcement.
    pub async fn start(logs: &Path) -> Result<Self, Error> {
        let mut child = Command::new(MTGATE)
            .args([
                "sandbox",
                "--listen",
                "127.0.0.1:0",
                "--control",
                "127.0.0.1:0",
            ])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file(logs, "sandbox.log")?)
            .kill_on_drop(true)
            .spawn()?;
        let stdout = child.stdout.take().ok_or("sandbox stdout was not piped")?;
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(START_DEADLINE, lines.next_line())
            .await
            .map_err(|_| "mtgate sandbox printed no line within 30 s")??
            .ok_or("mtgate sandbox exited before printing its JSON line (see sandbox.log)")?;
        let info: SandboxInfo = serde_json::from_str(&line)
            .map_err(|e| format!("mtgate sandbox's first line is not the contract JSON: {e}"))?;
        // Keep reading so a later print can never block the sandbox on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self { info, child })
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }
}

/// A running `mtgate serve`, and how long it took to become ready.
pub struct Service {
    pub base_url: String,
    pub api_key: String,
    pub ready_after: Duration,
    pub child: Child,
    state_dir: PathBuf,
}

impl Service {
    /// Starts `mtgate serve` against the sandbox with a fresh state directory and waits for
    /// `GET /health/ready` to answer 200; `ready_after` is measured from just before the
    /// process is spawned.
    pub async fn start(sandbox: &SandboxInfo, logs: &Path, nth: usize) -> Result<Self, Error> {
        let state_dir =
            std::env::temp_dir().join(format!("mtgate-bench-{}-{nth}", std::process::id()));
        let _ = std::fs::remove_dir_all(&state_dir);
        let api_key = format!("bench-{:016x}", rand::random::<u64>());
        Self::start_with(
            sandbox,
            logs,
            &format!("serve-{nth}"),
            &state_dir,
            &api_key,
            &[],
        )
        .await
    }

    /// [`Self::start`] on a given state directory (kept as it is, so a restart finds what the
    /// previous process stored), key and extra variables; the log is `{name}.log`.
    pub async fn start_with(
        sandbox: &SandboxInfo,
        logs: &Path,
        name: &str,
        state_dir: &Path,
        api_key: &str,
        env: &[(&str, &str)],
    ) -> Result<Self, Error> {
        let port = free_port()?;
        let base_url = format!("http://127.0.0.1:{port}");
        let api_key = api_key.to_owned();
        let state_dir = state_dir.to_path_buf();
        let nth = name;
        std::fs::create_dir_all(&state_dir)?;
        let log = log_file(logs, &format!("{name}.log"))?;
        let mut command = Command::new(MTGATE);
        command
            .arg("serve")
            // The state dir is also the working directory, so no stray `.env` is read.
            .current_dir(&state_dir)
            .env("TG_API_ID", "1")
            .env("TG_API_HASH", "0123456789abcdef0123456789abcdef")
            .env("TG_SESSION", &sandbox.session)
            .env("MTGATE_LISTEN", format!("127.0.0.1:{port}"))
            .env("MTGATE_API_KEYS", &api_key)
            .env("MTGATE_STATE_DIR", &state_dir)
            .env("MTGATE_LOG_FORMAT", "json")
            .env("RUST_LOG", "warn")
            .env_remove("TG_DC_ADDR")
            .env_remove("MTGATE_DEFAULT_PEER")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true);
        let started = Instant::now();
        let mut child = command.spawn()?;
        let ready_url = format!("{base_url}/health/ready");
        let probe = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()?;
        loop {
            if let Ok(response) = probe.get(&ready_url).send().await
                && response.status() == reqwest::StatusCode::OK
            {
                break;
            }
            if let Some(status) = child.try_wait()? {
                return Err(format!("mtgate serve exited with {status} (see {nth}.log)").into());
            }
            if started.elapsed() > START_DEADLINE {
                return Err("mtgate serve was not ready within 30 s".into());
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        Ok(Self {
            base_url,
            api_key,
            ready_after: started.elapsed(),
            child,
            state_dir,
        })
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// `kill -9`, keeping the state directory (for a restart on it).
    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
    }

    /// Kills the process and removes its state directory.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
        let _ = std::fs::remove_dir_all(&self.state_dir);
    }
}

/// A port the OS just handed out on loopback. `mtgate serve` takes its address from the
/// environment and announces nothing, so the bench picks the port (a tiny race with other
/// programs binding at the same instant is accepted).
fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

pub fn log_file(dir: &Path, name: &str) -> std::io::Result<std::fs::File> {
    std::fs::File::create(dir.join(name))
}
