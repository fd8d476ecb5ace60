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

use crate::accounts::{Account, AccountRegistry, AccountSpec, DEFAULT_ACCOUNT};
use crate::api::auth::KeyRing;
use crate::api::edge::EdgeState;
use crate::api::key_metrics::KeyMetrics;
use crate::api::router::router;
use crate::api::{AppParts, AppState};
use crate::cli::ServeArgs;
use crate::cluster::Cluster;
use crate::config::{Config, ConfigError, ConfigErrors, Environment, LogFormat};
use crate::events::Events;
use crate::events::webhooks::Webhooks;
use crate::idempotency::IdempotencyStore;
use crate::outbox::Outboxes;
use crate::outgoing::Outgoing;
use crate::store::{Store, StoreError};
use crate::telegram::ManagerOptions;

mod runtime;
mod sandbox_mode;
mod welcome;

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
    // `--listen` wins over MTGATE_LISTEN; either one means the user chose the address.
    let lookup = |name: &str| match (name, args.listen) {
        ("MTGATE_LISTEN", Some(listen)) => Some(listen.to_string()),
        _ => env.get(name).filter(|v| !v.trim().is_empty()),
    };
    let listen_chosen = lookup("MTGATE_LISTEN").is_some();
    // Every problem at once: the service's variables, then the log settings.
    let mut errors = Vec::new();
    let config = if args.sandbox {
        None
    } else {
        Config::from_lookup(lookup)
            .map_err(|e| errors.extend(e.0))
            .ok()
    };
    let log_format = crate::config::log_format_from(lookup)
        .map_err(|e| {
            // Outside the sandbox, `Config::from_lookup` has reported it already.
            if args.sandbox {
                errors.push(e);
            }
        })
        .unwrap_or(LogFormat::Json);
    let threads = crate::config::RuntimeThreads::from_lookup(lookup)
        .map_err(|e| errors.push(e))
        .unwrap_or(crate::config::RuntimeThreads::Auto);
    let rust_log = env.get("RUST_LOG");
    if let Err(e) = crate::telemetry::build_filter(rust_log.as_deref()) {
        errors.push(e);
    }
    if !errors.is_empty() {
        return config_failure(ConfigErrors(errors));
    }
    let log_format = crate::telemetry::LogChoice {
        format: log_format,
        chosen: lookup("MTGATE_LOG_FORMAT").is_some(),
    };
    if let Err(e) = crate::telemetry::init(log_format, rust_log.as_deref()) {
        return config_failure(&e);
    }
    let runtime = match runtime::build(threads) {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match config {
        Some(config) => runtime.block_on(serve(config, shutdown_signal())),
        None => runtime.block_on(sandbox_mode::run_sandboxed(lookup, listen_chosen)),
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
            return config_failure(ConfigError::new("MTGATE_LISTEN", reason));
        }
    };
    let state = match build_state(config).await {
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

/// Builds the shared state with production timings: opens the store, then starts the
/// default account (loading its stored state, connecting in the background).
pub async fn build_state(config: Config) -> Result<AppState, ConfigError> {
    let options = ManagerOptions::for_config(&config);
    build_state_with(config, options).await
}

/// Like [`build_state`] with explicit client manager timings (tests).
///
/// Opens the store and starts one [`Account`] per configured account (`default` first), each
/// with its own view of the store, keyed by its name.
pub async fn build_state_with(
    config: Config,
    options: ManagerOptions,
) -> Result<AppState, ConfigError> {
    // First: a client that cannot be built should stop startup before anything connects.
    let outgoing = Outgoing::new(&config.tls).map_err(|e| {
        ConfigError::new(
            crate::config::tls::VAR,
            format!("cannot build the HTTPS client: {e}"),
        )
    })?;
    let state_dir_error = |e: StoreError| {
        ConfigError::new(
            "MTGATE_STATE_DIR",
            format!("cannot use {}: {e}", config.state_dir.display()),
        )
    };
    let store = match &config.database_url {
        None => Store::open(&config.state_dir)
            .await
            .map_err(state_dir_error)?,
        Some(url) => Store::connect(url).await.map_err(|e| {
            ConfigError::new(
                "MTGATE_DATABASE_URL",
                format!("cannot use the PostgreSQL database: {e}"),
            )
        })?,
    };
    // Replicas share a database: each account connects only while this replica holds its
    // lease. Alone (SQLite), every account connects at once.
    let cluster = config.database_url.as_ref().map(|_| {
        let names: Vec<String> = std::iter::once(DEFAULT_ACCOUNT.to_string())
            .chain(config.extra_accounts.iter().map(|a| a.name.to_string()))
            .collect();
        Cluster::new(store.clone(), &config.cluster, &names)
    });
    let gate = |name: &str| cluster.as_ref().and_then(|c| c.gate(name));
    let events = Events::new(store.clone(), config.events.clone());
    let default = Account::start(
        AccountSpec {
            lease: gate(DEFAULT_ACCOUNT),
            ..AccountSpec::default_of(&config)
        },
        &store,
        &config,
        options.clone(),
        &events,
    )
    .await
    .map_err(state_dir_error)?;
    let mut registry = AccountRegistry::new(default);
    for account in &config.extra_accounts {
        let spec = AccountSpec {
            name: account.name.to_string(),
            session: account.session.clone(),
            default_peer: account.default_peer.clone(),
            legacy_state_dir: None,
            lease: gate(&account.name.to_string()),
        };
        let started = Account::start(spec, &store, &config, options.clone(), &events)
            .await
            .map_err(state_dir_error)?;
        registry.insert(started);
    }
    let outboxes = Outboxes::start(&registry, &store, &config.outbox, Some(events.clone()))
        .await
        .map_err(state_dir_error)?;
    if let Some(hook) = config
        .webhooks
        .iter()
        .find(|hook| registry.get(&hook.account).is_none())
    {
        return Err(ConfigError::new(
            crate::config::webhooks_file::VAR,
            format!(
                "[webhooks.{}] account: no account is named `{}`",
                hook.name, hook.account
            ),
        ));
    }
    let webhooks = Webhooks::start(
        events.clone(),
        outgoing.webhooks().clone(),
        config.events.webhook.clone(),
        config.webhooks.clone(),
        cluster.clone(),
    )
    .await
    .map_err(state_dir_error)?;
    let edge = Arc::new(
        EdgeState::new(config.edge.clone()).with_upload_body_timeout(config.media.body_timeout),
    );
    Ok(AppState::new(AppParts {
        outboxes: Arc::new(outboxes),
        edge,
        keys: Arc::new(KeyRing::new(config.keys())),
        key_metrics: Arc::new(KeyMetrics::default()),
        config: Arc::new(config),
        accounts: Arc::new(registry),
        idempotency: Arc::new(IdempotencyStore::new(store.clone())),
        events,
        webhooks,
        store,
        cluster,
        uploads: Arc::default(),
        outgoing,
    }))
}

/// Serves `state` on `listener` until `shutdown` resolves, then stops accepting, lets
/// in-flight requests finish (at most [`SHUTDOWN_GRACE`]) and disconnects from Telegram.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let accounts = state.accounts.clone();
    let outboxes = state.outboxes.clone();
    let store = state.store.clone();
    let events = state.events.clone();
    let streams = state.events.clone();
    let webhooks = state.webhooks.clone();
    let address = listener.local_addr()?;
    let cluster = state.cluster.clone();
    if let Some(cluster) = &cluster {
        cluster.start(address);
    }
    let (draining_tx, draining_rx) = oneshot::channel::<()>();
    let edge = state.edge.clone();
    let server = crate::api::edge::server::serve(listener, router(state), edge, async move {
        shutdown.await;
        tracing::info!("shutdown requested: finishing in-flight requests");
        // Event streams never finish on their own.
        streams.close_streams();
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
    webhooks.stop();
    // Before the accounts disconnect, so sends in flight can finish.
    outboxes.shutdown().await;
    accounts.shutdown().await;
    // What the pumps read last goes into the log before the store closes.
    events.flush().await;
    // Connections closed: the other replicas may take the accounts at once.
    if let Some(cluster) = &cluster {
        cluster.leave().await;
    }
    // After every account stopped, so what they learned last is flushed too.
    if let Err(e) = store.close().await {
        tracing::error!(error = %e, "the store did not close cleanly");
    }
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

/// Prints the contract's one line per problem and returns exit code 2.
fn config_failure(errors: impl Into<ConfigErrors>) -> ExitCode {
    for error in errors.into().0 {
        eprintln!("error: {error}");
    }
    ExitCode::from(EXIT_CONFIG)
}
