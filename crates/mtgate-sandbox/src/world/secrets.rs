//! Per-sandbox random values that survive `reset`: auth keys, access hashes and the password
//! verifier. Random per instance so a client that hard-codes a hash (instead of learning it
//! from a reply) fails here as it would on Telegram.

use std::collections::HashMap;

use rand::{Rng, RngCore};
use sha1::{Digest, Sha1};

use super::fixture;
use super::srp::SrpVerifier;
use crate::rpc::AUTH_KEY_LEN;

/// One permanent auth key the sandbox knows.
#[derive(Clone)]
pub struct KnownKey {
    pub id: i64,
    pub key: [u8; AUTH_KEY_LEN],
    /// The user the key starts (and is reset to) logged in as.
    pub starts_as: Option<i64>,
}

pub struct Secrets {
    pub authorized: KnownKey,
    pub unauthorized: KnownKey,
    /// One key logged in as each of the other users (`fixture::OTHERS`, same order), so tests
    /// can run several accounts and real conversations.
    pub others: Vec<KnownKey>,
    pub access_hashes: HashMap<i64, i64>,
    /// Derived on first use: 100 000 PBKDF2 rounds are too slow to pay for every sandbox
    /// when most never log in.
    verifier: std::sync::OnceLock<SrpVerifier>,
}

/// `SHA1(auth_key)[12..20]` as a little-endian i64, as the wire computes it.
pub fn auth_key_id(key: &[u8; AUTH_KEY_LEN]) -> i64 {
    let digest = Sha1::digest(key);
    i64::from_le_bytes(digest[12..20].try_into().expect("8 bytes"))
}

fn random_key(starts_as: Option<i64>) -> KnownKey {
    let mut key = [0u8; AUTH_KEY_LEN];
    rand::thread_rng().fill_bytes(&mut key);
    KnownKey {
        id: auth_key_id(&key),
        key,
        starts_as,
    }
}

impl Secrets {
    pub fn generate() -> Self {
        let mut rng = rand::thread_rng();
        let ids = std::iter::once(fixture::ME_ID)
            .chain(fixture::OTHERS.iter().map(|o| o.0))
            .chain(fixture::CHANNELS.iter().map(|c| c.0));
        let access_hashes = ids.map(|id| (id, rng.gen_range(1..i64::MAX))).collect();
        Secrets {
            authorized: random_key(Some(fixture::ME_ID)),
            unauthorized: random_key(None),
            others: fixture::OTHERS
                .iter()
                .map(|&(id, _, _)| random_key(Some(id)))
                .collect(),
            access_hashes,
            verifier: std::sync::OnceLock::new(),
        }
    }

    pub fn keys(&self) -> Vec<&KnownKey> {
        [&self.authorized, &self.unauthorized]
            .into_iter()
            .chain(&self.others)
            .collect()
    }

    /// The account password's SRP verifier (salts fixed per sandbox).
    pub fn verifier(&self) -> &SrpVerifier {
        self.verifier
            .get_or_init(|| SrpVerifier::new(fixture::PASSWORD))
    }

    pub fn access_hash(&self, id: i64) -> i64 {
        self.access_hashes[&id]
    }
}
