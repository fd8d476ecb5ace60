//! The request's identity: its `Idempotency-Key` in the caller's scope, the fingerprint of
//! what it asks, and the Telegram `random_id` both determine.

use sha2::{Digest, Sha256};

use super::MAX_KEY_LEN;
use crate::store::IdempotencyScope;

/// A validated `Idempotency-Key` header value, in the scope of its caller.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IdempotencyKey {
    scope: IdempotencyScope,
    value: String,
}

impl IdempotencyKey {
    /// 1 to 255 visible ASCII characters; the error is a sentence for the caller.
    pub fn parse(scope: IdempotencyScope, raw: &[u8]) -> Result<Self, String> {
        if raw.is_empty() || raw.len() > MAX_KEY_LEN {
            return Err(format!(
                "the Idempotency-Key header must be 1 to {MAX_KEY_LEN} characters long"
            ));
        }
        if !raw.iter().all(|b| (0x21..=0x7e).contains(b)) {
            return Err("the Idempotency-Key header may only contain visible ASCII".into());
        }
        Ok(Self {
            scope,
            value: String::from_utf8_lossy(raw).into_owned(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.value
    }

    pub fn scope(&self) -> &IdempotencyScope {
        &self.scope
    }
}

/// What makes two requests "the same": a hash of method, path and the canonical JSON body
/// (parsed and re-serialized, so key order and whitespace do not matter).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    pub fn of(method: &str, path: &str, canonical_body: &[u8]) -> Self {
        let mut hash = Sha256::new();
        for part in [method.as_bytes(), path.as_bytes(), canonical_body] {
            hash.update((part.len() as u64).to_le_bytes());
            hash.update(part);
        }
        Self(hash.finalize().into())
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// The Telegram `random_id` of a send made under `key`: the same key, caller and request
/// always give the same id, so Telegram drops a repeat even after a reconnect or a restart.
pub fn random_id(key: &IdempotencyKey, fingerprint: &Fingerprint) -> i64 {
    let mut hash = Sha256::new();
    hash.update(b"mtgate random_id v2\0");
    for part in [&key.scope.key_name, &key.scope.account, &key.value] {
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part.as_bytes());
    }
    hash.update(fingerprint.0);
    let digest = hash.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    match i64::from_le_bytes(first) {
        0 => 1,
        id => id,
    }
}
