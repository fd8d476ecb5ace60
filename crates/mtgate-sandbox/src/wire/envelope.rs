//! The decrypted layer of MTProto: `salt | session_id | message`, messages, containers,
//! `gzip_packed`, and the server's own envelopes (`rpc_result`, `rpc_error`).

use std::io::Read;

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use grammers_tl_types::{self as tl, Cursor, Deserializable, Serializable};

use super::transport::MAX_PAYLOAD;

pub const MSG_CONTAINER_ID: u32 = 0x73f1f8dc;
pub const GZIP_PACKED_ID: u32 = 0x3072cfa1;
pub const RPC_RESULT_ID: u32 = 0xf35c6d01;
/// `msg_id | seq_no | bytes`.
pub const MESSAGE_HEADER_LEN: usize = 16;
/// Most messages a container may hold, per the MTProto spec.
const MAX_CONTAINER_LEN: usize = 1024;

/// Why a decrypted packet is unusable; the connection is closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("message is truncated or its length field is wrong")]
    Truncated,
    #[error("padding is outside 12..=1024 bytes")]
    Padding,
    #[error("container is malformed")]
    Container,
    #[error("gzip_packed does not inflate")]
    Gzip,
}

/// One MTProto message: `msg_id | seq_no | bytes | body`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub msg_id: i64,
    pub seq_no: i32,
    pub body: Vec<u8>,
}

impl Message {
    pub fn constructor_id(&self) -> Option<u32> {
        constructor_id(&self.body)
    }
}

/// A decrypted client packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    pub salt: i64,
    pub session_id: i64,
    pub message: Message,
}

pub fn constructor_id(body: &[u8]) -> Option<u32> {
    Some(u32::from_le_bytes(body.get(..4)?.try_into().ok()?))
}

/// Parses a decrypted packet, padding included.
pub fn parse_plaintext(plain: &[u8]) -> Result<Envelope, EnvelopeError> {
    let mut cursor = Cursor::from_slice(plain);
    let salt = i64::deserialize(&mut cursor).map_err(|_| EnvelopeError::Truncated)?;
    let session_id = i64::deserialize(&mut cursor).map_err(|_| EnvelopeError::Truncated)?;
    let message = read_message(&mut cursor)?;
    let padding = plain.len() - cursor.pos();
    if !(12..=1024).contains(&padding) {
        return Err(EnvelopeError::Padding);
    }
    Ok(Envelope {
        salt,
        session_id,
        message,
    })
}

fn read_message(cursor: &mut Cursor) -> Result<Message, EnvelopeError> {
    let msg_id = i64::deserialize(cursor).map_err(|_| EnvelopeError::Truncated)?;
    let seq_no = i32::deserialize(cursor).map_err(|_| EnvelopeError::Truncated)?;
    let len = i32::deserialize(cursor).map_err(|_| EnvelopeError::Truncated)?;
    let len = usize::try_from(len).map_err(|_| EnvelopeError::Truncated)?;
    if !len.is_multiple_of(4) || len > MAX_PAYLOAD {
        return Err(EnvelopeError::Truncated);
    }
    let mut body = vec![0; len];
    cursor
        .read_exact(&mut body)
        .map_err(|_| EnvelopeError::Truncated)?;
    Ok(Message {
        msg_id,
        seq_no,
        body,
    })
}

/// The messages a client message stands for: a container's contents, a `gzip_packed`'s
/// inflated body, or the message itself. Containers do not nest.
pub fn flatten(message: Message) -> Result<Vec<Message>, EnvelopeError> {
    let message = inflate_message(message)?;
    if message.constructor_id() != Some(MSG_CONTAINER_ID) {
        return Ok(vec![message]);
    }
    let mut cursor = Cursor::from_slice(&message.body[4..]);
    let count = i32::deserialize(&mut cursor).map_err(|_| EnvelopeError::Container)?;
    let count = usize::try_from(count).map_err(|_| EnvelopeError::Container)?;
    if count > MAX_CONTAINER_LEN {
        return Err(EnvelopeError::Container);
    }
    let mut inner = Vec::with_capacity(count);
    for _ in 0..count {
        let m = inflate_message(read_message(&mut cursor)?)?;
        if m.constructor_id() == Some(MSG_CONTAINER_ID) {
            return Err(EnvelopeError::Container);
        }
        inner.push(m);
    }
    if cursor.pos() + 4 != message.body.len() {
        return Err(EnvelopeError::Container);
    }
    Ok(inner)
}

fn inflate_message(message: Message) -> Result<Message, EnvelopeError> {
    if message.constructor_id() != Some(GZIP_PACKED_ID) {
        return Ok(message);
    }
    Ok(Message {
        body: gunzip(&message.body)?,
        ..message
    })
}

/// Inflates `gzip_packed#3072cfa1 packed_data:bytes`, refusing more than a packet's worth.
pub fn gunzip(body: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
    let mut cursor = Cursor::from_slice(body.get(4..).ok_or(EnvelopeError::Gzip)?);
    let packed = Vec::<u8>::deserialize(&mut cursor).map_err(|_| EnvelopeError::Gzip)?;
    let mut out = Vec::new();
    GzDecoder::new(&packed[..])
        .take(MAX_PAYLOAD as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|_| EnvelopeError::Gzip)?;
    if out.len() > MAX_PAYLOAD || out.len() < 4 || !out.len().is_multiple_of(4) {
        return Err(EnvelopeError::Gzip);
    }
    Ok(out)
}

