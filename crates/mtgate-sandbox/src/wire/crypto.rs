//! MTProto 2.0 message encryption, server side.
//!
//! grammers-crypto only implements the client's directions (it encrypts with x = 0 and
//! decrypts with x = 8); the server needs the mirror image: decrypt client packets with x = 0,
//! encrypt its own with x = 8. AES-IGE itself is grammers-crypto's.

use grammers_crypto::aes;
use rand::RngCore;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::rpc::AUTH_KEY_LEN;

/// Client → server key derivation offset.
const X_CLIENT: usize = 0;
/// Server → client key derivation offset.
const X_SERVER: usize = 8;

/// A permanent authorization key with its id. `Debug` never shows the key bytes.
#[derive(Clone)]
pub struct ServerKey {
    data: [u8; AUTH_KEY_LEN],
    id: i64,
}

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerKey").field("id", &self.id).finish()
    }
}

/// Why a client packet was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("encrypted packet has an impossible length")]
    BadLength,
    #[error("packet is for another auth key")]
    WrongKey,
    #[error("msg_key does not match the plaintext")]
    BadMsgKey,
}

/// `SHA1(auth_key)[12..20]` as a little-endian i64, as written on the wire.
pub fn auth_key_id(data: &[u8; AUTH_KEY_LEN]) -> i64 {
    let sha = Sha1::digest(data);
    i64::from_le_bytes(sha[12..20].try_into().expect("8 bytes"))
}

/// The auth_key_id a packet names (its first 8 bytes), if it has them.
pub fn packet_key_id(packet: &[u8]) -> Option<i64> {
    Some(i64::from_le_bytes(packet.get(..8)?.try_into().ok()?))
}

impl ServerKey {
    pub fn new(data: [u8; AUTH_KEY_LEN]) -> Self {
        let id = auth_key_id(&data);
        Self { data, id }
    }

    pub fn id(&self) -> i64 {
        self.id
    }

    /// Checks and decrypts a client packet (`auth_key_id | msg_key | ciphertext`), returning
    /// the plaintext with its padding still on.
    pub fn decrypt_from_client(&self, packet: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if packet.len() < 24 + 16 || !(packet.len() - 24).is_multiple_of(16) {
            return Err(CryptoError::BadLength);
        }
        if packet_key_id(packet) != Some(self.id) {
            return Err(CryptoError::WrongKey);
        }
        let msg_key: [u8; 16] = packet[8..24].try_into().expect("16 bytes");
        let (key, iv) = self.aes_key_iv(&msg_key, X_CLIENT);
        let mut plaintext = packet[24..].to_vec();
        aes::ige_decrypt(&mut plaintext, &key, &iv);
        if self.msg_key(&plaintext, X_CLIENT) != msg_key {
            return Err(CryptoError::BadMsgKey);
        }
        Ok(plaintext)
    }

    /// Pads and encrypts a plaintext (`salt | session_id | message`) for the client.
    pub fn encrypt_for_client(&self, plaintext: &[u8]) -> Vec<u8> {
        // MTProto 2.0: 12..=1024 bytes of random padding, total a multiple of 16.
        let padding = 12 + (16 - (plaintext.len() + 12) % 16) % 16;
        let mut data = Vec::with_capacity(plaintext.len() + padding + 24);
        data.extend_from_slice(plaintext);
        let mut pad = [0u8; 28];
        rand::thread_rng().fill_bytes(&mut pad);
        data.extend_from_slice(&pad[..padding]);

        let msg_key = self.msg_key(&data, X_SERVER);
        let (key, iv) = self.aes_key_iv(&msg_key, X_SERVER);
        aes::ige_encrypt(&mut data, &key, &iv);

        let mut packet = Vec::with_capacity(data.len() + 24);
        packet.extend_from_slice(&self.id.to_le_bytes());
        packet.extend_from_slice(&msg_key);
        packet.extend_from_slice(&data);
        packet
    }

    /// `msg_key = SHA256(substr(auth_key, 88 + x, 32) + plaintext_with_padding)[8..24]`.
    fn msg_key(&self, padded: &[u8], x: usize) -> [u8; 16] {
        let large = Sha256::new()
            .chain_update(&self.data[88 + x..88 + x + 32])
            .chain_update(padded)
            .finalize();
        large[8..24].try_into().expect("16 bytes")
    }

