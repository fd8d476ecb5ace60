//! `mtgate sandbox`: runs the sandbox alone, prints how to reach it as one JSON line on
//! stdout, and serves until SIGTERM or SIGINT (exit 0).

use std::io::Write;
use std::process::ExitCode;

use super::harness::Sandbox;
use crate::cli::SandboxArgs;

/// Entry point of `mtgate sandbox`.
pub fn run(args: SandboxArgs) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("mtgate sandbox: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(serve(args))
}

async fn serve(args: SandboxArgs) -> ExitCode {
    let sandbox = match Sandbox::start_on(args.listen, args.control).await {
        Ok(sandbox) => sandbox,
        Err(err) => {
            eprintln!(
                "mtgate sandbox: cannot listen on {} / {}: {err}",
                args.listen, args.control
            );
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout().lock();
    if writeln!(stdout, "{}", sandbox.info())
        .and_then(|()| stdout.flush())
        .is_err()
    {
        eprintln!("mtgate sandbox: cannot write to stdout");
        return ExitCode::FAILURE;
    }
    drop(stdout);
    match shutdown_signal().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("mtgate sandbox: cannot wait for signals: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Resolves on the first SIGTERM or SIGINT (Ctrl-C elsewhere).
async fn shutdown_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}
