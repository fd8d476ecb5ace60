//! `mtgate serve`: builds the service from config and runs it until a shutdown signal.

use std::process::ExitCode;

use crate::cli::ServeArgs;

/// Entry point of `mtgate serve` (owned by the runtime work; stub for now).
pub fn serve_command(_args: ServeArgs) -> ExitCode {
    eprintln!("mtgate serve: not built yet");
    ExitCode::FAILURE
}
