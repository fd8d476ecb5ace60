//! MTProto TCP transports, server side: Full, Intermediate (plain and padded) and Abridged.
//!
//! A connection announces its transport with its first bytes (`0xef` abridged, `0xeeeeeeee`
//! intermediate, `0xdddddddd` padded intermediate); anything else is the first frame of the
//! Full transport (once `obfuscated` has ruled out an obfuscation header). Every framing
//! error is fatal for the connection: the caller closes it.

use rand::Rng;

/// The largest payload (one encrypted MTProto packet) accepted or sent, as Telegram does.
pub const MAX_PAYLOAD: usize = 1024 * 1024;

/// Which framing a connection speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportKind {
    Full,
    Intermediate,
    PaddedIntermediate,
    Abridged,
}

/// Why a connection's byte stream cannot be framed any more.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("frame length {0} is out of range")]
    Length(usize),
    #[error("full transport sequence number {got}, expected {expected}")]
    Seq { expected: u32, got: u32 },
    #[error("full transport crc32 mismatch")]
    Crc,
}

/// Tells the transport from the first bytes of a connection. Returns the kind and how many
/// marker bytes to skip, or `None` while fewer than 4 bytes (1 for abridged) have arrived.
pub fn detect(first: &[u8]) -> Option<(TransportKind, usize)> {
    match first {
        [0xef, ..] => Some((TransportKind::Abridged, 1)),
        [0xee, 0xee, 0xee, 0xee, ..] => Some((TransportKind::Intermediate, 4)),
        [0xdd, 0xdd, 0xdd, 0xdd, ..] => Some((TransportKind::PaddedIntermediate, 4)),
        [_, _, _, _, ..] => Some((TransportKind::Full, 0)),
        _ => None,
    }
}

/// Framing state of one connection (the Full transport counts frames in each direction).
#[derive(Debug)]
pub struct Framing {
    kind: TransportKind,
    recv_seq: u32,
    send_seq: u32,
}

impl Framing {
    pub fn new(kind: TransportKind) -> Self {
        Self {
            kind,
            recv_seq: 0,
            send_seq: 0,
        }
    }

    #[cfg(test)]
    pub fn kind(&self) -> TransportKind {
        self.kind
    }

    /// Takes one frame off the front of `buf` (marker bytes already removed). `Ok(None)`
    /// means more bytes are needed; the buffer is only consumed when a whole frame is there.
    pub fn decode(&mut self, buf: &mut Vec<u8>) -> Result<Option<Vec<u8>>, FrameError> {
        let (header, len) = match self.kind {
            TransportKind::Full => {
                let Some(len) = read_u32(buf, 0) else {
                    return Ok(None);
                };
                let len = len as usize;
                if !(12..=MAX_PAYLOAD + 12).contains(&len) || !len.is_multiple_of(4) {
                    return Err(FrameError::Length(len));
                }
                (0, len)
            }
            TransportKind::Intermediate | TransportKind::PaddedIntermediate => {
                let Some(len) = read_u32(buf, 0) else {
                    return Ok(None);
                };
                // The top bit asks for a quick ack, which this server does not send.
                let len = (len & 0x7fff_ffff) as usize;
                let aligned =
                    self.kind == TransportKind::PaddedIntermediate || len.is_multiple_of(4);
                if len == 0 || len > MAX_PAYLOAD + 16 || !aligned {
                    return Err(FrameError::Length(len));
                }
                (4, len)
            }
            TransportKind::Abridged => {
                let Some(&first) = buf.first() else {
                    return Ok(None);
                };
                let (header, words) = if first & 0x7f == 0x7f {
                    let Some(word) = read_u32(buf, 0) else {
                        return Ok(None);
                    };
                    (4, (word >> 8) as usize)
                } else {
                    (1, (first & 0x7f) as usize)
                };
                let len = words * 4;
                if len == 0 || len > MAX_PAYLOAD {
                    return Err(FrameError::Length(len));
                }
                (header, len)
            }
        };
        if buf.len() < header + len {
            return Ok(None);
        }
        let payload = match self.kind {
            TransportKind::Full => {
                let seq = read_u32(buf, 4).unwrap_or_default();
                if seq != self.recv_seq {
                    return Err(FrameError::Seq {
                        expected: self.recv_seq,
                        got: seq,
                    });
                }
                let crc = read_u32(buf, len - 4).unwrap_or_default();
                if crc != crc32fast::hash(&buf[..len - 4]) {
                    return Err(FrameError::Crc);
                }
                self.recv_seq = self.recv_seq.wrapping_add(1);
                buf[8..len - 4].to_vec()
            }
            TransportKind::PaddedIntermediate => {
                // Random padding (0..=15 bytes) follows the encrypted packet, whose own
                // length is 24 + 16k: cut it off.
                let body = &buf[header..header + len];
                let real = if len >= 24 {
                    len - (len - 24) % 16
                } else {
                    len
                };
                body[..real].to_vec()
            }
            _ => buf[header..header + len].to_vec(),
        };
        buf.drain(..header + len);
        Ok(Some(payload))
    }

