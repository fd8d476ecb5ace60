//! The HTTP edge: what protects the service from slow, idle or too many clients before any
//! handler runs.
//!
//! - [`server`]: the accept loop (hyper HTTP/1), the open-connection cap and graceful
//!   shutdown.
//! - [`conn`]: per-connection header and idle timeouts.
//! - [`body`]: the request body deadline, and knowing whether the body was read.
//! - [`service`]: hyper's per-request entry: busy/idle bookkeeping, `Connection: close`
//!   when an answer leaves the body unread.
//! - [`shed`]: the in-flight cap (503 `OVERLOADED` at once).
//! - [`guard`]: the API-key check and the request deadline as plain (unboxed) layers.
//!
//! Limits come from [`crate::config::EdgeConfig`] (`MTGATE_HTTP_*`).

pub mod body;
pub mod conn;
pub mod guard;
pub mod server;
pub mod service;
pub mod shed;

use std::fmt::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::Semaphore;

use crate::config::EdgeConfig;

/// The edge's limits and live counts, shared by the accept loop, the router and `/metrics`.
pub struct EdgeState {
    pub limits: EdgeConfig,
    /// How long a `multipart/form-data` body (a media upload) may take to arrive, instead of
    /// `limits.body_timeout` (`MTGATE_MEDIA_BODY_TIMEOUT`).
    pub upload_body_timeout: std::time::Duration,
    /// Slots for requests in flight ([`shed`]).
    pub in_flight: Arc<Semaphore>,
    open_connections: AtomicU64,
    shed_connections: AtomicU64,
    shed_requests: AtomicU64,
}

/// Counts a connection as open until dropped.
pub struct OpenConnection<'a>(&'a EdgeState);

impl Drop for OpenConnection<'_> {
    fn drop(&mut self) {
        self.0.open_connections.fetch_sub(1, Ordering::Relaxed);
    }
}

impl EdgeState {
    /// With uploads given `timeout` for their body instead of the default.
    pub fn with_upload_body_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.upload_body_timeout = timeout;
        self
    }

    pub fn new(limits: EdgeConfig) -> Self {
        Self {
            in_flight: Arc::new(Semaphore::new(limits.max_in_flight)),
            upload_body_timeout: crate::config::MediaConfig::default().body_timeout,
            limits,
            open_connections: AtomicU64::new(0),
            shed_connections: AtomicU64::new(0),
            shed_requests: AtomicU64::new(0),
        }
    }

    pub fn connection_opened(&self) -> OpenConnection<'_> {
        self.open_connections.fetch_add(1, Ordering::Relaxed);
        OpenConnection(self)
    }

    pub fn record_connection_shed(&self) {
        self.shed_connections.fetch_add(1, Ordering::Relaxed);
    }

    pub fn record_request_shed(&self) {
        self.shed_requests.fetch_add(1, Ordering::Relaxed);
    }

    /// Requests holding an in-flight slot right now.
    pub fn requests_in_flight(&self) -> usize {
        self.limits.max_in_flight - self.in_flight.available_permits()
    }

    /// The edge's series in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = write!(
            out,
            "# HELP mtgate_http_open_connections HTTP connections open now.\n\
             # TYPE mtgate_http_open_connections gauge\n\
             mtgate_http_open_connections {}\n\
             # HELP mtgate_http_requests_in_flight /v1 and /telegram requests being served.\n\
             # TYPE mtgate_http_requests_in_flight gauge\n\
             mtgate_http_requests_in_flight {}\n\
             # HELP mtgate_http_shed_total Connections and requests refused with 503 OVERLOADED.\n\
             # TYPE mtgate_http_shed_total counter\n\
             mtgate_http_shed_total{{what=\"connection\"}} {}\n\
             mtgate_http_shed_total{{what=\"request\"}} {}\n",
            self.open_connections.load(Ordering::Relaxed),
            self.requests_in_flight(),
            self.shed_connections.load(Ordering::Relaxed),
            self.shed_requests.load(Ordering::Relaxed),
        );
        out
    }
}
