//! The one client manager per process: owns the grammers sender pool (its runner task), the
//! client, the supervisor that keeps the connection alive, and the health snapshot.
//!
//! Handlers never wait on a connection attempt: [`ClientManager::client`] answers from the
//! health snapshot at once, and [`ClientManager::call`] wraps every operation with a span,
//! metrics, a timeout and health bookkeeping.

mod calls;
mod dial;
mod options;

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;

use grammers_client::{Client, InvocationError};
use grammers_mtsender::SenderPoolHandle;
use grammers_session::Session;
use grammers_tl_types as tl;
use mtgate_session::StringSession;
use tokio::sync::{Mutex, Notify};
use tokio::task::JoinHandle;

pub(super) use calls::timed_call;
use calls::{note_failure, unauthorized_name};
use dial::{Dial, connect, follow_gate};
pub use options::ManagerOptions;

use super::TelegramError;
use super::flood::{self, FloodMemory, FloodScope};
use super::health::{ConnectionState, HealthSnapshot, HealthTracker, SelfUser};
use super::invoke::method_name;
use super::lease::LeaseGate;
use super::metrics::Metrics;
use super::session_store::PersistentSession;
use super::stall::StallWatch;
use super::supervisor;
use crate::config::Config;
use crate::events::EventSink;

/// State shared by the manager and its supervisor task.
pub(super) struct Shared {
    pub health: HealthTracker,
    pub metrics: Arc<Metrics>,
    pub options: ManagerOptions,
    pub session: Arc<PersistentSession>,
    /// Poked by failed calls so the supervisor probes at once.
    pub wake: Notify,
    /// This account's remembered flood waits.
    pub flood: FloodMemory,
    /// Calls in flight and the last success, for stall detection.
    pub stall: StallWatch,
    /// DCs other than the first home the authorization was carried to (after a migrate).
    pub authorized_dcs: Mutex<HashSet<i32>>,
    /// With replicas: open only while this process holds the account's lease (see
    /// [`LeaseGate`]); `None` when the process is alone and always may.
    pub lease: Option<Arc<LeaseGate>>,
    /// True once the update pump caught up after start (see `updates_pump`).
    pub updates_ready: tokio::sync::watch::Sender<bool>,
}

impl Shared {
    /// Whether this process may talk to Telegram for the account right now.
    pub fn may_call(&self) -> bool {
        self.lease.as_ref().is_none_or(|gate| gate.is_open())
    }
}

/// One live connection: the grammers client, its pool and the tasks driving them.
#[derive(Default)]
struct Inner {
    /// `None` when shut down or in standby.
    client: Option<Client>,
    pool: Option<SenderPoolHandle>,
    runner: Option<JoinHandle<()>>,
    supervisor: Option<JoinHandle<()>>,
    /// The update pump (see `updates_pump`).
    pump: Option<JoinHandle<()>>,
}

/// Owns the grammers client and its connection; handed to handlers through axum `State`.
pub struct ClientManager {
    inner: Mutex<Inner>,
    shared: Arc<Shared>,
    dial: Dial,
}

impl ClientManager {
    /// Builds the client for the session `string`, on `session` (what the account learned,
    /// see [`PersistentSession::open`]), and starts connecting in the background; returns at
    /// once. Must run inside a Tokio runtime.
    pub fn start(
        config: &Config,
        string: &StringSession,
        session: Arc<PersistentSession>,
        metrics: Arc<Metrics>,
        options: ManagerOptions,
        events: EventSink,
    ) -> Arc<Self> {
        Self::start_gated(config, string, session, metrics, options, None, events)
    }

