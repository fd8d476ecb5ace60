//! Caller authentication and scope for `/v1` and `/telegram`: `Authorization: Bearer KEY` or
//! `X-API-Key: KEY`, checked against `MTGATE_API_KEYS` (full access) and `MTGATE_KEYS_FILE`
//! (named, scoped keys).
//!
//! Keys are compared as SHA-256 digests with `subtle`'s constant-time equality, and every
//! configured key is checked, so neither the position of a mismatch nor the key's length
//! shows in the response time. Only digests are held in memory.
//!
//! The middleware also decides which account the request acts on (from
//! `/v1/accounts/{account}/…`, else `default`) and refuses, before any handler runs, an
//! unknown account (404 `ACCOUNT_NOT_FOUND`), an account outside the key's scope and a write
//! with a read-only key (403 `KEY_SCOPE`). The chat ACL is checked where the request's chat is
//! known ([`super::peers::peer_spec`]).

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::account::SelectedAccount;
use super::accounts_routes::RequestedAccount;
use super::edge::guard::Guard;
use super::{ApiError, AppState};
use crate::config::ApiKey;
use crate::domain::{AccountName, KeyScope};

/// The key a request authenticated with: its name (for logs, metrics and the idempotency
/// scope; never the key itself) and its scope. Put in the request's extensions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthenticatedKey {
    pub name: Arc<str>,
    /// Whose space its idempotency records live in ([`ApiKey::record_owner`]).
    pub record_owner: Arc<str>,
    pub scope: Arc<KeyScope>,
}

/// Every accepted key, as digests, each with the identity a request using it carries
/// (built once here, so a request only bumps reference counts).
#[derive(Default)]
pub struct KeyRing {
    keys: Vec<(ApiKey, AuthenticatedKey)>,
}

/// Names only: a record owner holds a digest prefix, which stays out of logs.
impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.keys.iter().map(|(key, _)| &key.name))
            .finish()
    }
}

impl KeyRing {
    pub fn new(keys: Vec<ApiKey>) -> Self {
        let keys = keys
            .into_iter()
            .map(|key| {
                let identity = AuthenticatedKey {
                    name: key.name.as_str().into(),
                    record_owner: key.record_owner().into(),
                    scope: Arc::new(key.scope.clone()),
                };
                (key, identity)
            })
            .collect();
        Self { keys }
    }

    /// The key `presented` is, checked against every key in constant time per key.
    pub fn authenticate(&self, presented: &[u8]) -> Option<AuthenticatedKey> {
        if presented.is_empty() {
            return None;
        }
        let digest = Sha256::digest(presented);
        let mut found = None;
        for (key, identity) in &self.keys {
            if bool::from(key.digest.ct_eq(digest.as_slice())) && found.is_none() {
                found = Some(identity.clone());
            }
        }
        found
    }
}

/// The key the caller presented, if any: Bearer first, then `X-API-Key`.
fn presented_key(headers: &HeaderMap) -> Option<&[u8]> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let value = value.as_bytes();
        if value.len() > 7 && value[..7].eq_ignore_ascii_case(b"bearer ") {
            return Some(value[7..].trim_ascii());
        }
    }
    headers.get("x-api-key").map(|v| v.as_bytes().trim_ascii())
}

/// The account a `/v1/accounts/{account}/…` path named, `default` for any other path.
fn requested_account(requested: Option<&RequestedAccount>) -> Result<AccountName, ApiError> {
    let Some(RequestedAccount(raw)) = requested else {
        return Ok(AccountName::default_account());
    };
    AccountName::parse(raw).map_err(|_| ApiError::AccountNotFound(raw.escape_default().to_string()))
}

/// The API-key check as a [`Guard`] (a plain layer: no boxed future per request).
#[derive(Clone)]
pub struct Authorize(pub AppState);

