//! What every handler gets through axum `State`: cheap clones of shared handles.

use std::sync::Arc;

use super::edge::EdgeState;
use crate::config::Config;
use crate::idempotency::IdempotencyStore;
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
    /// The HTTP edge's limits and live counts (connection cap, in-flight slots).
    pub edge: Arc<EdgeState>,
}
