//! Which account a request acts on: the one seam handlers get their [`Account`] from.
//!
//! The auth layer ([`super::auth::authorize`]) picks the account from
//! `/v1/accounts/{account}/…` (plain `/v1/…` is `default`) and leaves it in the request's
//! extensions with the authenticated key; handlers take both through [`CurrentAccount`].

use std::ops::Deref;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::auth::AuthenticatedKey;
use super::{ApiError, AppState};
use crate::accounts::Account;
use crate::domain::{KeyScope, PeerSpec};
use crate::idempotency::IdempotencyScope;

/// The account the auth layer chose for this request.
#[derive(Clone)]
pub struct SelectedAccount(pub Arc<Account>);

/// The account a request acts on, with the key it came with. Derefs to the [`Account`].
#[derive(Clone)]
pub struct RequestAccount {
    account: Arc<Account>,
    key: Option<AuthenticatedKey>,
}

impl RequestAccount {
    pub fn account(&self) -> &Arc<Account> {
        &self.account
    }

    /// The authenticated key's name (never the key): the idempotency scope, with the
    /// account's name. `None` only on routes without authentication.
    pub fn key_name(&self) -> Option<&str> {
        self.key.as_ref().map(|k| &*k.name)
    }

    /// The space an `Idempotency-Key` lives in: the API key's and the account's.
    pub fn idempotency_scope(&self) -> IdempotencyScope {
        IdempotencyScope {
            key_name: self
                .key
                .as_ref()
                .map(|k| k.record_owner.to_string())
                .unwrap_or_default(),
            account: self.account.name().to_owned(),
        }
    }

    /// Whether a chat in a listing may be shown to this request's key.
    pub fn may_list(&self, id: i64, username: Option<&str>) -> bool {
        self.key
            .as_ref()
            .is_none_or(|k| k.scope.may_list(id, username))
    }

    /// The chats the key is limited to (`None`: all chats).
    pub fn key_chats(&self) -> Option<Vec<PeerSpec>> {
        self.key.as_ref().and_then(|k| k.scope.chats.clone())
    }

    /// Refuses a chat outside the key's chat list (403 `KEY_SCOPE`), before anything is sent.
    /// A chat named in another form than the list's (an id for a listed username, or the
    /// reverse) passes when the account already knows both name the same chat.
    pub fn check_chat(&self, chat: &PeerSpec) -> Result<(), ApiError> {
        let full = KeyScope::full();
        let scope = self.key.as_ref().map_or(&full, |k| &*k.scope);
        scope
            .check_chat(chat)
            .or_else(|_| scope.check_chat_known_as(chat, &self.account.known_forms(chat)))
            .map_err(|denied| ApiError::KeyScope(denied.to_string()))
    }

    /// The chats a filter names, as ids — each must be within the key's chats (403
    /// `KEY_SCOPE`) — or, when it names none, the key's own chats (empty: every chat).
    pub async fn filter_chat_ids(&self, asked: Vec<PeerSpec>) -> Result<Vec<i64>, ApiError> {
        for chat in &asked {
            self.check_chat(chat)?;
        }
        let specs = if asked.is_empty() {
            self.key_chats().unwrap_or_default()
        } else {
            asked
        };
        let mut ids = Vec::with_capacity(specs.len());
        for spec in &specs {
            ids.push(match spec {
                PeerSpec::Id(id) => id.value(),
                other => self.describe(other).await?.id,
            });
        }
        Ok(ids)
    }
}

impl Deref for RequestAccount {
    type Target = Arc<Account>;

    fn deref(&self) -> &Arc<Account> {
        &self.account
    }
}

/// The account this request acts on.
pub struct CurrentAccount(pub RequestAccount);

impl FromRequestParts<AppState> for CurrentAccount {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let account = parts
            .extensions
            .get::<SelectedAccount>()
            .map(|selected| selected.0.clone())
            .unwrap_or_else(|| state.accounts.default().clone());
        let key = parts.extensions.get::<AuthenticatedKey>().cloned();
        Ok(Self(RequestAccount { account, key }))
    }
}
