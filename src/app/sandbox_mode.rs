//! `mtgate serve --sandbox`: an in-process sandbox Telegram, and the real service against it.
//!
//! Prints on stdout one JSON line `{"base_url":…, "api_key":…}`, then a ready-to-paste curl
//! example; logs go to stderr as usual. The state directory is a fresh temporary one (removed
//! on exit) unless `MTGATE_STATE_DIR` is set.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::json;
use tokio::net::TcpListener;

use super::{build_state, config_failure, run, shutdown_signal};
use crate::config::{Config, ConfigError, Environment};
use mtgate_sandbox::Sandbox;
use mtgate_session::StringSession;

/// Starts the sandbox, serves against it, prints the JSON line and the curl example.
pub async fn run_sandboxed(env: Environment) -> ExitCode {
    let sandbox = match Sandbox::start().await {
        Ok(sandbox) => sandbox,
        Err(e) => {
            eprintln!("error: cannot start the sandbox: {e}");
            return ExitCode::FAILURE;
        }
    };
    let session = match StringSession::parse(sandbox.session(), None) {
        Ok(session) => session,
        Err(e) => {
            eprintln!("error: the sandbox produced an unusable session: {e}");
            return ExitCode::FAILURE;
        }
    };
    let api_key = format!("sandbox-{:032x}", rand::random::<u128>());
    let temp_state = (env.get("MTGATE_STATE_DIR").is_none()).then(|| {
        std::env::temp_dir().join(format!(
            "mtgate-sandbox-{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        ))
    });
    let default_state = temp_state.clone().unwrap_or_else(|| PathBuf::from("."));
    let config = match Config::for_sandbox(
        |name| env.get(name),
        session,
        api_key.clone(),
        default_state,
    ) {
        Ok(config) => config,
        Err(e) => return config_failure(&e),
    };
    let listener = match TcpListener::bind(config.listen).await {
        Ok(listener) => listener,
        Err(e) => {
            let reason = format!("cannot listen on {}: {e}", config.listen);
            return config_failure(ConfigError::new("MTGATE_LISTEN", reason));
        }
    };
    let address = match listener.local_addr() {
        Ok(address) => reachable(address),
        Err(e) => {
            eprintln!("error: cannot read the listen address: {e}");
            return ExitCode::FAILURE;
        }
    };
    let state = match build_state(config).await {
        Ok(state) => state,
        Err(e) => return config_failure(&e),
    };
    let base_url = format!("http://{address}");
    let user = sandbox.info()["world"]["user"]
        .as_str()
        .unwrap_or("me")
        .to_owned();
    print_welcome(&base_url, &api_key, &user);
    let result = run(listener, state, shutdown_signal()).await;
    drop(sandbox);
    if let Some(dir) = temp_state {
        let _ = std::fs::remove_dir_all(dir);
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: the HTTP server failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The JSON line, then the curl example, on stdout.
fn print_welcome(base_url: &str, api_key: &str, user: &str) {
    let line = json!({ "base_url": base_url, "api_key": api_key });
    let body = json!({ "peer": user, "text": "Hello from mtgate!" });
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = writeln!(
        out,
        "curl -sS -X POST '{base_url}/v1/messages' -H 'Authorization: Bearer {api_key}' \
         -H 'Content-Type: application/json' -d '{body}'"
    );
    let _ = out.flush();
}

/// A wildcard listen address is reached through loopback.
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => (Ipv4Addr::LOCALHOST, addr.port()).into(),
        IpAddr::V6(ip) if ip.is_unspecified() => (Ipv6Addr::LOCALHOST, addr.port()).into(),
        _ => addr,
    }
}
