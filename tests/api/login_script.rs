//! `scripts/generate_session.sh`, the developers' entry point to `mtgate login`, run as a
//! developer runs it, against a real sandbox Telegram.
//!
//! The script builds mtgate with cargo when cargo is on `PATH`. These tests give it a `PATH`
//! without cargo, so it takes the already-built binary (the one this test suite built) and
//! the test never starts a second build inside the running one.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::login_support;

use login_support::{
    MTGATE, TempDir, run_with_input, sandbox_args, session_from_stdout, start_sandbox, who_is,
};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/generate_session.sh");

/// The script with `args`, run by bash from `dir`, with a `PATH` holding only `dirname`
/// (what the script calls besides bash's builtins) and the target directory this test
/// suite's `mtgate` lives in.
fn script_command(dir: &TempDir, args: &[&str]) -> Command {
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let dirname = bin.join("dirname");
    if !dirname.exists() {
        std::os::unix::fs::symlink(on_path("dirname"), &dirname).unwrap();
    }
    let binary = Path::new(MTGATE);
    let profile = binary.parent().expect("the binary's profile directory");
    let target = profile.parent().expect("the target directory");
    let mut command = Command::new(on_path("bash"));
    command
        .arg(SCRIPT)
        .args(args)
        .current_dir(dir.path())
        .env("PATH", &bin)
        .env("CARGO_TARGET_DIR", target)
        .env("MTGATE_PROFILE", profile.file_name().unwrap())
        .env_remove("TG_API_ID")
        .env_remove("TG_API_HASH")
        .env_remove("TG_SESSION")
        .env("RUST_LOG", "off")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Where `program` is on this process's `PATH`.
fn on_path(program: &str) -> PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").expect("PATH is set"))
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
        .unwrap_or_else(|| panic!("{program} is not on PATH"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_script_logs_in_and_prints_only_the_session_on_stdout() {
    let sandbox = start_sandbox().await;
    let dir = TempDir::new("script");
    let password_file = dir.write("2fa.txt", &format!("{}\n", sandbox.password()));
    let phone = sandbox.phone();
    let mut args = sandbox_args(&sandbox);
    args.extend([
        "--phone".to_string(),
        phone.clone(),
        "--password-file".to_string(),
        password_file.to_str().unwrap().to_string(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut command = script_command(&dir, &args);
    command.env("TG_API_HASH", "sandbox-api-hash");
    let input = format!("{}\n", sandbox.login_code());
    let out = tokio::task::block_in_place(|| run_with_input(command, &input));

    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    let session = session_from_stdout(&out.stdout);
    assert!(
        out.stderr.contains("cargo not found; using the existing"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("Logged in as Sandy Box (@sandy"),
        "{}",
        out.stderr
    );
    for secret in [sandbox.password(), session.as_str(), phone.as_str()] {
        assert!(!out.stderr.contains(secret), "stderr leaks a secret");
    }
    let (id, username) = who_is(&session, 1).await;
    assert_eq!(id, mtgate_sandbox::world::fixture::ME_ID);
    assert_eq!(username.as_deref(), Some("sandy"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_script_passes_on_mtgate_logins_exit_code() {
    let sandbox = start_sandbox().await;
    let dir = TempDir::new("script-wrong-code");
    let phone = sandbox.phone();
    let mut args = sandbox_args(&sandbox);
    args.extend(["--phone".to_string(), phone]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut command = script_command(&dir, &args);
    command.env("TG_API_HASH", "sandbox-api-hash");
    // Only wrong codes, then end of input: `mtgate login` exits 3 (see its --help).
    let out = tokio::task::block_in_place(|| run_with_input(command, "11111\n22222\n"));

    assert_eq!(out.code, Some(3), "stderr: {}", out.stderr);
    assert!(out.stdout.is_empty(), "no session: {}", out.stdout);
}

#[test]
fn the_session_script_refuses_an_unknown_profile_with_exit_2() {
    let dir = TempDir::new("script-profile");
    let mut command = script_command(&dir, &["--help"]);
    command.env("MTGATE_PROFILE", "fast");
    let out = run_with_input(command, "");

    assert_eq!(out.code, Some(2), "stderr: {}", out.stderr);
    assert!(out.stderr.contains("MTGATE_PROFILE"), "{}", out.stderr);
    assert!(out.stdout.is_empty());
}
