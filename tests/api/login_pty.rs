//! `mtgate login` driven by a person at a terminal: a real pseudo-terminal (expectrl) against
//! a real sandbox Telegram, with a wrong code, a wrong password, and Ctrl-C.

use crate::login_support;

use std::time::Duration;

use expectrl::{Eof, Session, WaitStatus};
use login_support::{
    TempDir, TestSandbox, login_command_on_terminal, sandbox_args, server_args, start_sandbox,
    status_through_service, who_is,
};

/// A login on a pseudo-terminal plus everything it has shown so far.
struct Terminal {
    session: Session,
    transcript: String,
}

impl Terminal {
    /// `mtgate login` on the sandbox's unauthorized key, API ID and hash given.
    fn spawn(sandbox: &TestSandbox, dir: &TempDir, extra: &[&str]) -> Self {
        let mut args = sandbox_args(sandbox);
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut command = login_command_on_terminal(dir.path(), &args);
        command.env("TG_API_HASH", "sandbox-api-hash");
        Self::start(command)
    }

    /// `mtgate login` on the sandbox's unauthorized key with no API ID or hash anywhere.
    fn spawn_without_credentials(sandbox: &TestSandbox, dir: &TempDir) -> Self {
        let args = server_args(sandbox, sandbox.unauthorized_session());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Self::start(login_command_on_terminal(dir.path(), &args))
    }

    fn start(command: std::process::Command) -> Self {
        let mut session = Session::spawn(command).expect("spawning mtgate on a pty");
        // A deadline for each expectation, not a sleep.
        session.set_expect_timeout(Some(Duration::from_secs(60)));
        Self {
            session,
            transcript: String::new(),
        }
    }

    /// Waits for `text` and records what was shown up to and including it.
    fn expect(&mut self, text: &str) {
        let found = self
            .session
            .expect(text)
            .unwrap_or_else(|e| panic!("waiting for {text:?}: {e}\nso far:\n{}", self.transcript));
        self.transcript
            .push_str(&String::from_utf8_lossy(found.before()));
        self.transcript.push_str(text);
    }

    fn type_line(&mut self, line: &str) {
        self.session.send_line(line).expect("typing");
    }

    /// Reads to the end and returns the exit code.
    fn finish(&mut self) -> Option<i32> {
        // Eof matches everything left unread.
        let rest = self.session.expect(Eof).expect("the process ends");
        self.transcript
            .push_str(&String::from_utf8_lossy(rest.as_bytes()));
        match self.session.get_process().wait().expect("waiting") {
            WaitStatus::Exited(_, code) => Some(code),
            other => panic!(
                "mtgate did not exit normally: {other:?}\n{}",
                self.transcript
            ),
        }
    }
}

/// The session string from a transcript's `TG_SESSION=` line.
fn session_in(transcript: &str) -> String {
    let line = transcript
        .lines()
        .find_map(|l| l.trim_end_matches('\r').strip_prefix("TG_SESSION="))
        .unwrap_or_else(|| panic!("no TG_SESSION line in:\n{transcript}"));
    line.to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_types_credentials_recovers_from_a_wrong_code_and_password_and_gets_a_working_session()
 {
    let sandbox = start_sandbox().await;
    let dir = TempDir::new("pty");
    let (phone, code, password) = (sandbox.phone(), sandbox.login_code(), sandbox.password());
    let wrong_password = "not-the-sandbox-password";
    let api_hash = "0123456789abcdef0123456789abcdef";
    let mut terminal = Terminal::spawn_without_credentials(&sandbox, &dir);

    let (transcript, exit) = tokio::task::spawn_blocking(move || {
        terminal.expect("https://my.telegram.org");
        terminal.expect("API ID: ");
        terminal.type_line("1");
        terminal.expect("API hash (not shown): ");
        terminal.type_line(api_hash);
        terminal.expect("Phone number");
        terminal.type_line(&phone);
        terminal.expect("Login code: ");
        terminal.type_line("54321");
        terminal.expect("That code is wrong");
        terminal.expect("Login code: ");
        terminal.type_line(code);
        terminal.expect("hint: the sandbox default");
        terminal.expect("2FA password (not shown): ");
        terminal.type_line(wrong_password);
        terminal.expect("That password is wrong");
        terminal.expect("2FA password (not shown): ");
        terminal.type_line(password);
        terminal.expect("Logged in as Sandy Box (@sandy");
        let exit = terminal.finish();
        (terminal.transcript, exit)
    })
    .await
    .unwrap();

    assert_eq!(exit, Some(0), "transcript:\n{transcript}");
    // The terminal echoes typed input (the wrong code shows up) but never the passwords.
    assert!(transcript.contains("54321"), "echo is on:\n{transcript}");
    assert!(
        !transcript.contains(sandbox.password()),
        "password shown:\n{transcript}"
    );
    assert!(
        !transcript.contains(wrong_password),
        "password shown:\n{transcript}"
    );
    assert!(
        !transcript.contains(api_hash),
        "API hash shown:\n{transcript}"
    );

    let session = session_in(&transcript);
    let (id, username) = who_is(&session, 1).await;
    assert_eq!(id, mtgate_sandbox::world::fixture::ME_ID);
    assert_eq!(username.as_deref(), Some("sandy"));

    // And the service started with it reports the sandbox user.
    let status = status_through_service(&sandbox, &session).await;
    assert_eq!(status["status"], "connected");
    assert_eq!(status["user_id"], mtgate_sandbox::world::fixture::ME_ID);
    assert_eq!(status["username"], "sandy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_at_the_code_prompt_exits_130_without_a_session() {
    let sandbox = start_sandbox().await;
    let dir = TempDir::new("pty-ctrl-c");
    let phone = sandbox.phone();
    let mut terminal = Terminal::spawn(&sandbox, &dir, &["--phone", &phone]);

    let (transcript, exit) = tokio::task::spawn_blocking(move || {
        terminal.expect("Login code: ");
        terminal.session.send("\x03").expect("typing Ctrl-C");
        let exit = terminal.finish();
        (terminal.transcript, exit)
    })
    .await
    .unwrap();

    assert_eq!(exit, Some(130), "transcript:\n{transcript}");
    assert!(transcript.contains("interrupted"), "{transcript}");
    assert!(!transcript.contains("TG_SESSION"), "{transcript}");
    assert!(!transcript.contains("Logged in"), "{transcript}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_at_the_hidden_password_prompt_exits_130_and_gives_the_echo_back() {
    let sandbox = start_sandbox().await;
    let dir = TempDir::new("pty-ctrl-c-pw");
    let (phone, code) = (sandbox.phone(), sandbox.login_code());
    let mut terminal = Terminal::spawn(&sandbox, &dir, &["--phone", &phone]);

    let (transcript, exit, echo_after) = tokio::task::spawn_blocking(move || {
        terminal.expect("Login code: ");
        terminal.type_line(code);
        terminal.expect("2FA password (not shown): ");
        terminal.session.send("\x03").expect("typing Ctrl-C");
        let exit = terminal.finish();
        let echo = terminal
            .session
            .get_process()
            .get_echo()
            .expect("reading the tty");
        (terminal.transcript, exit, echo)
    })
    .await
    .unwrap();

    assert_eq!(exit, Some(130), "transcript:\n{transcript}");
    assert!(!transcript.contains("TG_SESSION"), "{transcript}");
    assert!(echo_after, "the terminal is left with echo off");
}
