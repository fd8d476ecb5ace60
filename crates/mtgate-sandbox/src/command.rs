//! `mtgate sandbox`: runs the sandbox alone, prints how to reach it as one JSON line on
//! stdout, and serves until SIGTERM or SIGINT (exit 0).

use std::io::Write;
use std::process::ExitCode;

use super::harness::Sandbox;
use std::net::SocketAddr;

/// Entry point of `mtgate sandbox`: the MTProto server on `listen`, the control API on
/// `control` (port 0 picks a free one), enforcing `limits` (sending rates) when given.
pub fn run(listen: SocketAddr, control: SocketAddr, limits: Option<&str>) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("mtgate sandbox: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(serve(listen, control, limits))
}

async fn serve(listen: SocketAddr, control: SocketAddr, limits: Option<&str>) -> ExitCode {
    let sandbox = match Sandbox::start_on(listen, control).await {
        Ok(sandbox) => sandbox,
        Err(err) => {
            eprintln!("mtgate sandbox: cannot listen on {err}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(rates) = limits
        && let Err(why) = sandbox.control().set_limits(rates)
    {
        eprintln!("mtgate sandbox: --limits: {why}");
        return ExitCode::from(2);
    }
    // Listen for signals before announcing readiness: a SIGTERM sent right after the JSON
    // line must end the sandbox cleanly, not kill it with the default action.
    let signals = match ShutdownSignals::install() {
        Ok(signals) => signals,
        Err(err) => {
            eprintln!("mtgate sandbox: cannot listen for signals: {err}");
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
    signals.received().await;
    drop(sandbox);
    ExitCode::SUCCESS
}

/// SIGTERM and SIGINT, registered up front (Ctrl-C on non-Unix systems).
struct ShutdownSignals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl ShutdownSignals {
    fn install() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(ShutdownSignals {
                term: signal(SignalKind::terminate())?,
                int: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        Ok(ShutdownSignals {})
    }

    /// Resolves on the first of the signals.
    async fn received(mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
        #[cfg(not(unix))]
        {
            let _ = &mut self;
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
