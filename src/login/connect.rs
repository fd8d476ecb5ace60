//! The connection a login runs on, and the string session read back from it afterwards.
//!
//! - `--from-session STRING` (with `--server HOST:PORT` overriding its address): reuse the
//!   auth key the string carries; every DC points at that one address, so a test server's
//!   session never wanders off to Telegram.
//! - `--server` alone: a fresh key is created by grammers' normal exchange at that address.
//! - neither: Telegram's own DC table and a fresh key — the everyday path.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use grammers_client::Client;
use grammers_client::sender::{AutoSleep, ConnectionParams, SenderPool, SenderPoolHandle};
use grammers_client::session::{
    Session, SessionData, storages::MemorySession, updates::UpdatesLike,
};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::exit::LoginError;
use mtgate_session::{SessionFormat, StringSession};

/// How long one request may take before the server counts as unreachable.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Where to log in and with which key.
#[derive(Debug)]
pub enum Target {
    /// Reuse this session's auth key (its address already overridden by `--server`).
    ExistingKey(Box<StringSession>),
    /// Create a key at this server (a test server), or at Telegram when `None`.
    FreshKey(Option<SocketAddr>),
}

impl Target {
    /// Chooses the target from `--server` and `--from-session`.
    pub fn from_args(
        server: Option<SocketAddr>,
        from_session: Option<&str>,
    ) -> Result<Self, LoginError> {
        match from_session {
            Some(text) => StringSession::parse(text, server)
                .map(|session| Target::ExistingKey(Box::new(session)))
                .map_err(|e| LoginError::Usage(format!("--from-session: {e}"))),
            None => Ok(Target::FreshKey(server)),
        }
    }

    fn session_data(&self) -> SessionData {
        match self {
            Target::ExistingKey(session) => session.to_session_data(),
            Target::FreshKey(None) => SessionData::default(),
            Target::FreshKey(Some(server)) => {
                let mut data = SessionData::default();
                for dc in data.dc_options.values_mut() {
                    match server {
                        SocketAddr::V4(v4) => {
                            dc.ipv4 = *v4;
                            dc.ipv6.set_ip(v4.ip().to_ipv6_mapped());
                            dc.ipv6.set_port(v4.port());
                        }
                        SocketAddr::V6(v6) => dc.ipv6 = *v6,
                    }
                    dc.auth_key = None;
                }
                data
            }
        }
    }

    fn use_ipv6(&self) -> bool {
        match self {
            Target::ExistingKey(session) => session.is_ipv6(),
            Target::FreshKey(server) => server.is_some_and(|s| s.is_ipv6()),
        }
    }
}

/// A running client and what the login needs besides it.
pub struct Connection {
    pub client: Client,
    /// Updates pushed by the server (the QR flow waits for `updateLoginToken` here).
    pub updates: mpsc::Receiver<UpdatesLike>,
    session: Arc<MemorySession>,
    pool: SenderPoolHandle,
    use_ipv6: bool,
    runner: JoinHandle<()>,
}

impl Connection {
    /// Builds the session and starts the sender pool. Nothing is dialled until the first call.
    pub fn open(target: &Target, api_id: i32) -> Self {
        let session = Arc::new(MemorySession::from(target.session_data()));
        let use_ipv6 = target.use_ipv6();
        let params = ConnectionParams {
            device_model: "mtgate login".into(),
            app_version: env!("CARGO_PKG_VERSION").into(),
            use_ipv6,
            // Sleep through short flood waits only; a long one is reported to the user.
            retry_policy: Box::new(AutoSleep {
                threshold: Duration::from_secs(10),
                ..AutoSleep::default()
            }),
            ..ConnectionParams::default()
        };
        let pool = SenderPool::with_configuration(Arc::clone(&session), api_id, params);
        let handle = pool.handle.thin.clone();
        let client = Client::new(pool.handle);
        let runner = tokio::spawn(pool.runner.run());
        Self {
            client,
            updates: pool.updates,
            session,
            pool: handle,
            use_ipv6,
            runner,
        }
    }

    /// Runs one request with [`CALL_TIMEOUT`]: a silent server becomes a network error (exit 5);
    /// the request's own error is left to the caller, which knows which ones it can retry.
    pub async fn call<T, E>(
        &self,
        request: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<Result<T, E>, LoginError> {
        tokio::time::timeout(CALL_TIMEOUT, request)
            .await
            .map_err(|_| {
                LoginError::Network(format!(
                    "no answer within {} seconds",
                    CALL_TIMEOUT.as_secs()
                ))
            })
    }

    /// Moves the home DC (after a migrate answer): later calls go to `dc_id`.
    pub async fn migrate_home(&self, dc_id: i32) -> Result<(), LoginError> {
        let old = self.home_dc()?;
        self.session
            .set_home_dc_id(dc_id)
            .await
            .map_err(|e| LoginError::Local(format!("switching to DC {dc_id}: {e}")))?;
        // The old DC's connection is of no further use, as grammers does on a sign-in migrate.
        self.pool.disconnect_from_dc(old);
        Ok(())
    }

    fn home_dc(&self) -> Result<i32, LoginError> {
        self.session
            .home_dc_id()
            .map_err(|e| LoginError::Local(format!("reading the session: {e}")))
    }

    /// The logged-in session as a string: home DC, its address and its auth key.
    pub fn string_session(&self) -> Result<StringSession, LoginError> {
        let home = self.home_dc()?;
        let dc = self
            .session
            .dc_option(home)
            .map_err(|e| LoginError::Local(format!("reading the session: {e}")))?
            .ok_or_else(|| LoginError::Local(format!("the session has no DC {home}")))?;
        let auth_key = dc
            .auth_key
            .ok_or_else(|| LoginError::Local(format!("the session has no key for DC {home}")))?;
        let addr = if self.use_ipv6 {
            SocketAddr::V6(dc.ipv6)
        } else {
            SocketAddr::V4(dc.ipv4)
        };
        Ok(StringSession {
            dc_id: home,
            addr,
            auth_key,
            format: SessionFormat::Telethon,
        })
    }

    /// Disconnects and waits for the pool to stop.
    pub async fn close(self) {
        self.client.disconnect();
        let _ = self.runner.await;
    }
}
