//! The server half of Telegram's SRP 2FA (`account.getPassword` / `auth.checkPassword`).
//!
//! Telegram's scheme: `x = PH2(password, salt1, salt2)`, verifier `v = g^x mod p`; the server
//! sends `B = k·v + g^b mod p` with `k = H(p | g)`; the client answers `A = g^a` and
//! `M1 = H(H(p) xor H(g) | H(salt1) | H(salt2) | A | B | H(S))`. The server computes
//! `S = (A · v^u)^b mod p` with `u = H(A | B)` and compares M1. Only the verifier is kept.

use num_bigint::BigUint;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Telegram's 2048-bit safe prime (the one its servers use for DH and SRP); `g = 3`
/// generates the right subgroup (`p mod 3 = 2`), as grammers' `check_p_and_g` demands.
pub const PRIME_HEX: &str = "c71caeb9c6b1c9048e6c522f70f13f73980d40238e3e21c14934d037563d930f\
48198a0aa7c14058229493d22530f4dbfa336f6e0ac925139543aed44cce7c37\
20fd51f69458705ac68cd4fe6b6b13abdc9746512969328454f18faf8c595f64\
2477fe96bb2a941d5bcd1d4ac8cc49880708fa9b378e3c4f3a9060bee67cf9a4\
a4a695811051907e162753b56b0f6b410dba74d8a84b2a14b3144e0ef1284754\
fd17ed950d5965b4b9dd46582db1178d169c6bc465b0d6ff9ca3928fef5b9ae4\
e418fc15e83ebea0f87fa9ff5eed70050ded2849f47bf959d956850ce929851f\
0d8115f635b105ee2e4e15d04b2454bf6f4fadf034b10403119cd8e3b92fcc5b";
pub const G: i32 = 3;

const PBKDF2_ROUNDS: u32 = 100_000;

/// The account's password parameters: salts and verifier, never the password itself.
#[derive(Clone)]
pub struct SrpVerifier {
    pub salt1: Vec<u8>,
    pub salt2: Vec<u8>,
    v: BigUint,
}

/// One `account.getPassword` answer's server secret, kept until the password is checked.
#[derive(Clone)]
pub struct SrpChallenge {
    pub srp_id: i64,
    pub g_b: Vec<u8>,
    b: BigUint,
}

impl std::fmt::Debug for SrpChallenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SrpChallenge")
            .field("srp_id", &self.srp_id)
            .finish_non_exhaustive()
    }
}

pub fn prime_bytes() -> Vec<u8> {
    PRIME_HEX
        .as_bytes()
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).expect("ascii"), 16).unwrap())
        .collect()
}

fn prime() -> BigUint {
    BigUint::from_bytes_be(&prime_bytes())
}

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

fn pad256(number: &BigUint) -> [u8; 256] {
    let bytes = number.to_bytes_be();
    let mut out = [0u8; 256];
    out[256 - bytes.len()..].copy_from_slice(&bytes);
    out
}

/// `SH(data, salt) = H(salt | data | salt)`.
fn salted(data: &[u8], salt: &[u8]) -> [u8; 32] {
    sha256(&[salt, data, salt])
}

/// PBKDF2-HMAC-SHA512, 64 bytes. Called exactly as grammers-crypto calls it so a debug
/// build reuses that crate's optimised instantiation (100 000 rounds unoptimised take seconds).
fn pbkdf2_sha512(password: &[u8], salt: &[u8], rounds: u32) -> [u8; 64] {
    let mut out = [0u8; 64];
    pbkdf2::pbkdf2::<pbkdf2::hmac::Hmac<pbkdf2::sha2::Sha512>>(password, salt, rounds, &mut out)
        .expect("HMAC accepts keys of any length");
    out
}

/// Telegram's `PH2(password, salt1, salt2)`.
fn password_hash(password: &[u8], salt1: &[u8], salt2: &[u8]) -> [u8; 32] {
    let ph1 = salted(&salted(password, salt1), salt2);
    salted(&pbkdf2_sha512(&ph1, salt1, PBKDF2_ROUNDS), salt2)
}

fn k_multiplier(p: &[u8]) -> BigUint {
    let g_padded = pad256(&BigUint::from(G as u32));
    BigUint::from_bytes_be(&sha256(&[p, &g_padded]))
}