    /// Frames `payload` (a multiple of 4 bytes) for sending.
    pub fn encode(&mut self, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(payload.len() + 16);
        match self.kind {
            TransportKind::Full => {
                let len = (payload.len() + 12) as u32;
                out.extend_from_slice(&len.to_le_bytes());
                out.extend_from_slice(&self.send_seq.to_le_bytes());
                out.extend_from_slice(payload);
                let crc = crc32fast::hash(&out);
                out.extend_from_slice(&crc.to_le_bytes());
                self.send_seq = self.send_seq.wrapping_add(1);
            }
            TransportKind::Intermediate => {
                out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
                out.extend_from_slice(payload);
            }
            TransportKind::PaddedIntermediate => {
                let mut rng = rand::thread_rng();
                let padding = rng.gen_range(0..16);
                out.extend_from_slice(&((payload.len() + padding) as u32).to_le_bytes());
                out.extend_from_slice(payload);
                out.extend((0..padding).map(|_| rng.r#gen::<u8>()));
            }
            TransportKind::Abridged => {
                let words = payload.len() / 4;
                // Clients (grammers among them) read a 1-byte-length frame whose first word
                // is negative as a transport error; a random auth_key_id often looks like
                // one, so such frames take the (equally valid to parse) 4-byte length form.
                let looks_like_error = payload
                    .get(..4)
                    .is_some_and(|w| i32::from_le_bytes(w.try_into().unwrap_or_default()) < 0);
                if words < 0x7f && !looks_like_error {
                    out.push(words as u8);
                } else {
                    out.extend_from_slice(&(0x7f | ((words as u32) << 8)).to_le_bytes());
                }
                out.extend_from_slice(payload);
            }
        }
        out
    }

    /// The transport error packet Telegram sends (e.g. -404 for an unknown auth key): the bare
    /// negative code on Full, a 4-byte frame holding it on the others.
    pub fn encode_error(&mut self, code: i32) -> Vec<u8> {
        let code = (-code.abs()).to_le_bytes();
        match self.kind {
            TransportKind::Full => code.to_vec(),
            TransportKind::Abridged => [&[1u8][..], &code].concat(),
            _ => self.encode(&code),
        }
    }
}

fn read_u32(buf: &[u8], at: usize) -> Option<u32> {
    let bytes = buf.get(at..at + 4)?;
    Some(u32::from_le_bytes(bytes.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use grammers_crypto::DequeBuffer;
    use grammers_mtproto::transport::{self as gt, Transport};

    fn payload(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 % 251) as u8).collect()
    }

    /// Packs `payloads` with a grammers client transport, as one byte stream.
    fn client_stream(transport: &mut impl Transport, payloads: &[Vec<u8>]) -> Vec<u8> {
        let mut stream = Vec::new();
        for p in payloads {
            let mut buf = DequeBuffer::with_capacity(p.len(), 16);
            buf.extend(p.iter().copied());
            transport.pack(&mut buf);
            stream.extend_from_slice(&buf[..]);
        }
        stream
    }

    /// Detects and decodes a whole client stream, feeding it byte by byte.
    fn server_decode(stream: &[u8]) -> (TransportKind, Vec<Vec<u8>>) {
        let mut buf = Vec::new();
        let mut framing = None;
        let mut out = Vec::new();
        for &b in stream {
            buf.push(b);
            if framing.is_none() {
                if let Some((kind, skip)) = detect(&buf) {
                    buf.drain(..skip);
                    framing = Some(Framing::new(kind));
                } else {
                    continue;
                }
            }
            let f = framing.as_mut().unwrap();
            while let Some(p) = f.decode(&mut buf).unwrap() {
                out.push(p);
            }
        }
        assert!(buf.is_empty(), "left-over bytes");
        (framing.unwrap().kind(), out)
    }

    fn sizes() -> Vec<Vec<u8>> {
        vec![
            payload(24 + 16),
            payload(4),
            payload(504),
            payload(600),
            payload(4096),
        ]
    }

    #[test]
    fn frames_from_grammers_full_transport_are_decoded_in_order() {
        let stream = client_stream(&mut gt::Full::new(), &sizes());
        assert_eq!(server_decode(&stream), (TransportKind::Full, sizes()));
    }

    #[test]
    fn frames_from_grammers_intermediate_transport_are_decoded() {
        let stream = client_stream(&mut gt::Intermediate::new(), &sizes());
        assert_eq!(
            server_decode(&stream),
            (TransportKind::Intermediate, sizes())
        );
    }

    #[test]
    fn frames_from_grammers_abridged_transport_are_decoded_including_long_ones() {
        let stream = client_stream(&mut gt::Abridged::new(), &sizes());
        assert_eq!(server_decode(&stream), (TransportKind::Abridged, sizes()));
    }

    /// Unpacks a server byte stream with a grammers client transport.
    fn client_unpack(transport: &mut impl Transport, mut stream: Vec<u8>) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut at = 0;
        while at < stream.len() {
            let off = transport.unpack(&mut stream[at..]).unwrap();
            out.push(stream[at..][off.data_range].to_vec());
            at += off.next_offset;
        }
        out
    }

    /// Server payloads: never 4 bytes, which grammers reads as a transport error code.
    fn server_sizes() -> Vec<Vec<u8>> {
        vec![
            payload(24 + 16),
            payload(8),
            payload(504),
            payload(600),
            payload(4096),
        ]
    }

    fn server_stream(kind: TransportKind) -> Vec<u8> {
        let mut framing = Framing::new(kind);
        server_sizes()
            .iter()
            .flat_map(|p| framing.encode(p))
            .collect()
    }

    #[test]
    fn server_frames_parse_with_grammers_client_transports() {
        let full = client_unpack(&mut gt::Full::new(), server_stream(TransportKind::Full));
        assert_eq!(full, server_sizes());
        let inter = client_unpack(
            &mut gt::Intermediate::new(),
            server_stream(TransportKind::Intermediate),
        );
        assert_eq!(inter, server_sizes());
        let abridged = client_unpack(
            &mut gt::Abridged::new(),
            server_stream(TransportKind::Abridged),
        );
        assert_eq!(abridged, server_sizes());
    }

    #[test]
    fn short_abridged_frames_starting_with_a_negative_word_are_not_read_as_errors() {
        let mut packet = payload(40);
        packet[3] = 0x80; // the first word (an auth_key_id's low half) is negative
        let stream = Framing::new(TransportKind::Abridged).encode(&packet);
        let got = client_unpack(&mut gt::Abridged::new(), stream.clone());
        assert_eq!(got, vec![packet]);
        let mut reader = Framing::new(TransportKind::Abridged);
        assert!(reader.decode(&mut stream.clone()).unwrap().is_some());
    }

    #[test]
    fn padded_intermediate_round_trips_encrypted_sized_payloads() {
        let packets = vec![payload(24 + 16), payload(24 + 160)];
        let mut server = Framing::new(TransportKind::PaddedIntermediate);
        let mut stream: Vec<u8> = packets.iter().flat_map(|p| server.encode(p)).collect();
        let mut reader = Framing::new(TransportKind::PaddedIntermediate);
        let mut got = Vec::new();
        while let Some(p) = reader.decode(&mut stream).unwrap() {
            got.push(p);
        }
        assert_eq!(got, packets);
    }

    #[test]
    fn transport_errors_read_as_bad_status_404_in_grammers() {
        let status = Err(gt::Error::BadStatus { status: 404 });
        let mut full = Framing::new(TransportKind::Full).encode_error(-404);
        assert_eq!(gt::Full::new().unpack(&mut full), status);
        let mut inter = Framing::new(TransportKind::Intermediate).encode_error(-404);
        assert_eq!(gt::Intermediate::new().unpack(&mut inter), status);
        let mut abridged = Framing::new(TransportKind::Abridged).encode_error(-404);
        assert_eq!(gt::Abridged::new().unpack(&mut abridged), status);
    }

    #[test]
    fn a_wrong_full_sequence_number_is_an_error() {
        let mut stream = client_stream(&mut gt::Full::new(), &[payload(8)]);
        stream[4] = 1;
        let err = Framing::new(TransportKind::Full).decode(&mut stream);
        assert_eq!(
            err,
            Err(FrameError::Seq {
                expected: 0,
                got: 1
            })
        );
    }

    #[test]
    fn a_wrong_full_crc_is_an_error() {
        let mut stream = client_stream(&mut gt::Full::new(), &[payload(8)]);
        let last = stream.len() - 1;
        stream[last] ^= 0x55;
        let err = Framing::new(TransportKind::Full).decode(&mut stream);
        assert_eq!(err, Err(FrameError::Crc));
    }

    #[test]
    fn oversize_and_undersize_lengths_are_errors() {
        let mut big = ((MAX_PAYLOAD + 16) as u32).to_le_bytes().to_vec();
        assert!(Framing::new(TransportKind::Full).decode(&mut big).is_err());
        let mut small = 8u32.to_le_bytes().to_vec();
        assert!(
            Framing::new(TransportKind::Full)
                .decode(&mut small)
                .is_err()
        );
        let mut big = ((MAX_PAYLOAD + 64) as u32).to_le_bytes().to_vec();
        assert!(
            Framing::new(TransportKind::Intermediate)
                .decode(&mut big)
                .is_err()
        );
        let mut big = (0x7f | (((MAX_PAYLOAD / 4 + 1) as u32) << 8))
            .to_le_bytes()
            .to_vec();
        assert!(
            Framing::new(TransportKind::Abridged)
                .decode(&mut big)
                .is_err()
        );
    }

    #[test]
    fn a_truncated_frame_waits_for_more_bytes() {
        let stream = client_stream(&mut gt::Full::new(), &[payload(64)]);
        let mut partial = stream[..stream.len() - 1].to_vec();
        let mut framing = Framing::new(TransportKind::Full);
        assert_eq!(framing.decode(&mut partial), Ok(None));
        partial.push(*stream.last().unwrap());
        assert_eq!(framing.decode(&mut partial), Ok(Some(payload(64))));
    }

    #[test]
    fn random_byte_streams_never_panic_the_framing() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let mut frames = 0;
        for _ in 0..5000 {
            let markers: [&[u8]; 4] = [&[], &[0xef], &[0xee; 4], &[0xdd; 4]];
            let mut stream = markers[rng.gen_range(0..4)].to_vec();
            let len: u32 = rng.gen_range(0..48);
            if rng.gen_bool(0.5) {
                // A plausible length header, so decoding gets past it.
                match stream.first() {
                    Some(0xef) => stream.push((len / 4) as u8),
                    Some(_) => stream.extend(len.to_le_bytes()),
                    None => stream.extend((len / 4 * 4 + 12).to_le_bytes()),
                }
            }
            stream.extend((0..len + 8).map(|_| rng.r#gen::<u8>()));
            let Some((kind, skip)) = detect(&stream) else {
                continue;
            };
            stream.drain(..skip);
            let mut framing = Framing::new(kind);
            while let Ok(Some(_)) = framing.decode(&mut stream) {
                frames += 1;
            }
        }
        assert!(frames > 100, "some random streams frame ({frames})");
    }
}
