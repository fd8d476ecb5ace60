//! `mtgate serve --sandbox`: an in-process sandbox Telegram, and the real service against it.
//!
//! Prints on stdout the JSON line `{"base_url":…, "api_key":…, "control_url":…}` and a
//! ready-to-paste curl example (a framed banner on a terminal, see [`super::welcome`]) once
//! the service is connected, so the example works when pasted; logs go to stderr. The state
//! directory is a fresh temporary one (removed on exit) unless `MTGATE_STATE_DIR` is set.
//! When the listen address was not chosen (no `--listen`, no `MTGATE_LISTEN`) and the
//! default port is busy, a free port is taken instead, so a second instance just works.

use std::io::{IsTerminal, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use tokio::net::TcpListener;

use super::welcome::Welcome;
use super::{build_state, config_failure, run, shutdown_signal};
use crate::config::{Config, ConfigError};
use crate::telegram::ClientManager;
use mtgate_sandbox::Sandbox;
use mtgate_session::StringSession;

/// How long the welcome text waits for the first connection before printing anyway.
const CONNECT_WAIT: Duration = Duration::from_secs(10);

/// Starts the sandbox, serves against it, prints the JSON line and the curl example.
/// `lookup` reads the environment (with `--listen` already applied as `MTGATE_LISTEN`);
/// `listen_chosen` says whether the user picked the address.
pub async fn run_sandboxed(
    lookup: impl Fn(&str) -> Option<String>,
    listen_chosen: bool,
) -> ExitCode {
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
    let temp_state = lookup("MTGATE_STATE_DIR")
        .filter(|v| !v.trim().is_empty())
        .is_none()
        .then(|| {
            std::env::temp_dir().join(format!(
                "mtgate-sandbox-{}-{:08x}",
                std::process::id(),
                rand::random::<u32>()
            ))
        });
    let default_state = temp_state.clone().unwrap_or_else(|| PathBuf::from("."));
    let config = match Config::for_sandbox(&lookup, session, api_key.clone(), default_state) {
        Ok(config) => config,
        Err(e) => return config_failure(&e),
    };
    let (listener, port_note) = match bind(config.listen, listen_chosen).await {
        Ok(bound) => bound,
        Err(e) => return config_failure(&e),
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
    let welcome = Welcome {
        base_url: format!("http://{address}"),
        api_key,
        control_url: sandbox.control_url(),
        peer: sandbox.world().user,
        port_note,
    };
    let account = state.accounts.default().clone();
    let announce = tokio::spawn(async move {
        wait_connected(account.telegram().manager()).await;
        print_welcome(&welcome);
    });
    let result = run(listener, state, shutdown_signal()).await;
    announce.abort();
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

/// Binds `addr`; when the user did not choose it and it is taken, a free port on the same IP,
/// with a note saying so.
async fn bind(
    addr: SocketAddr,
    chosen: bool,
) -> Result<(TcpListener, Option<String>), ConfigError> {
    let cannot = |e: std::io::Error| {
        ConfigError::new("MTGATE_LISTEN", format!("cannot listen on {addr}: {e}"))
    };
    match TcpListener::bind(addr).await {
        Ok(listener) => Ok((listener, None)),
        Err(e) if !chosen && e.kind() == std::io::ErrorKind::AddrInUse => {
            let listener = TcpListener::bind(SocketAddr::new(addr.ip(), 0))
                .await
                .map_err(cannot)?;
            let note =
                format!("{addr} is busy, so a free port was taken (choose one with --listen)");
            tracing::warn!(default = %addr, "the default listen address is busy; using a free port");
            Ok((listener, Some(note)))
        }
        Err(e) => Err(cannot(e)),
    }
}

/// Until the client is connected (or [`CONNECT_WAIT`] passed): the curl example then works.
async fn wait_connected(telegram: &ClientManager) {
    let mut health = telegram.watch_health();
    let connected = health.wait_for(|snapshot| snapshot.connected());
    let _ = tokio::time::timeout(CONNECT_WAIT, connected).await;
}

/// The welcome text on stdout: a banner on a terminal, two plain lines otherwise.
fn print_welcome(welcome: &Welcome) {
    let mut out = std::io::stdout().lock();
    let text = welcome.render(out.is_terminal());
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        tracing::warn!(error = %e, "cannot write the welcome text to stdout");
    }
}

/// A wildcard listen address is reached through loopback.
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => (Ipv4Addr::LOCALHOST, addr.port()).into(),
        IpAddr::V6(ip) if ip.is_unspecified() => (Ipv6Addr::LOCALHOST, addr.port()).into(),
        _ => addr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_busy_default_address_falls_back_to_a_free_port_with_a_note() {
        let taken = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let busy = taken.local_addr().unwrap();
        let (listener, note) = bind(busy, false).await.unwrap();
        let got = listener.local_addr().unwrap();
        assert_eq!(got.ip(), busy.ip());
        assert_ne!(got.port(), busy.port());
        assert!(note.unwrap().contains(&busy.to_string()));
    }

    #[tokio::test]
    async fn a_busy_chosen_address_is_an_error_naming_mtgate_listen() {
        let taken = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let busy = taken.local_addr().unwrap();
        let error = bind(busy, true).await.unwrap_err();
        assert_eq!(error.var, "MTGATE_LISTEN");
        assert!(error.to_string().contains(&busy.to_string()), "{error}");
    }
}