    /// [`Self::start`], fenced by `lease` when given: the manager then starts in standby,
    /// connects whenever the gate opens and disconnects whenever it closes.
    pub fn start_gated(
        config: &Config,
        string: &StringSession,
        session: Arc<PersistentSession>,
        metrics: Arc<Metrics>,
        options: ManagerOptions,
        lease: Option<Arc<LeaseGate>>,
        events: EventSink,
    ) -> Arc<Self> {
        let shared = Arc::new(Shared {
            health: HealthTracker::new(),
            metrics,
            session,
            wake: Notify::new(),
            authorized_dcs: Mutex::new(HashSet::new()),
            flood: FloodMemory::new(),
            stall: StallWatch::new(options.stall_window),
            updates_ready: tokio::sync::watch::channel(false).0,
            options,
            lease: lease.clone(),
        });
        let dial = Dial {
            api_id: config.api_id,
            use_ipv6: string.is_ipv6(),
            dc_id: string.dc_id,
            addr: string.addr.to_string(),
            flood_sleep_max: config.flood_sleep_max,
            events,
        };
        let inner = match &lease {
            None => connect(&shared, &dial),
            Some(_) => {
                shared.health.set_standby();
                Inner::default()
            }
        };
        let manager = Arc::new(Self {
            inner: Mutex::new(inner),
            shared,
            dial,
        });
        if let Some(gate) = lease {
            tokio::spawn(follow_gate(Arc::downgrade(&manager), gate));
        }
        manager
    }

    /// Leaves standby: dials Telegram again (no-op when connected or shut down).
    async fn resume(&self) {
        let mut inner = self.inner.lock().await;
        if inner.client.is_some() || self.shared.health.state() == ConnectionState::Stopped {
            return;
        }
        // Another replica may have driven the account meanwhile: resume from its state.
        if let Err(e) = self.shared.session.reload().await {
            tracing::warn!(error = %e, "could not reload the account's stored state");
        }
        self.shared.health.set_connecting();
        *inner = connect(&self.shared, &self.dial);
    }

    /// Enters standby: closes the connection (another replica is to hold the account).
    async fn suspend(&self) {
        let mut inner = self.inner.lock().await;
        if self.shared.health.state() != ConnectionState::Stopped {
            self.shared.health.set_standby();
        }
        self.disconnect(&mut inner).await;
        tracing::info!("standing by: the account's lease is not held here");
    }

    async fn disconnect(&self, inner: &mut Inner) {
        if let Some(supervisor) = inner.supervisor.take() {
            supervisor.abort();
        }
        if let Some(pump) = inner.pump.take() {
            pump.abort();
        }
        inner.client = None;
        if let Some(pool) = inner.pool.take() {
            pool.quit();
        }
        if let Some(mut runner) = inner.runner.take() {
            let timeout = self.shared.options.shutdown_timeout;
            if tokio::time::timeout(timeout, &mut runner).await.is_err() {
                tracing::warn!("the Telegram connection did not close in time; aborting it");
                runner.abort();
            }
        }
    }

    /// The connection's health, from memory (never waits on Telegram).
    pub fn health(&self) -> HealthSnapshot {
        self.shared.health.snapshot()
    }

    /// True once the update pump caught up with Telegram after start (what was missed while
    /// mtgate was away is in the event log); tests wait for it before counting calls.
    pub fn updates_ready(&self) -> tokio::sync::watch::Receiver<bool> {
        self.shared.updates_ready.subscribe()
    }

    /// Wakes on every health change (e.g. to act once first connected).
    pub fn watch_health(&self) -> tokio::sync::watch::Receiver<HealthSnapshot> {
        self.shared.health.subscribe()
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.shared.metrics
    }

    /// The state shared with the supervisor (for the invoke path).
    pub(super) fn shared(&self) -> &Shared {
        &self.shared
    }

    /// The sender pool's handle, for calls that bypass its retry policy (none in standby or
    /// after shutdown).
    pub(super) async fn pool(&self) -> Result<grammers_mtsender::SenderPoolHandle, TelegramError> {
        self.inner.lock().await.pool.clone().ok_or_else(|| {
            TelegramError::Unavailable(
                "not connected to Telegram (standby or shutting down)".into(),
            )
        })
    }

    /// Whether a lease gate fences this manager (the process is one of several replicas).
    pub fn is_gated(&self) -> bool {
        self.shared.lease.is_some()
    }

    /// The session's home DC.
    pub fn dc_id(&self) -> i32 {
        self.shared.session.home_dc_id().unwrap_or_default()
    }

