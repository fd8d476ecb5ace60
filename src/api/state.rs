//! What every handler gets through axum `State`: cheap clones of shared handles.

use std::sync::Arc;

use crate::config::Config;
use crate::idempotency::IdempotencyStore;
use crate::store::Store;
use crate::telegram::ClientManager;
use crate::telegram::resolver::PeerResolver;

/// Shared application state. Metrics live in the client manager
/// ([`ClientManager::metrics`]), which records them.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub telegram: Arc<ClientManager>,
    pub resolver: Arc<PeerResolver>,
    pub idempotency: Arc<IdempotencyStore>,
    /// The durable store, closed (queued writes flushed) when the app stops.
    pub store: Store,
}