impl Guard for Authorize {
    /// Authenticates, picks the account, enforces the key's account and read-only scope, and
    /// records the key's name on the request span and in the metrics.
    fn refusal(&self, request: &mut Request) -> Option<Response> {
        let state = &self.0;
        let Some(key) = presented_key(request.headers()).and_then(|k| state.keys.authenticate(k))
        else {
            return Some(ApiError::Unauthorized.into_response());
        };
        let span = tracing::Span::current();
        span.record("key", &*key.name);
        let requested = request.extensions().get::<RequestedAccount>();
        let decision = decide(state, &key, request.method(), requested);
        // Only configured names become labels, so callers cannot grow the label set.
        let account = requested_account(requested)
            .ok()
            .and_then(|name| state.accounts.get(name.as_str()))
            .map_or("-", |account| account.name());
        span.record("account", account);
        state
            .key_metrics
            .count(&key.name, account, decision.as_ref().err());
        match decision {
            Ok(selected) => {
                request.extensions_mut().insert(selected);
                request.extensions_mut().insert(key);
                None
            }
            Err(error) => Some(error.into_response()),
        }
    }
}

/// The account a request may act on, or why not.
fn decide(
    state: &AppState,
    key: &AuthenticatedKey,
    method: &Method,
    requested: Option<&RequestedAccount>,
) -> Result<SelectedAccount, ApiError> {
    let name = requested_account(requested)?;
    // Scope first: a scoped key learns nothing about which other accounts exist.
    key.scope
        .check_account(&name)
        .map_err(|denied| ApiError::KeyScope(denied.to_string()))?;
    let account = state
        .accounts
        .get(name.as_str())
        .ok_or_else(|| ApiError::AccountNotFound(name.to_string()))?;
    if !matches!(*method, Method::GET | Method::HEAD) {
        key.scope
            .check_write()
            .map_err(|denied| ApiError::KeyScope(denied.to_string()))?;
    }
    Ok(SelectedAccount(account.clone()))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;
    use crate::domain::AccountsScope;

    fn ring() -> KeyRing {
        let scoped = ApiKey {
            name: "ci".into(),
            digest: Sha256::digest(b"ci-key").into(),
            scope: KeyScope {
                accounts: AccountsScope::Only([AccountName::default_account()].into()),
                chats: None,
                read_only: true,
            },
        };
        KeyRing::new(vec![
            ApiKey::from_env(0, "first-key"),
            ApiKey::from_env(1, "second-key"),
            scoped,
        ])
    }

    #[test]
    fn any_configured_key_matches_by_name_and_nothing_else() {
        let ring = ring();
        assert_eq!(
            &*ring.authenticate(b"first-key").unwrap().name,
            "MTGATE_API_KEYS:1"
        );
        assert_eq!(
            &*ring.authenticate(b"second-key").unwrap().name,
            "MTGATE_API_KEYS:2"
        );
        let ci = ring.authenticate(b"ci-key").unwrap();
        assert_eq!(&*ci.name, "ci");
        assert!(ci.scope.read_only);
        for wrong in [&b"first-ke"[..], b"first-key2", b"", b"ci"] {
            assert!(ring.authenticate(wrong).is_none());
        }
    }

    #[test]
    fn the_account_comes_from_the_accounts_prefix_or_is_default() {
        let named = |n: &str| requested_account(Some(&RequestedAccount(n.into())));
        assert_eq!(requested_account(None).unwrap().as_str(), "default");
        assert_eq!(named("alice").unwrap().as_str(), "alice");
        assert_eq!(named("Nope!").unwrap_err().code(), "ACCOUNT_NOT_FOUND");
    }

    #[test]
    fn bearer_and_x_api_key_are_both_read() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer  k1 "),
        );
        assert_eq!(presented_key(&headers), Some(&b"k1"[..]));
        let mut headers = HeaderMap::new();
        headers.insert("x-api-key", HeaderValue::from_static("k2"));
        assert_eq!(presented_key(&headers), Some(&b"k2"[..]));
    }

    #[test]
    fn other_authorization_schemes_are_not_keys() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic Zm9vOmJhcg=="),
        );
        assert_eq!(presented_key(&headers), None);
    }
}
