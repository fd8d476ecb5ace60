//! What every handler gets through axum `State`: one `Arc` of shared handles. Handlers
//! that act on one account take it through [`super::account::CurrentAccount`] instead.

use std::ops::Deref;
use std::sync::Arc;

use super::auth::KeyRing;
use super::edge::EdgeState;
use super::key_metrics::KeyMetrics;
use crate::accounts::AccountRegistry;
use crate::cluster::Cluster;
use crate::config::Config;
use crate::events::Events;
use crate::events::webhooks::Webhooks;
use crate::idempotency::IdempotencyStore;
use crate::outbox::Outboxes;
use crate::store::Store;

/// Shared application state. axum clones it for every extractor of every request, so it
/// is one reference count, not one per handle (a profile showed the per-field clones and
/// drops at about 2% of the service's CPU per send).
#[derive(Clone)]
pub struct AppState(Arc<AppParts>);

impl AppState {
    pub fn new(parts: AppParts) -> Self {
        Self(Arc::new(parts))
    }
}

impl Deref for AppState {
    type Target = AppParts;

    fn deref(&self) -> &AppParts {
        &self.0
    }
}

/// The handles [`AppState`] shares.
pub struct AppParts {
    pub config: Arc<Config>,
    pub accounts: Arc<AccountRegistry>,
    pub idempotency: Arc<IdempotencyStore>,
    /// The event log and its live fan-out.
    pub events: Arc<Events>,
    /// Webhook subscriptions and their delivery tasks.
    pub webhooks: Arc<Webhooks>,
    /// The HTTP edge's limits and live counts (connection cap, in-flight slots).
    pub edge: Arc<EdgeState>,
    /// Accepted API keys (digests, names, scopes).
    pub keys: Arc<KeyRing>,
    /// Requests per key name and account.
    pub key_metrics: Arc<KeyMetrics>,
    /// Every account's outbox (scheduler and jobs).
    pub outboxes: Arc<Outboxes>,
    /// The durable store, closed (queued writes flushed) when the app stops.
    pub store: Store,
    /// This replica's place among others on one PostgreSQL database; `None` when alone.
    pub cluster: Option<Arc<Cluster>>,
    /// Media uploads that finished, reused by a retry with the same Idempotency-Key.
    pub uploads: Arc<super::media::FinishedUploads>,
    /// The clients of outgoing requests (`media.url` fetches).
    pub outgoing: crate::outgoing::Outgoing,
}

impl axum::extract::FromRef<AppState> for Arc<IdempotencyStore> {
    fn from_ref(state: &AppState) -> Self {
        state.idempotency.clone()
    }
}
