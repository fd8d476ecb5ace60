//! The obfuscated transport, server side. A client opens with 64 random bytes: bytes 8..56
//! are the key and IV it encrypts with (AES-256-CTR), the same bytes reversed the key and IV
//! of the server's direction, and bytes 56..60, once decrypted, the tag of the transport
//! inside (Abridged, Intermediate or Padded intermediate). Everything after the header, both
//! ways, is that transport's stream under the two keystreams.
//!
//! MTProxy secrets (which hash a secret into both keys) are not supported: a header made
//! with one decrypts to a garbage tag, and that connection is closed.

// aes 0.9 deprecates its generic-array re-exports that `KeyIvInit` still names.
#![allow(deprecated)]

use aes::cipher::{KeyIvInit, StreamCipher};

use super::transport::TransportKind;

type Aes256Ctr = ctr::Ctr128BE<aes::Aes256>;

/// The length of the opening header.
pub const HEADER_LEN: usize = 64;

/// How a connection starts, judged from its first bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum Opening {
    /// Not enough bytes yet to tell.
    NeedMore,
    /// A plain transport (marker bytes, or a Full frame whose sequence number is 0).
    Plain,
    /// A 64-byte obfuscation header is there.
    Obfuscated,
}

/// Tells a plain transport from an obfuscated header, as Telegram does: clients never start
/// a header with a plain marker, nor with zero in bytes 4..8 (where Full's first seq is).
pub fn opening(first: &[u8]) -> Opening {
    match first {
        [0xef, ..] | [0xee, 0xee, 0xee, 0xee, ..] | [0xdd, 0xdd, 0xdd, 0xdd, ..] => Opening::Plain,
        _ if first.len() < 8 => Opening::NeedMore,
        [_, _, _, _, 0, 0, 0, 0, ..] => Opening::Plain,
        _ if first.len() < HEADER_LEN => Opening::NeedMore,
        _ => Opening::Obfuscated,
    }
}

/// Why an obfuscation header was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("obfuscation header names no known transport (tag {0:08x})")]
pub struct BadHeader(pub u32);

/// The two keystreams of an obfuscated connection.
pub struct Obfuscation {
    from_client: Aes256Ctr,
    to_client: Aes256Ctr,
}

impl std::fmt::Debug for Obfuscation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Obfuscation")
    }
}

fn cipher(key_iv: &[u8]) -> Aes256Ctr {
    Aes256Ctr::new_from_slices(&key_iv[..32], &key_iv[32..48]).expect("32-byte key, 16-byte IV")
}

impl Obfuscation {
    /// Reads a client's header: the keystreams (the client's already past the header) and
    /// the transport the tag names.
    pub fn open(header: &[u8; HEADER_LEN]) -> Result<(TransportKind, Obfuscation), BadHeader> {
        let reversed: Vec<u8> = header.iter().rev().copied().collect();
        let mut from_client = cipher(&header[8..56]);
        let to_client = cipher(&reversed[8..56]);
        let mut plain = *header;
        from_client.apply_keystream(&mut plain);
        let tag = u32::from_le_bytes(plain[56..60].try_into().expect("4 bytes"));
        let kind = match tag {
            0xefef_efef => TransportKind::Abridged,
            0xeeee_eeee => TransportKind::Intermediate,
            0xdddd_dddd => TransportKind::PaddedIntermediate,
            other => return Err(BadHeader(other)),
        };
        Ok((
            kind,
            Obfuscation {
                from_client,
                to_client,
            },
        ))
    }

    /// Decrypts bytes from the client, in stream order.
    pub fn decrypt(&mut self, bytes: &mut [u8]) {
        self.from_client.apply_keystream(bytes);
    }

