//! The one way mtgate sends a raw TL request: through the client manager (span, metrics,
//! timeout, flood-wait policy, health bookkeeping), following `*_MIGRATE` answers, and named by
//! the TL method it is, never by a hand-typed string.

use grammers_client::{Client, InvocationError};
use grammers_session::Session;
use grammers_tl_types as tl;
use grammers_tl_types::Deserializable;

use super::flood::FloodScope;
use super::manager::Shared;
use super::migrate::{self, DataCentres};
use super::{ClientManager, TelegramError};

/// The TL name of a request type (`messages.sendMessage`), from its constructor id.
pub fn method_name<R: tl::RemoteCall + tl::Identifiable>() -> &'static str {
    tl::name_for_id(R::CONSTRUCTOR_ID)
}

impl ClientManager {
    /// Sends `request` to the account's home DC (or wherever Telegram moves it) and waits for
    /// its answer.
    pub async fn invoke<R>(&self, request: R) -> Result<R::Return, TelegramError>
    where
        R: tl::RemoteCall + tl::Identifiable + Send + Sync + 'static,
    {
        self.invoke_in_chat(None, request).await
    }

    /// [`Self::invoke`] for a call that acts on one chat (Bot-API id): a flood wait learned
    /// there is remembered for that chat only (see [`super::flood`]).
    pub async fn invoke_in_chat<R>(
        &self,
        chat: Option<i64>,
        request: R,
    ) -> Result<R::Return, TelegramError>
    where
        R: tl::RemoteCall + tl::Identifiable + Send + Sync + 'static,
    {
        self.invoke_with(chat, request, Waits::Sleep).await
    }

    /// [`Self::invoke_in_chat`], choosing whether short flood waits are slept through.
    pub async fn invoke_with<R>(
        &self,
        chat: Option<i64>,
        request: R,
        waits: Waits,
    ) -> Result<R::Return, TelegramError>
    where
        R: tl::RemoteCall + tl::Identifiable + Send + Sync + 'static,
    {
        self.invoke_boxed(chat, request, waits)
            .await
            .map(|answer| *answer)
    }

    /// [`Self::invoke_with`] with the answer boxed as soon as grammers hands it over. TL
    /// answers are large values (`Updates` is about 5 KiB), and unboxed each layer between
    /// grammers and the caller (migration, timeout, metrics, flood memory, peer learning)
    /// copied it once more: in a profile of sends at c=1 those copies were 1.4 % of mtgate's
    /// CPU, the largest single item of the send's own path (BENCHMARKS.md, "Sixth pass").
    pub async fn invoke_boxed<R>(
        &self,
        chat: Option<i64>,
        request: R,
        waits: Waits,
    ) -> Result<Box<R::Return>, TelegramError>
    where
        R: tl::RemoteCall + tl::Identifiable + Send + Sync + 'static,
    {
        let shared = self.shared();
        let scope = FloodScope {
            method: method_name::<R>(),
            chat,
        };
        let pool = match waits {
            Waits::Sleep => None,
            Waits::Return => Some(self.pool().await?),
        };
        self.call_in(scope, |client| async move {
            let dcs = GrammersDcs {
                client: &client,
                shared,
            };
            let (request, client) = (&request, &client);
            match &pool {
                None => {
                    migrate::follow(&dcs, |dc| async move {
                        client.invoke_in_dc(dc, request).await.map(Box::new)
                    })
                    .await
                }
                // Straight to the pool: no retry policy, so no flood wait is slept here.
                Some(pool) => {
                    migrate::follow(&dcs, |dc| async move {
                        let body = pool.raw_invoke_in_dc(dc, request.to_bytes()).await?;
                        Ok(Box::new(R::Return::from_bytes(&body)?))
                    })
                    .await
                }
            }
        })
        .await
    }
}

/// What a call does with a FLOOD_WAIT short enough to sleep through (`MTGATE_FLOOD_SLEEP_MAX`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Waits {
    /// Sleep, then retry (a request that answers its caller directly).
    Sleep,
    /// Hand every wait back at once (the outbox parks the chat instead of holding a send).
    Return,
}

/// DC bookkeeping on the real client and session.
struct GrammersDcs<'a> {
    client: &'a Client,
    shared: &'a Shared,
}

impl DataCentres for GrammersDcs<'_> {
    fn home_dc(&self) -> i32 {
        self.shared.session.home_dc_id().unwrap_or_default()
    }

    async fn set_home_dc(&self, dc_id: i32) -> Result<(), InvocationError> {
        self.shared
            .session
            .set_home_dc_id(dc_id)
            .await
            .map_err(|e| InvocationError::Io(std::io::Error::other(e.to_string())))
    }

    /// `auth.exportAuthorization` at home, `auth.importAuthorization` in `dc_id`; once per DC
    /// (the lock is held across the two calls so concurrent migrations export once).
    async fn authorize_in(&self, dc_id: i32) -> Result<(), InvocationError> {
        let mut done = self.shared.authorized_dcs.lock().await;
        if dc_id == self.home_dc() || done.contains(&dc_id) {
            return Ok(());
        }
        let tl::enums::auth::ExportedAuthorization::Authorization(exported) = self
            .client
            .invoke(&tl::functions::auth::ExportAuthorization { dc_id })
            .await?;
        let import = tl::functions::auth::ImportAuthorization {
            id: exported.id,
            bytes: exported.bytes,
        };
        self.client.invoke_in_dc(dc_id, &import).await?;
        done.insert(dc_id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_names_come_from_the_tl_schema() {
        assert_eq!(
            method_name::<tl::functions::messages::SendMessage>(),
            "messages.sendMessage"
        );
        assert_eq!(
            method_name::<tl::functions::contacts::ResolveUsername>(),
            "contacts.resolveUsername"
        );
    }
}
