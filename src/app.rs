//! `mtgate serve`: builds the service from config and runs it until a shutdown signal.
//!
//! [`run`] takes its listener and shutdown future from the caller, so tests bind port 0 and
//! stop the app whenever they like; [`serve_command`] is the binary's wiring around it.

use std::future::Future;
use std::io;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::api::AppState;
use crate::api::edge::EdgeState;
use crate::api::router::router;
use crate::cli::ServeArgs;
use crate::config::{Config, ConfigError, Environment};
use crate::idempotency::IdempotencyStore;
use crate::telegram::metrics::Metrics;
use crate::telegram::resolver::PeerResolver;
use crate::telegram::{ClientManager, ManagerOptions};

mod sandbox_mode;

/// How long in-flight requests may take to finish once shutdown starts.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// Exit code for a bad or missing variable (the contract's "exit code 2").
const EXIT_CONFIG: u8 = 2;

/// Entry point of `mtgate serve` (and of plain `mtgate`).
pub fn serve_command(args: ServeArgs) -> ExitCode {
    let env = match Environment::load() {
        Ok(env) => env,
        Err(e) => return config_failure(&e),
    };
    let config = if args.sandbox {
        None
    } else {
        match Config::from_lookup(|name| env.get(name)) {
            Ok(config) => Some(config),
            Err(e) => return config_failure(&e),
        }
    };
    let log_format = match crate::config::log_format_from(|name| env.get(name)) {
        Ok(format) => format,
        Err(e) => return config_failure(&e),
    };
    if let Err(e) = crate::telemetry::init(log_format, env.get("RUST_LOG").as_deref()) {
        return config_failure(&e);
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match config {
        Some(config) => runtime.block_on(serve(config, shutdown_signal())),
        None => runtime.block_on(sandbox_mode::run_sandboxed(env)),
    }
}

/// Binds, builds and runs the service for `config` until `shutdown` resolves.
pub async fn serve(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> ExitCode {
    let listener = match TcpListener::bind(config.listen).await {
        Ok(listener) => listener,
        Err(e) => {
            let reason = format!("cannot listen on {}: {e}", config.listen);
            return config_failure(&ConfigError::new("MTGATE_LISTEN", reason));
        }
    };
    let state = match build_state(config) {
        Ok(state) => state,
        Err(e) => return config_failure(&e),
    };
    match run(listener, state, shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: the HTTP server failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Builds the shared state with production timings. Must run inside a Tokio runtime (the
/// client manager starts connecting in the background).
pub fn build_state(config: Config) -> Result<AppState, ConfigError> {
    let options = ManagerOptions::for_config(&config);
    build_state_with(config, options)
}

/// Like [`build_state`] with explicit client manager timings (tests).
pub fn build_state_with(config: Config, options: ManagerOptions) -> Result<AppState, ConfigError> {
    let state_dir_error = |e: io::Error| {
        ConfigError::new(
            "MTGATE_STATE_DIR",
            format!("cannot use {}: {e}", config.state_dir.display()),
        )
    };
    let resolver = PeerResolver::open(&config.state_dir).map_err(state_dir_error)?;
    let telegram = ClientManager::start(&config, Arc::new(Metrics::new()), options)
        .map_err(state_dir_error)?;
    let edge = Arc::new(EdgeState::new(config.edge.clone()));
    Ok(AppState {
        edge,
        config: Arc::new(config),
        telegram,
        resolver: Arc::new(resolver),
        idempotency: Arc::new(IdempotencyStore::new()),
    })
}

/// Serves `state` on `listener` until `shutdown` resolves, then stops accepting, lets
/// in-flight requests finish (at most [`SHUTDOWN_GRACE`]) and disconnects from Telegram.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let telegram = state.telegram.clone();
    let address = listener.local_addr()?;
    let (draining_tx, draining_rx) = oneshot::channel::<()>();
    let edge = state.edge.clone();
    let server = crate::api::edge::server::serve(listener, router(state), edge, async move {
        shutdown.await;
        tracing::info!("shutdown requested: finishing in-flight requests");
        let _ = draining_tx.send(());
    });
    tracing::info!(%address, "mtgate is listening");
    let grace_expired = async {
        if draining_rx.await.is_err() {
            // The server ended on its own; nothing to bound.
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    let result = tokio::select! {
        result = server => result,
        () = grace_expired => {
            tracing::warn!(
                grace_s = SHUTDOWN_GRACE.as_secs(),
                "in-flight requests did not finish in time; closing them"
            );
            Ok(())
        }
    };
    telegram.shutdown().await;
    tracing::info!("mtgate stopped");
    result
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

/// Prints the contract's one line for a startup failure and returns exit code 2.
fn config_failure(error: &ConfigError) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::from(EXIT_CONFIG)
}