impl SrpVerifier {
    /// Derives the verifier for `password` with fresh random salts (slow: 100 000 rounds).
    pub fn new(password: &str) -> Self {
        let mut rng = rand::thread_rng();
        let mut salt1 = vec![0u8; 40];
        let mut salt2 = vec![0u8; 16];
        rng.fill_bytes(&mut salt1);
        rng.fill_bytes(&mut salt2);
        let x = BigUint::from_bytes_be(&password_hash(password.as_bytes(), &salt1, &salt2));
        let v = BigUint::from(G as u32).modpow(&x, &prime());
        SrpVerifier { salt1, salt2, v }
    }

    /// A new challenge (`srp_B`, `srp_id`) for one login attempt.
    pub fn challenge(&self) -> SrpChallenge {
        let mut rng = rand::thread_rng();
        let mut b_bytes = [0u8; 256];
        rng.fill_bytes(&mut b_bytes);
        let p = prime();
        let b = BigUint::from_bytes_be(&b_bytes) % &p;
        let k = k_multiplier(&prime_bytes());
        let g_b = (k * &self.v + BigUint::from(G as u32).modpow(&b, &p)) % &p;
        SrpChallenge {
            srp_id: (rng.next_u64() >> 1) as i64,
            g_b: pad256(&g_b).to_vec(),
            b,
        }
    }

    /// Whether the client's `(A, M1)` proves knowledge of the password for `challenge`.
    pub fn verify(&self, challenge: &SrpChallenge, g_a: &[u8], m1: &[u8]) -> bool {
        let p = prime();
        let p_bytes = prime_bytes();
        let a = BigUint::from_bytes_be(g_a);
        if a == BigUint::from(0u8) || a >= p || g_a.len() > 256 {
            return false;
        }
        let g_a = pad256(&a);
        let g_b = &challenge.g_b;
        let u = BigUint::from_bytes_be(&sha256(&[&g_a, g_b]));
        let s = (a * self.v.modpow(&u, &p)).modpow(&challenge.b, &p);
        let k_a = sha256(&[&pad256(&s)]);
        let h_p = sha256(&[&p_bytes]);
        let h_g = sha256(&[&pad256(&BigUint::from(G as u32))]);
        let p_xor_g: Vec<u8> = h_p.iter().zip(h_g.iter()).map(|(x, y)| x ^ y).collect();
        let expected = sha256(&[
            &p_xor_g,
            &sha256(&[&self.salt1]),
            &sha256(&[&self.salt2]),
            &g_a,
            g_b,
            &k_a,
        ]);
        // Not secret-dependent timing in any way that matters for a sandbox, but cheap to do.
        subtle::ConstantTimeEq::ct_eq(&expected[..], m1).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prime_passes_the_clients_own_check() {
        assert_eq!(prime_bytes().len(), 256);
        assert!(grammers_crypto::two_factor_auth::check_p_and_g(
            &prime_bytes(),
            &G
        ));
    }

    #[test]
    fn the_right_password_verifies_and_a_wrong_one_does_not() {
        let verifier = SrpVerifier::new("correct horse");
        let challenge = verifier.challenge();
        let mut a = vec![0u8; 256];
        rand::thread_rng().fill_bytes(&mut a);
        let run = |password: &str| {
            grammers_crypto::two_factor_auth::calculate_2fa(
                &verifier.salt1,
                &verifier.salt2,
                &prime_bytes(),
                &G,
                challenge.g_b.clone(),
                a.clone(),
                password,
            )
        };
        let (m1, g_a) = run("correct horse");
        assert!(verifier.verify(&challenge, &g_a, &m1));
        let (bad_m1, bad_g_a) = run("wrong horse");
        assert!(!verifier.verify(&challenge, &bad_g_a, &bad_m1));
    }

    #[test]
    fn pbkdf2_matches_the_rfc_6070_style_vector_for_sha512() {
        // PBKDF2-HMAC-SHA512("password", "salt", 1), first 64 bytes (RFC 7914 family vectors).
        let out = pbkdf2_sha512(b"password", b"salt", 1);
        assert_eq!(&out[..8], &[0x86, 0x7f, 0x70, 0xcf, 0x1a, 0xde, 0x02, 0xcf]);
    }
}
