//! `mtgate sandbox`: runs the sandbox alone and prints how to reach it.

use std::process::ExitCode;

use crate::cli::SandboxArgs;

/// Entry point of `mtgate sandbox` (stub for now).
pub fn run(_args: SandboxArgs) -> ExitCode {
    eprintln!("mtgate sandbox: not built yet");
    ExitCode::FAILURE
}
