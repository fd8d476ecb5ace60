//! `Sandbox::start()`: a whole sandbox Telegram (MTProto server, fresh world, control API) on
//! random ports, for tests, benchmarks, `serve --sandbox` and `mtgate sandbox`.
//!
//! Every sandbox has its own world, auth keys and ports; nothing is global, so tests run in
//! parallel. Dropping the [`Sandbox`] stops its servers.
//!
//! ```no_run
//! # async fn f() -> std::io::Result<()> {
//! let sandbox = mtgate_sandbox::Sandbox::start().await?;
//! let session = sandbox.session(); // Telethon string, every DC pointing at the sandbox
//! sandbox.control().inject_rpc_error("messages.sendMessage", 420, "FLOOD_WAIT_1", 1);
//! # Ok(()) }
//! ```

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::control::{self, SandboxControl};
use super::rpc::{AUTH_KEY_LEN, UpdateBus};
use super::wire::MtprotoServer;
use super::world::{SANDBOX_DC, World, WorldNames, fixture};
use mtgate_session::{SessionFormat, StringSession};

/// A running sandbox Telegram.
pub struct Sandbox {
    server: MtprotoServer,
    control: SandboxControl,
    control_addr: SocketAddr,
    control_task: JoinHandle<()>,
    session: String,
    unauthorized_session: String,
    /// `(@username, session)` logged in as each other user of the world.
    other_sessions: Vec<(String, String)>,
}

/// Where a client should dial: a wildcard listen address means "this machine".
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), addr.port())
        }
        _ => addr,
    }
}

fn session_string(addr: SocketAddr, auth_key: [u8; AUTH_KEY_LEN]) -> String {
    StringSession {
        dc_id: SANDBOX_DC,
        addr,
        auth_key,
        format: SessionFormat::Telethon,
    }
    .to_telethon_string()
}

impl Sandbox {
    /// Starts a sandbox on random loopback ports.
    pub async fn start() -> io::Result<Sandbox> {
        let loopback = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0);
        Self::start_on(loopback, loopback).await
    }

    /// Starts a sandbox with the MTProto server on `listen` and the control API on `control`
    /// (port 0 = random). A bind error names which of the two addresses failed.
    pub async fn start_on(listen: SocketAddr, control: SocketAddr) -> io::Result<Sandbox> {
        let naming = |what: &str, addr: SocketAddr| {
            let what = what.to_owned();
            move |e: io::Error| io::Error::new(e.kind(), format!("{what} {addr}: {e}"))
        };
        let bus = UpdateBus::new();
        let world = Arc::new(World::new(bus.clone()));
        let server = MtprotoServer::start(listen, world.clone(), bus)
            .await
            .map_err(naming("the MTProto address", listen))?;
        let listener = TcpListener::bind(control)
            .await
            .map_err(naming("the control API address", control))?;
        let control_addr = reachable(listener.local_addr()?);
        let mtproto_addr = reachable(server.local_addr());
        let session = session_string(mtproto_addr, world.session_key());
        let unauthorized_session = session_string(mtproto_addr, world.unauthorized_key());
        let other_sessions: Vec<(String, String)> = world
            .other_keys()
            .into_iter()
            .map(|(user, key)| (user, session_string(mtproto_addr, key)))
            .collect();
        let info = info_json(
            mtproto_addr,
            control_addr,
            &session,
            &unauthorized_session,
            &other_sessions,
            &world.names(),
        );
        let handle = SandboxControl::new(world, server.clone(), info);
        let router = control::router(handle.clone());
        let control_task = tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, router).await {
                tracing::warn!(%err, "sandbox control API stopped");
            }
        });
        Ok(Sandbox {
            server,
            control: handle,
            control_addr,
            control_task,
            session,
            unauthorized_session,
            other_sessions,
        })
    }

    /// Where the MTProto server listens (what the session strings point at).
    pub fn mtproto_addr(&self) -> SocketAddr {
        reachable(self.server.local_addr())
    }

    /// `http://host:port` of the control API.
    pub fn control_url(&self) -> String {
        format!("http://{}", self.control_addr)
    }

    /// A Telethon string session logged in as the sandbox's account.
    pub fn session(&self) -> &str {
        &self.session
    }

    /// A Telethon string session logged in as another user of the world (`@alice_sandbox`,
    /// …; see [`Sandbox::world`]'s `others`), for tests with several accounts or real
    /// conversations. `None` for a name that is not one of them.
    pub fn other_session(&self, user: &str) -> Option<&str> {
        let wanted = format!("@{}", user.trim_start_matches('@'));
        self.other_sessions
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(&wanted))
            .map(|(_, session)| session.as_str())
    }

    /// A Telethon string session with a valid auth key but no user, for login flows.
    pub fn unauthorized_session(&self) -> &str {
        &self.unauthorized_session
    }

    /// The account's phone, international format (`+1555…`).
    pub fn phone(&self) -> String {
        fixture::phone_international()
    }

    /// The code `auth.signIn` accepts.
    pub fn login_code(&self) -> &'static str {
        fixture::LOGIN_CODE
    }

    /// The account's 2FA password.
    pub fn password(&self) -> &'static str {
        fixture::PASSWORD
    }

    /// The usernames of the starting peers.
    pub fn world(&self) -> WorldNames {
        WorldNames::fixed()
    }

    /// In-process control (request log, ground truth, faults, incoming, reset, QR accept).
    pub fn control(&self) -> &SandboxControl {
        &self.control
    }

    /// The JSON line `mtgate sandbox` prints.
    pub fn info(&self) -> Value {
        self.control.info()
    }
}

