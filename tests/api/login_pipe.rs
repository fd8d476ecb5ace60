//! `mtgate login` for automation: no terminal, `--phone`, the code on stdin,
//! `--password-file`, against a real sandbox Telegram.

use crate::login_support;

use login_support::{
    TempDir, TestSandbox, login_command, run_with_input, sandbox_args, session_from_stdout,
    start_sandbox, who_is,
};

fn run_login(
    sandbox: &TestSandbox,
    dir: &TempDir,
    extra: &[&str],
    input: &str,
) -> login_support::Finished {
    let mut args = sandbox_args(sandbox);
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut command = login_command(dir.path(), &args);
    command.env("TG_API_HASH", "sandbox-api-hash");
    // The binary blocks on its own runtime; run it off the test's runtime threads.
    run_with_input(command, input)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_piped_code_and_a_password_file_print_a_session_that_logs_in() {
    let sandbox = start_sandbox().await;
    let dir = TempDir::new("pipe");
    let password_file = dir.write("2fa.txt", &format!("{}\n", sandbox.password()));
    let phone = sandbox.phone();
    let input = format!("{}\n", sandbox.login_code());
    let extra = [
        "--phone",
        phone.as_str(),
        "--password-file",
        password_file.to_str().unwrap(),
    ];
    let out = tokio::task::block_in_place(|| run_login(&sandbox, &dir, &extra, &input));

    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    let session = session_from_stdout(&out.stdout);
    assert!(
        out.stderr.contains("Logged in as Sandy Box (@sandy"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("hint: the sandbox default"),
        "{}",
        out.stderr
    );
    for secret in [sandbox.password(), session.as_str(), "sandbox-api-hash"] {
        assert!(!out.stderr.contains(secret), "stderr leaks a secret");
    }
    assert!(
        !out.stderr.contains("15550100001"),
        "stderr shows the phone"
    );

    let (id, username) = who_is(&session, 1).await;
    assert_eq!(id, mtgate_sandbox::world::fixture::ME_ID);
    assert_eq!(username.as_deref(), Some("sandy"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_piped_code_then_the_right_one_still_logs_in() {
    let sandbox = start_sandbox().await;
    let dir = TempDir::new("pipe-retry");
    let password_file = dir.write("2fa.txt", sandbox.password());
    let phone = sandbox.phone();
    let input = format!("00000\n{}\n", sandbox.login_code());
    let extra = [
        "--phone",
        phone.as_str(),
        "--password-file",
        password_file.to_str().unwrap(),
    ];
    let out = tokio::task::block_in_place(|| run_login(&sandbox, &dir, &extra, &input));

    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    assert!(out.stderr.contains("That code is wrong"), "{}", out.stderr);
    session_from_stdout(&out.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_wrong_piped_codes_exit_3_without_a_session() {
    let sandbox = start_sandbox().await;
    let dir = TempDir::new("pipe-wrong-code");
    let phone = sandbox.phone();
    let out = tokio::task::block_in_place(|| {
        run_login(
            &sandbox,
            &dir,
            &["--phone", phone.as_str()],
            "11111\n22222\n",
        )
    });
    assert_eq!(out.code, Some(3), "stderr: {}", out.stderr);
    assert!(out.stdout.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_file_exits_4_without_a_session() {
    let sandbox = start_sandbox().await;
    let dir = TempDir::new("pipe-wrong-pw");
    let password_file = dir.write("2fa.txt", "not-the-password\n");
    let phone = sandbox.phone();
    let input = format!("{}\n", sandbox.login_code());
    let extra = [
        "--phone",
        phone.as_str(),
        "--password-file",
        password_file.to_str().unwrap(),
    ];
    let out = tokio::task::block_in_place(|| run_login(&sandbox, &dir, &extra, &input));
    assert_eq!(out.code, Some(4), "stderr: {}", out.stderr);
    assert!(out.stdout.is_empty());
    assert!(!out.stderr.contains("not-the-password"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_phone_number_exits_2() {
    let sandbox = start_sandbox().await;
    let dir = TempDir::new("pipe-phone");
    let out = tokio::task::block_in_place(|| {
        run_login(&sandbox, &dir, &["--phone", "+19999999999"], "12345\n")
    });
    assert_eq!(out.code, Some(2), "stderr: {}", out.stderr);
    assert!(out.stdout.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_env_keeps_other_lines_and_makes_the_file_private() {
    use std::os::unix::fs::PermissionsExt;
    let sandbox = start_sandbox().await;
    let dir = TempDir::new("pipe-env");
    let env_path = dir.write(
        ".env.prod",
        "# prod\nTG_API_ID=1\nTG_SESSION=old\nMTGATE_API_KEYS=k1\n",
    );
    std::fs::set_permissions(&env_path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let password_file = dir.write("2fa.txt", sandbox.password());
    let phone = sandbox.phone();
    let input = format!("{}\n", sandbox.login_code());
    let extra = [
        "--phone",
        phone.as_str(),
        "--password-file",
        password_file.to_str().unwrap(),
        "--write-env",
        env_path.to_str().unwrap(),
    ];
    let out = tokio::task::block_in_place(|| run_login(&sandbox, &dir, &extra, &input));

    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    let session = session_from_stdout(&out.stdout);
    assert_eq!(
        std::fs::read_to_string(&env_path).unwrap(),
        format!("# prod\nTG_API_ID=1\nTG_SESSION={session}\nMTGATE_API_KEYS=k1\n")
    );
    let mode = std::fs::metadata(&env_path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_already_authorized_session_is_printed_back_without_asking_anything() {
    let sandbox = start_sandbox().await;
    let dir = TempDir::new("pipe-authorized");
    let mut args = vec!["--api-id".to_string(), "1".into()];
    args.extend(login_support::server_args(&sandbox, sandbox.session()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut command = login_command(dir.path(), &args);
    command.env("TG_API_HASH", "sandbox-api-hash");
    // Empty stdin: any question would end the login with exit 2.
    let out = tokio::task::block_in_place(|| run_with_input(command, ""));

    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    assert!(out.stderr.contains("already logged in"), "{}", out.stderr);
    assert_eq!(session_from_stdout(&out.stdout), sandbox.session());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn against_the_sandbox_without_from_session_it_stops_at_once_saying_what_to_pass() {
    let sandbox = start_sandbox().await;
    let dir = TempDir::new("pipe-no-key");
    let addr = sandbox.mtproto_addr().to_string();
    let phone = sandbox.phone();
    let args = [
        "--api-id",
        "1",
        "--server",
        addr.as_str(),
        "--phone",
        phone.as_str(),
    ];
    let mut command = login_command(dir.path(), &args);
    command.env("TG_API_HASH", "sandbox-api-hash");
    let started = std::time::Instant::now();
    let input = format!("{}\n", sandbox.login_code());
    let out = tokio::task::block_in_place(|| run_with_input(command, &input));
    assert_eq!(out.code, Some(2), "stderr: {}", out.stderr);
    assert!(out.stdout.is_empty());
    for words in ["sandbox", "--from-session", "unauthorized_session"] {
        assert!(out.stderr.contains(words), "{words:?} in: {}", out.stderr);
    }
    assert!(
        !out.stderr.contains("cannot reach"),
        "not a network failure: {}",
        out.stderr
    );
    // "At once": well within the login's 30-second call timeout.
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let requests = sandbox.control().requests();
    assert!(requests.is_empty(), "no API call reached the sandbox");
}
