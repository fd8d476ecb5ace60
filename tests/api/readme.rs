//! The README's shell examples, run as written: the "Use it" block against a fresh
//! `serve --sandbox`, and the "Run against your own sandbox" block against `mtgate sandbox`.
//! Each command marked `# → NNN` must answer that HTTP status, so README and mtgate cannot
//! drift apart. The only change to the text: `cargo run -q --` runs the binary under test.

use crate::common::{DEADLINE, TempDir, eventually};

use std::fs::File;
use std::process::{Child, Command, Stdio};

const README: &str = include_str!("../../README.md");
const MTGATE: &str = env!("CARGO_BIN_EXE_mtgate");

/// Records every curl's status on stderr; stops at the first failing command; never leaves a
/// background mtgate behind.
const PRELUDE: &str = r#"set -e
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
trap 'exit 1' TERM
curl() { command curl --write-out '%{stderr}@status %{http_code}\n' "$@"; }
"#;

/// The first ```sh block after the heading `heading`.
fn shell_block(heading: &str) -> String {
    let mut lines = README
        .lines()
        .skip_while(|line| line.trim() != heading)
        .skip(1)
        .skip_while(|line| line.trim() != "```sh")
        .skip(1);
    let block: Vec<&str> = lines.by_ref().take_while(|line| *line != "```").collect();
    assert!(!block.is_empty(), "no ```sh block after {heading:?}");
    block.join("\n")
}

/// The status a line's `# → NNN` comment promises, and the line's code before the comment.
fn expectation(line: &str) -> Option<(u16, &str)> {
    let (code, comment) = line.rsplit_once("# → ")?;
    let status = comment.get(..3)?.parse().ok()?;
    Some((status, code))
}

/// The block as a script: binary substituted, an `@expect NNN` marker after each marked line.
fn script(block: &str) -> (String, Vec<u16>) {
    let mut expected = Vec::new();
    let mut out = String::from(PRELUDE);
    for line in block.lines() {
        let line = line.replace("cargo run -q --", &format!("'{MTGATE}'"));
        match expectation(&line) {
            Some((status, code)) => {
                expected.push(status);
                out.push_str(&format!("{code}; echo '@expect {status}' >&2\n"));
            }
            None => {
                out.push_str(&line);
                out.push('\n');
            }
        }
    }
    (out, expected)
}

/// Each `@expect` must follow a curl whose status it names (polling curls in between are
/// fine; a marked line that ran no curl is not).
fn check_statuses(stderr: &str, expected: &[u16]) {
    let mut seen = Vec::new();
    let mut last_status: Option<u16> = None;
    for line in stderr.lines() {
        if let Some(status) = line.strip_prefix("@status ") {
            last_status = Some(status.trim().parse().expect("a numeric status"));
        } else if let Some(status) = line.strip_prefix("@expect ") {
            let want: u16 = status.trim().parse().unwrap();
            let got = last_status.take();
            assert_eq!(
                got,
                Some(want),
                "command #{} of the block answered {got:?}, the README says {want}\n{stderr}",
                seen.len() + 1
            );
            seen.push(want);
        }
    }
    assert_eq!(seen, expected, "not every marked command ran:\n{stderr}");
}

/// Runs `block` with bash in a fresh directory with only PATH and `vars` set.
async fn run_block(block: &str, label: &str, vars: &[(&str, String)]) {
    for tool in ["bash", "curl", "jq"] {
        let found = Command::new(tool).arg("--version").output();
        assert!(
            found.is_ok_and(|o| o.status.success()),
            "the README examples need `{tool}` on PATH"
        );
    }
    let (script, expected) = script(block);
    let dir = TempDir::new(label);
    std::fs::write(dir.path().join("block.sh"), &script).unwrap();
    let stdout = dir.path().join("stdout");
    let stderr = dir.path().join("stderr");
    let mut command = Command::new("bash");
    command
        .arg("block.sh")
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .stdout(File::create(&stdout).unwrap())
        .stderr(File::create(&stderr).unwrap());
    for (name, value) in vars {
        command.env(name, value);
    }
    let mut child = Running(command.spawn().expect("running bash"));
    let status = eventually(DEADLINE * 4, "the README block to finish", || {
        let done = child.0.try_wait().expect("waiting for bash");
        async move { done }
    })
    .await;
    let stdout = std::fs::read_to_string(stdout).unwrap();
    let stderr = std::fs::read_to_string(stderr).unwrap();
    assert!(
        status.success(),
        "the block failed ({status}):\n--- script\n{script}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    check_statuses(&stderr, &expected);
}

/// The block's bash; a test that fails before it ends stops it (its EXIT trap then stops
/// the mtgate processes it started).
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = Command::new("kill")
                .args(["-TERM", &self.0.id().to_string()])
                .status();
            let _ = self.0.wait();
        }
    }
}

/// A port nothing listens on right now.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn the_readme_blocks_are_found_and_every_marked_command_has_a_status() {
    for heading in ["## Use it", "### Run against your own sandbox"] {
        let (script, expected) = script(&shell_block(heading));
        assert!(expected.len() >= 2, "{heading}: {expected:?}");
        assert!(script.contains(MTGATE), "{heading} runs mtgate");
        assert!(!script.contains("cargo run"), "{heading}");
    }
    assert_eq!(
        expectation("curl x   # → 201 sent"),
        Some((201, "curl x   "))
    );
    assert_eq!(expectation("curl x   # a comment"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_use_it_block_works_as_written_against_serve_sandbox() {
    let block = shell_block("## Use it");
    assert!(block.contains("before_id"), "the paging parameter is named");
    // Any free port: tests run in parallel (the README itself uses the default).
    let vars = [("MTGATE_LISTEN", "127.0.0.1:0".to_string())];
    run_block(&block, "readme-use-it", &vars).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_run_against_your_own_sandbox_block_works_as_written() {
    let block = shell_block("### Run against your own sandbox");
    let vars = [("MTGATE_LISTEN", format!("127.0.0.1:{}", free_port()))];
    run_block(&block, "readme-own-sandbox", &vars).await;
}

#[test]
fn the_readme_needs_nothing_outside_the_repository() {
    assert!(
        !README.contains("../shared"),
        "no links outside the repository"
    );
    assert!(!README.contains("CONTRACT.md"));
}

#[test]
fn statuses_match_only_when_each_marked_command_answered_its_status() {
    check_statuses(
        "@status 000\n@status 200\n@expect 200\n@status 204\n@expect 204\n",
        &[200, 204],
    );
    let wrong = std::panic::catch_unwind(|| check_statuses("@status 500\n@expect 200\n", &[200]));
    assert!(wrong.is_err(), "a different status fails");
    let no_curl = std::panic::catch_unwind(|| {
        check_statuses("@status 200\n@expect 200\n@expect 200\n", &[200, 200])
    });
    assert!(no_curl.is_err(), "a marked line without a curl fails");
    let cut_short =
        std::panic::catch_unwind(|| check_statuses("@status 200\n@expect 200\n", &[200, 201]));
    assert!(cut_short.is_err(), "a block that stopped early fails");
}