    /// The MTProto 2.0 `(aes_key, aes_iv)` derivation.
    fn aes_key_iv(&self, msg_key: &[u8; 16], x: usize) -> ([u8; 32], [u8; 32]) {
        let a = Sha256::new()
            .chain_update(msg_key)
            .chain_update(&self.data[x..x + 36])
            .finalize();
        let b = Sha256::new()
            .chain_update(&self.data[40 + x..40 + x + 36])
            .chain_update(msg_key)
            .finalize();
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&a[..8]);
        key[8..24].copy_from_slice(&b[8..24]);
        key[24..].copy_from_slice(&a[24..]);
        let mut iv = [0u8; 32];
        iv[..8].copy_from_slice(&b[..8]);
        iv[8..24].copy_from_slice(&a[8..24]);
        iv[24..].copy_from_slice(&b[24..]);
        (key, iv)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use grammers_crypto::{AuthKey, DequeBuffer, decrypt_data_v2, encrypt_data_v2};

    fn key_bytes() -> [u8; AUTH_KEY_LEN] {
        let mut data = [0u8; AUTH_KEY_LEN];
        data.iter_mut()
            .enumerate()
            .for_each(|(i, b)| *b = (i * 31 + 7) as u8);
        data
    }

    fn plaintext(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 13) as u8).collect()
    }

    #[test]
    fn the_key_id_matches_grammers() {
        let grammers_packet = {
            let mut buf = DequeBuffer::with_capacity(16, 32);
            buf.extend(plaintext(16));
            encrypt_data_v2(&mut buf, &AuthKey::from_bytes(key_bytes()));
            buf[..].to_vec()
        };
        assert_eq!(
            packet_key_id(&grammers_packet),
            Some(ServerKey::new(key_bytes()).id())
        );
    }

    #[test]
    fn server_packets_decrypt_with_grammers_client_code() {
        let server = ServerKey::new(key_bytes());
        for n in [16, 20, 36, 48, 1000, 4096] {
            let mut packet = server.encrypt_for_client(&plaintext(n));
            let got = decrypt_data_v2(&mut packet, &AuthKey::from_bytes(key_bytes()))
                .expect("grammers accepts the server's packet");
            assert_eq!(&got[..n], &plaintext(n)[..]);
            assert!((12..=1024).contains(&(got.len() - n)));
        }
    }

    #[test]
    fn grammers_client_packets_decrypt_with_server_code() {
        let server = ServerKey::new(key_bytes());
        for n in [16, 20, 36, 48, 1000, 4096] {
            let mut buf = DequeBuffer::with_capacity(n, 32);
            buf.extend(plaintext(n));
            encrypt_data_v2(&mut buf, &AuthKey::from_bytes(key_bytes()));
            let got = server.decrypt_from_client(&buf[..]).expect("valid packet");
            assert_eq!(&got[..n], &plaintext(n)[..]);
        }
    }

    #[test]
    fn a_tampered_packet_fails_the_msg_key_check() {
        let server = ServerKey::new(key_bytes());
        let mut buf = DequeBuffer::with_capacity(64, 32);
        buf.extend(plaintext(64));
        encrypt_data_v2(&mut buf, &AuthKey::from_bytes(key_bytes()));
        let mut packet = buf[..].to_vec();
        let last = packet.len() - 1;
        packet[last] ^= 1;
        assert_eq!(
            server.decrypt_from_client(&packet),
            Err(CryptoError::BadMsgKey)
        );
    }

    #[test]
    fn the_server_cannot_read_its_own_direction() {
        // Directions differ (x = 0 vs x = 8): a server packet is not a valid client packet.
        let server = ServerKey::new(key_bytes());
        let packet = server.encrypt_for_client(&plaintext(32));
        assert_eq!(
            server.decrypt_from_client(&packet),
            Err(CryptoError::BadMsgKey)
        );
    }

    #[test]
    fn packets_for_another_key_or_of_bad_length_are_rejected() {
        let server = ServerKey::new(key_bytes());
        let other = ServerKey::new([9u8; AUTH_KEY_LEN]);
        let packet = other.encrypt_for_client(&plaintext(32));
        assert_eq!(
            server.decrypt_from_client(&packet),
            Err(CryptoError::WrongKey)
        );
        assert_eq!(
            server.decrypt_from_client(&packet[..packet.len() - 4]),
            Err(CryptoError::BadLength)
        );
    }
}
