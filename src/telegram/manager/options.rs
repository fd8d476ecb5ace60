//! The manager's timings: production defaults, shortened by tests.

use std::time::Duration;

use crate::config::Config;

/// Timings of the manager. Defaults suit production; tests may shorten them.
#[derive(Clone, Debug)]
pub struct ManagerOptions {
    /// Deadline of one Telegram call, flood-wait sleeps included.
    pub call_timeout: Duration,
    /// Deadline of one connection probe.
    pub probe_timeout: Duration,
    /// How often a healthy connection is probed without traffic (catches half-open sockets
    /// and keys revoked while idle). Short enough that `/health` turns unhealthy within a few
    /// seconds of a revoke; one `users.getUsers(self)` per interval is cheap.
    pub liveness_interval: Duration,
    /// First and largest delay between reconnection attempts.
    pub reconnect_initial: Duration,
    pub reconnect_max: Duration,
    /// Delay before the one retry of a call that failed on I/O.
    pub io_retry_delay: Duration,
    /// How long shutdown waits for the pool to close its connections.
    pub shutdown_timeout: Duration,
    /// Calls waiting with no success (call or probe) for this long count as a stall: the
    /// supervisor probes at once, and health degrades if the probe fails too.
    pub stall_window: Duration,
}

impl ManagerOptions {
    /// Defaults for a config: the call deadline leaves room for the longest flood sleep.
    pub fn for_config(config: &Config) -> Self {
        Self {
            call_timeout: Duration::from_secs(30) + config.flood_sleep_max,
            stall_window: config.edge.stall_window,
            ..Self::default()
        }
    }
}

impl Default for ManagerOptions {
    fn default() -> Self {
        Self {
            call_timeout: Duration::from_secs(40),
            probe_timeout: Duration::from_secs(10),
            liveness_interval: Duration::from_secs(5),
            reconnect_initial: Duration::from_millis(200),
            reconnect_max: Duration::from_secs(5),
            io_retry_delay: Duration::from_millis(250),
            shutdown_timeout: Duration::from_secs(5),
            stall_window: Duration::from_secs(30),
        }
    }
}
