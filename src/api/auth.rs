//! Caller authentication for `/v1` and `/telegram`: `Authorization: Bearer KEY` or
//! `X-API-Key: KEY`, checked against `MTGATE_API_KEYS`.
//!
//! Keys are compared as SHA-256 digests with `subtle`'s constant-time equality, and every
//! configured key is checked, so neither the position of a mismatch nor the key's length
//! shows in the response time.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{ApiError, AppState};

/// The key the caller presented, if any: Bearer first, then `X-API-Key`.
fn presented_key(headers: &HeaderMap) -> Option<&[u8]> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let value = value.as_bytes();
        if value.len() > 7 && value[..7].eq_ignore_ascii_case(b"bearer ") {
            return Some(trim(&value[7..]));
        }
    }
    headers.get("x-api-key").map(|v| trim(v.as_bytes()))
}

fn trim(bytes: &[u8]) -> &[u8] {
    bytes.trim_ascii()
}

/// Whether `presented` equals one of `keys`, in time independent of where they differ.
pub fn key_matches(presented: &[u8], keys: &[String]) -> bool {
    let presented = Sha256::digest(presented);
    keys.iter()
        .fold(subtle::Choice::from(0), |found, key| {
            found | Sha256::digest(key.as_bytes()).ct_eq(&presented)
        })
        .into()
}

/// The name of the caller's API key, for scoping what is kept per caller (idempotency
/// records) and for logs: never the key itself. Keys have no configured names yet, so the
/// name is derived: `key-` and the first 12 hex digits of the key's SHA-256.
pub fn caller_key_name(headers: &HeaderMap) -> String {
    match presented_key(headers) {
        Some(key) => {
            let digest = Sha256::digest(key);
            let hex: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
            format!("key-{hex}")
        }
        None => "anonymous".into(),
    }
}

/// Middleware: lets the request through only with an accepted key, else 401 `UNAUTHORIZED`.
pub async fn require_api_key(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    match presented_key(request.headers()) {
        Some(key) if !key.is_empty() && key_matches(key, &state.config.api_keys) => {
            next.run(request).await
        }
        _ => ApiError::Unauthorized.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn keys() -> Vec<String> {
        vec!["first-key".into(), "second-key".into()]
    }

    #[test]
    fn any_configured_key_matches_and_nothing_else() {
        assert!(key_matches(b"first-key", &keys()));
        assert!(key_matches(b"second-key", &keys()));
        assert!(!key_matches(b"first-ke", &keys()));
        assert!(!key_matches(b"first-key2", &keys()));
        assert!(!key_matches(b"", &keys()));
    }

    #[test]
    fn key_names_are_stable_per_key_and_never_contain_it() {
        let headers = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert("x-api-key", HeaderValue::from_static(value));
            headers
        };
        let name = caller_key_name(&headers("first-key"));
        assert_eq!(name, caller_key_name(&headers("first-key")));
        assert_ne!(name, caller_key_name(&headers("second-key")));
        assert!(name.starts_with("key-") && name.len() == 16, "{name}");
        assert!(!name.contains("first"));
        assert_eq!(caller_key_name(&HeaderMap::new()), "anonymous");
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
