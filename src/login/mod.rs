//! `mtgate login`: turns a phone number (or a QR scan) into a string session.

use std::process::ExitCode;

use crate::cli::LoginArgs;

/// Entry point of `mtgate login` (stub for now).
pub fn run(_args: LoginArgs) -> ExitCode {
    eprintln!("mtgate login: not built yet");
    ExitCode::FAILURE
}