    /// Encrypts bytes for the client, in stream order.
    pub fn encrypt(&mut self, bytes: &mut [u8]) {
        self.to_client.apply_keystream(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use grammers_crypto::DequeBuffer;
    use grammers_mtproto::transport::{self as gt, Tagged, Transport, UnpackedOffset};

    use crate::wire::transport::Framing;

    fn payload(n: usize, seed: u8) -> Vec<u8> {
        (0..n).map(|i| (i as u8).wrapping_mul(31) ^ seed).collect()
    }

    fn pack(client: &mut impl Transport, payload: &[u8]) -> Vec<u8> {
        let mut buf = DequeBuffer::with_capacity(payload.len(), 64 + 16);
        buf.extend(payload.iter().copied());
        client.pack(&mut buf);
        buf[..].to_vec()
    }

    /// The server side of one connection: header, then decrypted frames.
    fn server_reads(stream: &[u8]) -> (TransportKind, Obfuscation, Vec<Vec<u8>>) {
        assert_eq!(opening(stream), Opening::Obfuscated);
        let header: [u8; HEADER_LEN] = stream[..HEADER_LEN].try_into().unwrap();
        let (kind, mut obfuscation) = Obfuscation::open(&header).expect("a valid header");
        let mut rest = stream[HEADER_LEN..].to_vec();
        obfuscation.decrypt(&mut rest);
        let mut framing = Framing::new(kind);
        let mut frames = Vec::new();
        while let Some(frame) = framing.decode(&mut rest).unwrap() {
            frames.push(frame);
        }
        assert!(rest.is_empty());
        (kind, obfuscation, frames)
    }

    fn client_unpacks(client: &mut impl Transport, mut stream: Vec<u8>) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut at = 0;
        while at < stream.len() {
            let UnpackedOffset {
                data_range,
                next_offset,
            } = client.unpack(&mut stream[at..]).unwrap();
            out.push(stream[at..][data_range].to_vec());
            at += next_offset;
        }
        out
    }

    fn round_trip(mut client: impl Transport, expected: TransportKind) {
        let sent = [payload(40, 1), payload(600, 2), payload(24 + 16 * 9, 3)];
        let stream: Vec<u8> = sent.iter().flat_map(|p| pack(&mut client, p)).collect();
        let (kind, mut obfuscation, frames) = server_reads(&stream);
        assert_eq!(kind, expected);
        assert_eq!(frames, sent);

        let replies = [payload(56, 4), payload(1000, 5)];
        let mut framing = Framing::new(kind);
        let mut back: Vec<u8> = replies.iter().flat_map(|p| framing.encode(p)).collect();
        obfuscation.encrypt(&mut back);
        assert_eq!(client_unpacks(&mut client, back), replies);
    }

    #[test]
    fn grammers_obfuscated_intermediate_round_trips() {
        round_trip(
            gt::Obfuscated::new(gt::Intermediate::new()),
            TransportKind::Intermediate,
        );
    }

    #[test]
    fn grammers_obfuscated_abridged_round_trips() {
        round_trip(
            gt::Obfuscated::new(gt::Abridged::new()),
            TransportKind::Abridged,
        );
    }

    /// grammers has no padded intermediate: its intermediate with the padded tag and
    /// random padding after each packet, as the spec describes.
    struct Padded(gt::Intermediate);

    impl Tagged for Padded {
        fn init_tag(&mut self) -> [u8; 4] {
            [0xdd; 4]
        }
    }

    impl Transport for Padded {
        fn pack(&mut self, buffer: &mut DequeBuffer<u8>) {
            let padding = (buffer.len() % 13) + 1;
            let len = (buffer.len() + padding) as u32;
            buffer.extend((0..padding).map(|i| i as u8));
            buffer.extend_front(&len.to_le_bytes());
        }

        fn unpack(&mut self, buffer: &mut [u8]) -> Result<UnpackedOffset, gt::Error> {
            self.0.unpack(buffer)
        }
    }

    #[test]
    fn padded_intermediate_under_obfuscation_strips_the_padding() {
        let mut client = gt::Obfuscated::new(Padded(gt::Intermediate::new()));
        let sent = [payload(24 + 16, 6), payload(24 + 16 * 40, 7)];
        let stream: Vec<u8> = sent.iter().flat_map(|p| pack(&mut client, p)).collect();
        let (kind, _, frames) = server_reads(&stream);
        assert_eq!(kind, TransportKind::PaddedIntermediate);
        assert_eq!(frames, sent);
    }

    #[test]
    fn a_garbage_header_is_refused() {
        let header: [u8; HEADER_LEN] = std::array::from_fn(|i| (i * 37 + 11) as u8);
        assert_eq!(opening(&header), Opening::Obfuscated);
        assert!(Obfuscation::open(&header).is_err());
    }

    #[test]
    fn plain_transports_are_told_apart_from_headers() {
        assert_eq!(opening(&[0xef]), Opening::Plain);
        assert_eq!(opening(&[0xee; 4]), Opening::Plain);
        assert_eq!(opening(&[0xdd; 4]), Opening::Plain);
        assert_eq!(opening(&[40, 0, 0, 0]), Opening::NeedMore);
        assert_eq!(opening(&[40, 0, 0, 0, 0, 0, 0, 0]), Opening::Plain);
        assert_eq!(opening(&[40, 0, 0, 0, 1, 0, 0, 0]), Opening::NeedMore);
    }
}
