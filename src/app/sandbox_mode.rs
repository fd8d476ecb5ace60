//! `mtgate serve --sandbox`: an in-process sandbox Telegram, and the service against it.

use std::process::ExitCode;

use crate::config::Environment;

/// Starts the sandbox, serves against it, prints the connection JSON line and a curl example.
pub async fn run(_env: Environment) -> ExitCode {
    eprintln!("error: the sandbox is not built yet");
    ExitCode::FAILURE
}