/// `gzip_packed#3072cfa1 packed_data:bytes`.
pub fn gzip_packed(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    let packed = encoder
        .write_all(data)
        .and_then(|_| encoder.finish())
        .expect("in-memory gzip cannot fail");
    let mut out = GZIP_PACKED_ID.to_bytes();
    packed.serialize(&mut out);
    out
}

/// `rpc_result#f35c6d01 req_msg_id:long result:Object`.
pub fn rpc_result(req_msg_id: i64, result: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(12 + result.len());
    RPC_RESULT_ID.serialize(&mut out);
    req_msg_id.serialize(&mut out);
    out.extend_from_slice(result);
    out
}

/// `rpc_error#2144ca19 error_code:int error_message:string`, with its constructor id.
pub fn rpc_error(code: i32, message: &str) -> Vec<u8> {
    tl::enums::RpcError::Error(tl::types::RpcError {
        error_code: code,
        error_message: message.to_owned(),
    })
    .to_bytes()
}

/// Appends `msg_id | seq_no | bytes | body`.
pub fn write_message(out: &mut Vec<u8>, msg_id: i64, seq_no: i32, body: &[u8]) {
    msg_id.serialize(out);
    seq_no.serialize(out);
    (body.len() as i32).serialize(out);
    out.extend_from_slice(body);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(msg_id: i64, seq_no: i32, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        write_message(&mut out, msg_id, seq_no, body);
        out
    }

    fn plaintext(message: &[u8], padding: usize) -> Vec<u8> {
        let mut out = Vec::new();
        7i64.serialize(&mut out);
        9i64.serialize(&mut out);
        out.extend_from_slice(message);
        out.extend(std::iter::repeat_n(0xaa, padding));
        out
    }

    #[test]
    fn a_single_message_plaintext_parses() {
        let env = parse_plaintext(&plaintext(&msg(400, 1, b"abcdefgh"), 16)).unwrap();
        assert_eq!((env.salt, env.session_id), (7, 9));
        assert_eq!(env.message.msg_id, 400);
        assert_eq!(env.message.body, b"abcdefgh");
        assert_eq!(env.message.seq_no, 1);
    }

    #[test]
    fn bad_lengths_and_padding_are_rejected() {
        let mut m = msg(400, 1, b"abcdefgh");
        m[12] = 200; // claims 200 bytes
        assert_eq!(
            parse_plaintext(&plaintext(&m, 16)),
            Err(EnvelopeError::Truncated)
        );
        let m = msg(400, 1, b"abcdefgh");
        assert_eq!(
            parse_plaintext(&plaintext(&m, 4)),
            Err(EnvelopeError::Padding)
        );
        assert_eq!(parse_plaintext(&[0; 10]), Err(EnvelopeError::Truncated));
    }

    #[test]
    fn containers_flatten_and_gzipped_bodies_inflate() {
        let big: Vec<u8> = (0..2048u32).flat_map(|i| (i % 7).to_le_bytes()).collect();
        let mut body = MSG_CONTAINER_ID.to_bytes();
        2i32.serialize(&mut body);
        body.extend(msg(4, 1, b"ping"));
        body.extend(msg(8, 3, &gzip_packed(&big)));
        let inner = flatten(Message {
            msg_id: 12,
            seq_no: 4,
            body,
        })
        .unwrap();
        assert_eq!(inner.len(), 2);
        assert_eq!(inner[0].body, b"ping");
        assert_eq!(inner[1].msg_id, 8);
        assert_eq!(inner[1].body, big);
    }

    #[test]
    fn malformed_containers_and_gzip_are_rejected() {
        let mut body = MSG_CONTAINER_ID.to_bytes();
        5i32.serialize(&mut body);
        body.extend(msg(4, 1, b"ping"));
        let m = Message {
            msg_id: 1,
            seq_no: 0,
            body,
        };
        assert_eq!(flatten(m), Err(EnvelopeError::Truncated));
        let mut junk = GZIP_PACKED_ID.to_bytes();
        vec![1u8, 2, 3, 4, 5, 6, 7].serialize(&mut junk);
        assert_eq!(gunzip(&junk), Err(EnvelopeError::Gzip));
    }

    #[test]
    fn gzip_bombs_are_refused() {
        let bomb = gzip_packed(&vec![0u8; MAX_PAYLOAD + 4]);
        assert_eq!(gunzip(&bomb), Err(EnvelopeError::Gzip));
    }

    #[test]
    fn random_plaintexts_never_panic_the_parsers() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut parsed = 0;
        for _ in 0..5000 {
            let len = rng.gen_range(0..200);
            let mut plain: Vec<u8> = (0..len).map(|_| rng.r#gen()).collect();
            if plain.len() > 32 && rng.gen_bool(0.5) {
                // Plausible header: a small length and sometimes a container or gzip id.
                let body_len = (rng.gen_range(0..(plain.len() as u32 - 32)) / 4) * 4;
                plain[28..32].copy_from_slice(&body_len.to_le_bytes());
                if body_len >= 8 {
                    let id = [MSG_CONTAINER_ID, GZIP_PACKED_ID][rng.gen_range(0..2)];
                    plain[32..36].copy_from_slice(&id.to_le_bytes());
                }
            }
            if let Ok(env) = parse_plaintext(&plain)
                && let Ok(messages) = flatten(env.message)
            {
                parsed += 1;
                for m in messages {
                    let _ = crate::wire::service::classify(&m.body);
                }
            }
        }
        assert!(
            parsed > 100,
            "the inputs reach the inner parsers ({parsed})"
        );
    }
}