/// Names the addresses only: session strings carry auth keys and stay out of debug output.
impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("mtproto_addr", &self.mtproto_addr())
            .field("control_url", &self.control_url())
            .finish_non_exhaustive()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.server.shutdown();
        self.control_task.abort();
    }
}

fn info_json(
    mtproto_addr: SocketAddr,
    control_addr: SocketAddr,
    session: &str,
    unauthorized_session: &str,
    other_sessions: &[(String, String)],
    names: &WorldNames,
) -> Value {
    let other_sessions: serde_json::Map<String, Value> = other_sessions
        .iter()
        .map(|(user, session)| (user.clone(), Value::from(session.as_str())))
        .collect();
    json!({
        "mtproto_addr": mtproto_addr.to_string(),
        "control_url": format!("http://{control_addr}"),
        "session": session,
        "unauthorized_session": unauthorized_session,
        "other_sessions": other_sessions,
        "phone": fixture::phone_international(),
        "login_code": fixture::LOGIN_CODE,
        "password": fixture::PASSWORD,
        "world": names,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn info_names_reachable_addresses_and_parsable_sessions() {
        let sandbox = Sandbox::start().await.unwrap();
        let info = sandbox.info();
        assert_eq!(info["mtproto_addr"], sandbox.mtproto_addr().to_string());
        assert_eq!(info["control_url"], sandbox.control_url());
        let parsed = StringSession::parse(info["session"].as_str().unwrap(), None).unwrap();
        assert_eq!(parsed.addr, sandbox.mtproto_addr());
        assert_eq!(parsed.dc_id, SANDBOX_DC);
        assert_ne!(info["session"], info["unauthorized_session"]);
        assert_eq!(info["world"]["user"], "@sandy");
        assert_eq!(info["world"]["others"].as_array().unwrap().len(), 3);
        let others = info["other_sessions"].as_object().unwrap();
        assert_eq!(others.len(), 3);
        for user in info["world"]["others"].as_array().unwrap() {
            let session = others[user.as_str().unwrap()].as_str().unwrap();
            let parsed = StringSession::parse(session, None).unwrap();
            assert_eq!(parsed.addr, sandbox.mtproto_addr());
            assert_eq!(sandbox.other_session(user.as_str().unwrap()), Some(session));
            assert_ne!(session, sandbox.session());
        }
        assert_eq!(sandbox.other_session("@nobody"), None);
        let debug = format!("{sandbox:?}");
        assert!(
            !debug.contains(sandbox.session()),
            "no session in debug output"
        );
    }

    #[test]
    fn wildcard_listen_addresses_are_dialled_on_loopback() {
        assert_eq!(
            reachable("0.0.0.0:5".parse().unwrap()),
            "127.0.0.1:5".parse::<SocketAddr>().unwrap()
        );
        assert_eq!(
            reachable("[::]:5".parse().unwrap()),
            "[::1]:5".parse::<SocketAddr>().unwrap()
        );
    }
}
