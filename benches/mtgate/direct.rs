//! The baseline: a grammers client in the bench process talking straight to the sandbox,
//! built from the sandbox's string session exactly as mtgate builds its own (no HTTP, no
//! service in between). This is the physical limit of the design.

use std::sync::Arc;

use grammers_client::Client;
use grammers_client::sender::{ConnectionParams, SenderPool};
use grammers_client::session::storages::MemorySession;
use grammers_client::session::types::PeerRef;
use mtgate_session::StringSession;

use crate::procs::Error;

/// A connected client and the peer the bench writes to.
#[derive(Clone)]
pub struct Direct {
    pub client: Client,
    pub peer: PeerRef,
}

/// Connects a client with the string `session` (its updates are drained, as mtgate drains
/// its own, so the client never logs drops or stalls).
pub async fn connect(session: &str) -> Result<Client, Error> {
    let session = StringSession::parse(session, None)?;
    let params = ConnectionParams {
        use_ipv6: session.is_ipv6(),
        ..Default::default()
    };
    let store = Arc::new(MemorySession::from(session.to_session_data()));
    let pool = SenderPool::with_configuration(store, 1, params);
    let client = Client::new(pool.handle);
    tokio::spawn(pool.runner.run());
    let mut updates = pool.updates;
    tokio::spawn(async move { while updates.recv().await.is_some() {} });
    Ok(client)
}

impl Direct {
    /// Resolves `username` (with or without `@`) to the peer this handle writes to.
    pub async fn resolve(client: &Client, username: &str) -> Result<Self, Error> {
        let name = username.trim_start_matches('@');
        let peer = client
            .resolve_username(name)
            .await?
            .ok_or_else(|| format!("the sandbox does not know @{name}"))?
            .to_ref()
            .await?
            .ok_or_else(|| format!("@{name} resolved without an access hash"))?;
        Ok(Self {
            client: client.clone(),
            peer,
        })
    }

    /// `messages.sendMessage`; the new message's id.
    pub async fn send(&self, text: String) -> Result<i32, String> {
        match self.client.send_message(self.peer, text).await {
            Ok(message) => Ok(message.id()),
            Err(e) => Err(kind(&e)),
        }
    }

    /// `messages.editMessage`.
    pub async fn edit(&self, id: i32, text: String) -> Result<(), String> {
        self.client
            .edit_message(self.peer, id, text)
            .await
            .map_err(|e| kind(&e))
    }

    /// `messages.getHistory` for the newest `limit` messages; how many came back.
    pub async fn history(&self, limit: usize) -> Result<usize, String> {
        let mut iter = self.client.iter_messages(self.peer).limit(limit);
        let mut n = 0;
        while iter.next().await.map_err(|e| kind(&e))?.is_some() {
            n += 1;
        }
        Ok(n)
    }
}

/// A short error kind for the error table: the RPC error name, or the error's first words.
fn kind(error: &grammers_client::InvocationError) -> String {
    match error {
        grammers_client::InvocationError::Rpc(rpc) => format!("direct RPC {}", rpc.name),
        other => format!(
            "direct {}",
            other.to_string().chars().take(40).collect::<String>()
        ),
    }
}
