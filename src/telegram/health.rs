//! The connection's health as probes and operators see it: a snapshot kept in a `watch`
//! channel, so reading it never waits on Telegram or on the client manager's lock.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::watch;

pub use crate::domain::SelfUser;

/// Where the connection to Telegram stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionState {
    /// Starting up: the first connection has not succeeded yet.
    Connecting,
    /// Connected, and the session's key has a logged-in user.
    Connected,
    /// The connection dropped or a call failed on I/O; retrying with backoff.
    Reconnecting,
    /// The key has no usable user (revoked, logged out): retrying cannot help.
    Unauthorized,
    /// The client's connection task ended unexpectedly (a grammers panic): only a restart
    /// helps, so this is unhealthy, like `Unauthorized`.
    Failed,
    /// Shutting down.
    Stopped,
    /// Another replica holds the account's lease: this process keeps no connection for it
    /// and forwards its requests to the holder. Healthy: nothing is wrong here.
    Standby,
}

/// The service-level reading of a [`ConnectionState`], as `/health` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    Healthy,
    Degraded,
    Unhealthy,
}

impl ConnectionState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connecting => "connecting",
            Self::Connected => "connected",
            Self::Reconnecting => "reconnecting",
            Self::Unauthorized => "unauthorized",
            Self::Failed => "failed",
            Self::Stopped => "stopped",
            Self::Standby => "standby",
        }
    }

    /// Degraded while retrying can still help; unhealthy once it cannot.
    pub fn health(self) -> Health {
        match self {
            Self::Connected | Self::Standby => Health::Healthy,
            Self::Connecting | Self::Reconnecting => Health::Degraded,
            Self::Unauthorized | Self::Failed | Self::Stopped => Health::Unhealthy,
        }
    }

    /// Numeric value for the `mtgate_telegram_connection_state` gauge.
    pub fn gauge_value(self) -> u8 {
        match self {
            Self::Connecting => 0,
            Self::Connected => 1,
            Self::Reconnecting => 2,
            Self::Unauthorized => 3,
            Self::Stopped => 4,
            Self::Failed => 5,
            Self::Standby => 6,
        }
    }
}

/// One consistent reading of the connection's health.
#[derive(Clone, Debug)]
pub struct HealthSnapshot {
    pub state: ConnectionState,
    /// Whether the key was last seen with a logged-in user (stays true while reconnecting).
    pub authorized: bool,
    /// Why the last attempt or call failed; cleared when connected. Never holds secrets.
    pub last_error: Option<String>,
    /// When `state` last changed.
    pub since: DateTime<Utc>,
    pub me: Option<SelfUser>,
}

impl HealthSnapshot {
    pub fn connected(&self) -> bool {
        self.state == ConnectionState::Connected
    }

    /// Ready for traffic: connected and authorized, or in standby (requests go to the
    /// replica holding the account).
    pub fn ready(&self) -> bool {
        (self.connected() && self.authorized) || self.state == ConnectionState::Standby
    }
}

/// Writer side of the snapshot; cheap to read from any task.
pub struct HealthTracker {
    tx: watch::Sender<HealthSnapshot>,
}

impl Default for HealthTracker {
    fn default() -> Self {
        Self::new()
    }
}

impl HealthTracker {
    pub fn new() -> Self {
        let (tx, _) = watch::channel(HealthSnapshot {
            state: ConnectionState::Connecting,
            authorized: false,
            last_error: None,
            since: Utc::now(),
            me: None,
        });
        Self { tx }
    }

    pub fn snapshot(&self) -> HealthSnapshot {
        self.tx.borrow().clone()
    }

    pub fn state(&self) -> ConnectionState {
        self.tx.borrow().state
    }

    /// A receiver that wakes on every change (the supervisor waits on it).
    pub fn subscribe(&self) -> watch::Receiver<HealthSnapshot> {
        self.tx.subscribe()
    }

    /// Connected and authorized, as `me`.
    pub fn set_connected(&self, me: SelfUser) {
        self.tx.send_modify(|s| {
            Self::enter(s, ConnectionState::Connected);
            s.authorized = true;
            s.last_error = None;
            s.me = Some(me);
        });
    }

    /// Lost or never reached the server; `Connecting` stays `Connecting` until the first
    /// success, so operators can tell "never came up" from "came up, then dropped".
    /// Returns whether the state changed. Ignored once unauthorized or stopped.
    pub fn set_unreachable(&self, error: String) -> bool {
        let mut changed = false;
        self.tx.send_if_modified(|s| match s.state {
            ConnectionState::Unauthorized
            | ConnectionState::Failed
            | ConnectionState::Stopped
            | ConnectionState::Standby => false,
            ConnectionState::Connecting | ConnectionState::Reconnecting => {
                s.last_error = Some(error);
                true
            }
            ConnectionState::Connected => {
                Self::enter(s, ConnectionState::Reconnecting);
                s.last_error = Some(error);
                changed = true;
                true
            }
        });
        changed
    }

