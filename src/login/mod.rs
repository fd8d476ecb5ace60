//! `mtgate login`: turns a phone number (or a QR scan) into a string session.
//!
//! - [`flow`]: the order of things; [`phone`] and [`qr`] the two ways in; [`password`] the
//!   2FA step both share.
//! - [`credentials`]: API ID/hash from flags, environment, `.env`, or a prompt.
//! - [`connect`]: the session and client a login runs on (test server or Telegram).
//! - [`prompt`]: questions on stderr, answered on the terminal or by stdin lines.
//! - [`output`], [`env_file`]: what a success prints and writes.
//! - [`exit`]: the one error type and the documented exit codes; [`terminal`] puts the
//!   terminal back on Ctrl-C; [`help`] the long `--help` text.
//!
//! stdout carries only the session (two lines); everything else goes to stderr, so
//! `mtgate login > session.txt` works. The code, password, API hash and auth key are never
//! printed or logged, and the password never travels in process arguments.

pub mod connect;
pub mod credentials;
pub mod env_file;
pub mod exit;
pub mod flow;
pub mod help;
pub mod output;
pub mod password;
pub mod phone;
pub mod prompt;
pub mod qr;
pub mod terminal;

use std::process::ExitCode;

use crate::cli::LoginArgs;
use exit::LoginError;
use prompt::Prompter;
use terminal::TerminalState;

/// Entry point of `mtgate login`; the exit codes are listed in [`exit`].
pub fn run(args: LoginArgs) -> ExitCode {
    let terminal = TerminalState::save();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return fail(&LoginError::Local(format!("starting the runtime: {e}"))),
    };
    let prompter = Prompter::start();
    let outcome = runtime.block_on(async {
        tokio::select! {
            biased;
            _ = tokio::signal::ctrl_c() => Err(LoginError::Interrupted),
            outcome = flow::run(&args, &prompter) => outcome,
        }
    });
    // Do not wait for the input thread or the pool: they may be blocked on a read. The
    // terminal goes back to the settings saved at start (echo on after a hidden prompt).
    runtime.shutdown_background();
    terminal.restore();
    match outcome.and_then(|outcome| finish(&args, outcome)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

/// Prints who logged in and the session, then writes `--write-env`. The session is printed
/// first so a failed write never loses a login.
fn finish(args: &LoginArgs, outcome: flow::Outcome) -> Result<(), LoginError> {
    eprintln!("{}", outcome.who.describe());
    output::print_session(&outcome.session)
        .map_err(|e| LoginError::Local(format!("printing the session failed: {e}")))?;
    if let Some(path) = &args.write_env {
        env_file::write_var(path, "TG_SESSION", &outcome.session).map_err(|e| {
            LoginError::Local(format!(
                "writing TG_SESSION to {} failed: {e}",
                path.display()
            ))
        })?;
        eprintln!("Wrote TG_SESSION to {} (mode 0600).", path.display());
    }
    Ok(())
}

fn fail(error: &LoginError) -> ExitCode {
    if matches!(error, LoginError::Interrupted) {
        // Ctrl-C usually lands mid-prompt: finish that line first.
        eprintln!();
    }
    eprintln!("mtgate login: {error}");
    ExitCode::from(error.exit_code())
}
