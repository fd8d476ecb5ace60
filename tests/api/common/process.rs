//! The real `mtgate` binary as a child process, for what only a process shows: exit codes,
//! signals, and everything it writes to stderr.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{TempDir, eventually};

/// A running `mtgate` whose stdout and stderr are collected line by line.
pub struct MtgateProcess {
    child: Child,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
    stdout_done: Arc<AtomicBool>,
    stderr_done: Arc<AtomicBool>,
    /// The working directory (empty, so no stray `.env` is read).
    pub cwd: TempDir,
}

impl MtgateProcess {
    /// Runs `mtgate ARGS` with exactly `vars` as its environment (plus `PATH`), in an empty
    /// temporary working directory.
    pub fn spawn(args: &[&str], vars: &[(String, String)]) -> Self {
        let cwd = TempDir::new("cwd");
        let mut command = Command::new(env!("CARGO_BIN_EXE_mtgate"));
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .current_dir(cwd.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in vars {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("run the mtgate binary");
        let (stdout, stdout_done) = collect(child.stdout.take().expect("piped stdout"));
        let (stderr, stderr_done) = collect(child.stderr.take().expect("piped stderr"));
        Self {
            child,
            stdout,
            stderr,
            stdout_done,
            stderr_done,
            cwd,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything written to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    pub fn stderr_lines(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    pub fn stdout_lines(&self) -> Vec<String> {
        self.stdout.lock().unwrap().clone()
    }

    /// The HTTP address, read from the "mtgate is listening" log line (JSON logs).
    pub async fn wait_for_listen_address(&self) -> SocketAddr {
        eventually(super::DEADLINE, "the listening log line", || async {
            self.stderr_lines().iter().find_map(|line| {
                let json: serde_json::Value = serde_json::from_str(line).ok()?;
                (json["msg"] == "mtgate is listening")
                    .then(|| json["address"].as_str()?.parse().ok())
                    .flatten()
            })
        })
        .await
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
    }

    /// Waits for the process to exit (panics after `deadline`), then for its output to be
    /// fully read.
    pub async fn wait_for_exit(&mut self, deadline: Duration) -> ExitStatus {
        let status = eventually(deadline, "mtgate to exit", || {
            let status = self.child.try_wait().expect("wait on mtgate");
            async move { status }
        })
        .await;
        // The readers finish at EOF, right after exit.
        eventually(Duration::from_secs(5), "stdout and stderr to close", || {
            let done =
                self.stdout_done.load(Ordering::SeqCst) && self.stderr_done.load(Ordering::SeqCst);
            async move { done.then_some(()) }
        })
        .await;
        status
    }
}

impl Drop for MtgateProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

type Lines = Arc<Mutex<Vec<String>>>;

/// Collects lines from a pipe on a thread; the flag turns true at EOF.
fn collect(pipe: impl std::io::Read + Send + 'static) -> (Lines, Arc<AtomicBool>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let done = Arc::new(AtomicBool::new(false));
    let (sink, finished) = (lines.clone(), done.clone());
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            match line {
                Ok(line) => sink.lock().unwrap().push(line),
                Err(_) => break,
            }
        }
        finished.store(true, Ordering::SeqCst);
    });
    (lines, done)
}