    /// A connected, authorized client, or why there is none right now (at once, no waiting).
    pub async fn client(&self) -> Result<Client, TelegramError> {
        let shutting_down = || TelegramError::Unavailable("mtgate is shutting down".into());
        if !self.shared.may_call() {
            return Err(TelegramError::Unavailable(
                "this replica does not hold the account's lease".into(),
            ));
        }
        let why = || self.shared.health.snapshot().last_error.unwrap_or_default();
        match self.shared.health.state() {
            ConnectionState::Connected => self
                .inner
                .lock()
                .await
                .client
                .clone()
                .ok_or_else(shutting_down),
            ConnectionState::Connecting => Err(TelegramError::Unavailable(format!(
                "still connecting to Telegram ({})",
                why()
            ))),
            ConnectionState::Reconnecting => Err(TelegramError::Unavailable(format!(
                "reconnecting to Telegram ({})",
                why()
            ))),
            ConnectionState::Unauthorized => Err(TelegramError::Unauthorized {
                name: unauthorized_name(&why()),
            }),
            ConnectionState::Failed => Err(TelegramError::Unavailable(why())),
            ConnectionState::Stopped => Err(shutting_down()),
            ConnectionState::Standby => Err(TelegramError::Unavailable(
                "this replica does not hold the account's lease".into(),
            )),
        }
    }

    /// Runs one Telegram operation (`method` is the TL name, e.g. `messages.sendMessage`)
    /// inside a span, with metrics, the call timeout, and health bookkeeping (a revoked key
    /// marks the session unhealthy; an I/O failure marks it reconnecting).
    pub async fn call<T, F, Fut>(&self, method: &'static str, op: F) -> Result<T, TelegramError>
    where
        F: FnOnce(Client) -> Fut,
        Fut: Future<Output = Result<T, InvocationError>>,
    {
        self.call_in(FloodScope::method(method), op).await
    }

    /// [`Self::call`] within a flood scope: inside a remembered wait for `scope` the call is
    /// refused at once (a 420 with the remaining seconds) without reaching Telegram, and a
    /// wait Telegram hands back is remembered for `scope`.
    pub async fn call_in<T, F, Fut>(&self, scope: FloodScope, op: F) -> Result<T, TelegramError>
    where
        F: FnOnce(Client) -> Fut,
        Fut: Future<Output = Result<T, InvocationError>>,
    {
        let method = scope.method;
        let shared = &*self.shared;
        if let Some(refusal) = flood::check(&shared.flood, &shared.metrics, scope) {
            shared.metrics.record_call(method, "flood_remembered", None);
            return Err(TelegramError::Refused(refusal));
        }
        let client = match self.client().await {
            Ok(client) => client,
            Err(error) => {
                shared
                    .metrics
                    .record_call(method, error.outcome_label(), None);
                return Err(error);
            }
        };
        let in_flight = shared.stall.begin();
        let result = timed_call(shared, method, op(client)).await;
        drop(in_flight);
        if let Err(error) = &result {
            if let TelegramError::Refused(refusal) = error {
                flood::learn(&shared.flood, &shared.metrics, scope, refusal);
            }
            note_failure(shared, error);
        }
        result
    }

    /// The logged-in account, fetched live (`users.getUsers(self)`).
    pub async fn me(&self) -> Result<SelfUser, TelegramError> {
        let user = self
            .call(
                method_name::<tl::functions::users::GetUsers>(),
                |client| async move { client.get_me().await },
            )
            .await?;
        Ok(supervisor::self_user(&user))
    }

    /// Stops the supervisor and closes the connections (pool quit); what was learned is in
    /// the store's queue, flushed when the app closes the store. In-flight calls fail with
    /// `Unavailable`; call this after the HTTP server has drained.
    pub async fn shutdown(&self) {
        let mut inner = self.inner.lock().await;
        self.shared.health.set_stopped();
        self.disconnect(&mut inner).await;
        tracing::info!("disconnected from Telegram");
    }
}
