//! Validation of message-endpoint input that needs no Telegram: text, ids, idempotency key.

use axum::http::{HeaderMap, Method};

use super::MAX_IDS;
use crate::api::ApiError;
use crate::api::json::CanonicalBody;
use crate::domain::ParseMode;
use crate::idempotency::{Fingerprint, IdempotencyKey, IdempotencyScope};
use crate::telegram::text::FormattedText;

pub fn formatted(text: &str, mode: Option<ParseMode>) -> Result<FormattedText, ApiError> {
    use crate::domain::TextError;
    FormattedText::parse(text, mode.unwrap_or_default()).map_err(|e| match e {
        TextError::TooLong { .. } => ApiError::MessageTooLong {
            message: e.to_string(),
            telegram: None,
        },
        _ => ApiError::invalid(e.to_string()),
    })
}

pub fn message_id(raw: &str) -> Result<i32, ApiError> {
    raw.parse::<i32>().ok().filter(|id| *id > 0).ok_or_else(|| {
        ApiError::invalid(format!("`{raw}` is not a message id (a positive integer)"))
    })
}

pub fn message_ids(ids: &[i32]) -> Result<Vec<i32>, ApiError> {
    if ids.is_empty() || ids.len() > MAX_IDS {
        return Err(ApiError::invalid(format!(
            "`ids` must hold 1 to {MAX_IDS} message ids"
        )));
    }
    if let Some(bad) = ids.iter().find(|id| **id <= 0) {
        return Err(ApiError::invalid(format!(
            "`ids` holds {bad}, which is not a message id (a positive integer)"
        )));
    }
    let mut unique = ids.to_vec();
    unique.sort_unstable();
    unique.dedup();
    Ok(unique)
}

/// The idempotency key and request fingerprint, when the caller sent `Idempotency-Key`.
/// Keys are scoped per caller (API-key name) and per account the request acts on (`scope`).
pub fn idempotency_of<B: CanonicalBody + ?Sized>(
    scope: IdempotencyScope,
    headers: &HeaderMap,
    method: Method,
    path: &str,
    canonical_body: &B,
) -> Result<Option<(IdempotencyKey, Fingerprint)>, ApiError> {
    let Some(raw) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = IdempotencyKey::parse(scope, raw.as_bytes()).map_err(ApiError::invalid)?;
    Ok(Some((
        key,
        // Canonicalized only here: without a key the body is never re-serialized.
        Fingerprint::of(method.as_str(), path, canonical_body.canonical_bytes()),
    )))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn message_ids_must_be_positive_integers() {
        assert_eq!(message_id("42").unwrap(), 42);
        for bad in ["0", "-1", "abc", "", "99999999999", "1.5"] {
            assert_eq!(
                message_id(bad).unwrap_err().code(),
                "INVALID_REQUEST",
                "{bad}"
            );
        }
    }

    #[test]
    fn delete_ids_are_bounded_positive_and_deduplicated() {
        assert_eq!(message_ids(&[3, 1, 3]).unwrap(), [1, 3]);
        assert!(message_ids(&[]).is_err());
        assert!(message_ids(&[0]).is_err());
        assert!(message_ids(&vec![1; MAX_IDS + 1]).is_err());
        assert!(message_ids(&(1..=MAX_IDS as i32).collect::<Vec<_>>()).is_ok());
    }

    #[test]
    fn text_problems_map_to_their_codes() {
        let long = "x".repeat(5000);
        let e = formatted(&long, None).unwrap_err();
        assert_eq!((e.code(), e.status().as_u16()), ("MESSAGE_TOO_LONG", 400));
        assert_eq!(formatted("", None).unwrap_err().code(), "INVALID_REQUEST");
        assert_eq!(
            formatted("<b></b>", Some(ParseMode::Html))
                .unwrap_err()
                .code(),
            "INVALID_REQUEST"
        );
    }

    fn scope(key_name: &str, account: &str) -> IdempotencyScope {
        IdempotencyScope {
            key_name: key_name.into(),
            account: account.into(),
        }
    }

    #[test]
    fn the_idempotency_fingerprint_covers_method_path_and_body() {
        let mut headers = HeaderMap::new();
        assert!(
            idempotency_of(scope("k", "default"), &headers, Method::POST, "/p", b"{}")
                .unwrap()
                .is_none()
        );
        headers.insert("idempotency-key", HeaderValue::from_static("k-1"));
        let (key, a) = idempotency_of(scope("k", "default"), &headers, Method::POST, "/p", b"{}")
            .unwrap()
            .unwrap();
        assert_eq!(key.as_str(), "k-1");
        let (_, b) = idempotency_of(
            scope("k", "default"),
            &headers,
            Method::POST,
            "/p",
            b"{\"x\":1}",
        )
        .unwrap()
        .unwrap();
        assert_ne!(a, b);
        assert_eq!(key.scope().account, "default");
        let (other, _) = idempotency_of(scope("k", "work"), &headers, Method::POST, "/p", b"{}")
            .unwrap()
            .unwrap();
        assert_eq!(other.scope().account, "work", "scoped per account");
        assert_ne!(key, other);
        let (other_caller, _) =
            idempotency_of(scope("k2", "default"), &headers, Method::POST, "/p", b"{}")
                .unwrap()
                .unwrap();
        assert_eq!(
            other_caller.scope().key_name,
            "k2",
            "scoped per API key name"
        );
        assert_ne!(key, other_caller);
        headers.insert("idempotency-key", HeaderValue::from_static(""));
        assert_eq!(
            idempotency_of(scope("k", "default"), &headers, Method::POST, "/p", b"{}")
                .unwrap_err()
                .code(),
            "INVALID_REQUEST"
        );
    }
}
