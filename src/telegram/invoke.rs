//! The one way mtgate sends a raw TL request: through the client manager (span, metrics,
//! timeout, flood-wait policy, health bookkeeping), named by the TL method it is, never by a
//! hand-typed string.

use grammers_tl_types as tl;

use super::{ClientManager, TelegramError};

/// The TL name of a request type (`messages.sendMessage`), from its constructor id.
pub fn method_name<R: tl::RemoteCall + tl::Identifiable>() -> &'static str {
    tl::name_for_id(R::CONSTRUCTOR_ID)
}

impl ClientManager {
    /// Sends `request` and waits for its answer.
    pub async fn invoke<R>(&self, request: R) -> Result<R::Return, TelegramError>
    where
        R: tl::RemoteCall + tl::Identifiable + Send + Sync + 'static,
    {
        self.call(method_name::<R>(), |client| async move {
            client.invoke(&request).await
        })
        .await
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
