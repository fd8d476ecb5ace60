//! The one client manager per process (stub: the runtime work fills it in, keeping these
//! signatures).

use std::future::Future;

use grammers_client::{Client, InvocationError};

use super::TelegramError;

/// Owns the grammers client and its connection; handed to handlers through axum `State`.
pub struct ClientManager {}

impl ClientManager {
    /// A connected, authorized client, or why there is none right now.
    pub async fn client(&self) -> Result<Client, TelegramError> {
        Err(TelegramError::Unavailable(
            "the client manager is not built yet".into(),
        ))
    }

    /// Runs one Telegram operation (`method` is the TL name, e.g. `messages.sendMessage`)
    /// inside a span, with metrics, the call timeout, and health bookkeeping (a revoked key
    /// marks the session unhealthy; an I/O failure marks it reconnecting).
    pub async fn call<T, F, Fut>(&self, method: &'static str, op: F) -> Result<T, TelegramError>
    where
        F: FnOnce(Client) -> Fut,
        Fut: Future<Output = Result<T, InvocationError>>,
    {
        let client = self.client().await?;
        let _ = method;
        op(client).await.map_err(TelegramError::from)
    }
}