    /// The key has no usable user. Returns whether the state changed.
    pub fn set_unauthorized(&self, error: String) -> bool {
        let mut changed = false;
        self.tx.send_if_modified(|s| {
            if matches!(
                s.state,
                ConnectionState::Unauthorized
                    | ConnectionState::Failed
                    | ConnectionState::Stopped
                    | ConnectionState::Standby
            ) {
                return false;
            }
            Self::enter(s, ConnectionState::Unauthorized);
            s.authorized = false;
            s.last_error = Some(error);
            changed = true;
            true
        });
        changed
    }

    /// The client cannot work any more (see [`ConnectionState::Failed`]). Ignored once
    /// stopped, so a deliberate shutdown is never reported as a failure.
    pub fn set_failed(&self, error: String) -> bool {
        self.tx.send_if_modified(|s| {
            if matches!(s.state, ConnectionState::Stopped | ConnectionState::Standby) {
                return false;
            }
            Self::enter(s, ConnectionState::Failed);
            s.last_error = Some(error);
            true
        })
    }

    /// The lease is elsewhere (or not yet ours): no connection, no errors to report.
    pub fn set_standby(&self) {
        self.tx.send_modify(|s| {
            Self::enter(s, ConnectionState::Standby);
            s.authorized = false;
            s.last_error = None;
        });
    }

    /// Leaving standby: connecting again (unless stopped meanwhile).
    pub fn set_connecting(&self) {
        self.tx.send_if_modified(|s| {
            if s.state == ConnectionState::Stopped {
                return false;
            }
            Self::enter(s, ConnectionState::Connecting);
            s.last_error = None;
            true
        });
    }

    pub fn set_stopped(&self) {
        self.tx
            .send_modify(|s| Self::enter(s, ConnectionState::Stopped));
    }

    fn enter(s: &mut HealthSnapshot, state: ConnectionState) {
        if s.state != state {
            s.state = state;
            s.since = Utc::now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me() -> SelfUser {
        SelfUser {
            id: 1,
            username: None,
            first_name: None,
            last_name: None,
            phone: None,
            is_bot: false,
        }
    }

    #[test]
    fn a_drop_after_connecting_is_reconnecting_and_degraded() {
        let health = HealthTracker::new();
        assert_eq!(health.state().health(), Health::Degraded);
        health.set_connected(me());
        assert!(health.snapshot().ready());
        assert!(health.set_unreachable("gone".into()));
        let s = health.snapshot();
        assert_eq!(s.state, ConnectionState::Reconnecting);
        assert_eq!(s.state.health(), Health::Degraded);
        assert!(s.authorized, "still the last known authorization");
        assert!(!s.ready());
        assert_eq!(s.last_error.as_deref(), Some("gone"));
    }

    #[test]
    fn failures_before_the_first_connection_stay_connecting() {
        let health = HealthTracker::new();
        assert!(!health.set_unreachable("refused".into()));
        assert_eq!(health.state(), ConnectionState::Connecting);
        assert_eq!(health.snapshot().last_error.as_deref(), Some("refused"));
    }

    #[test]
    fn unauthorized_is_sticky_and_unhealthy() {
        let health = HealthTracker::new();
        health.set_connected(me());
        assert!(health.set_unauthorized("AUTH_KEY_UNREGISTERED".into()));
        assert!(!health.set_unreachable("later".into()));
        assert!(!health.set_unauthorized("again".into()));
        let s = health.snapshot();
        assert_eq!(s.state.health(), Health::Unhealthy);
        assert!(!s.authorized);
        assert_eq!(s.last_error.as_deref(), Some("AUTH_KEY_UNREGISTERED"));
    }

    #[test]
    fn a_failed_client_is_unhealthy_but_a_shutdown_is_not_a_failure() {
        let health = HealthTracker::new();
        assert!(health.set_failed("runner gone".into()));
        assert_eq!(health.state().health(), Health::Unhealthy);
        assert!(!health.set_unreachable("later".into()));
        let stopping = HealthTracker::new();
        stopping.set_stopped();
        assert!(!stopping.set_failed("runner gone".into()));
        assert_eq!(stopping.state(), ConnectionState::Stopped);
    }

    #[test]
    fn since_changes_only_with_the_state() {
        let health = HealthTracker::new();
        health.set_connected(me());
        let since = health.snapshot().since;
        health.set_connected(me());
        assert_eq!(health.snapshot().since, since);
    }
}
