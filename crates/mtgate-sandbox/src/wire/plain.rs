//! Unencrypted packets: the start of a key exchange.
//!
//! The sandbox creates no auth keys (its sessions carry keys it made itself). Hanging up on a
//! client that starts an exchange looks like a network failure ("read 0 bytes"), so the
//! first step, `req_pq_multi`, gets a well-formed `resPQ` that names only
//! [`NO_KEY_EXCHANGE_FINGERPRINT`] as the server's RSA key. No client knows that key, so one
//! stops at once with "unknown fingerprints" listing it, and a client that knows this
//! constant (`mtgate login`) can say what to do instead: log in on the sandbox's
//! `unauthorized_session`.

use grammers_tl_types::{self as tl, Deserializable, Identifiable, Serializable};

use super::msg_id::{MsgIdGen, MsgKind};

/// The only RSA key fingerprint the sandbox offers: "SANDBOX!" in ASCII, a key nobody has.
pub const NO_KEY_EXCHANGE_FINGERPRINT: i64 = i64::from_be_bytes(*b"SANDBOX!");

/// The product of two primes from MTProto's own key-exchange example; clients factor it
/// before looking at the fingerprints, so it must be a real `pq`.
const PQ: u64 = 0x17ED_4894_1A08_F981;

/// The answer to one unencrypted packet (`auth_key_id = 0 | msg_id | length | body`):
/// a `resPQ` for `req_pq_multi`, nothing for anything else (the connection then closes).
pub fn answer(payload: &[u8]) -> Option<Vec<u8>> {
    let length = i32::from_le_bytes(payload.get(16..20)?.try_into().ok()?);
    let body = payload.get(20..20 + usize::try_from(length).ok()?)?;
    let constructor = u32::from_le_bytes(body.get(..4)?.try_into().ok()?);
    if constructor != tl::functions::ReqPqMulti::CONSTRUCTOR_ID {
        return None;
    }
    let request = tl::functions::ReqPqMulti::from_bytes(&body[4..]).ok()?;
    let reply = tl::enums::ResPq::Pq(tl::types::ResPq {
        nonce: request.nonce,
        server_nonce: rand::random(),
        pq: PQ.to_be_bytes().to_vec(),
        server_public_key_fingerprints: vec![NO_KEY_EXCHANGE_FINGERPRINT],
    })
    .to_bytes();
    let mut packet = Vec::with_capacity(20 + reply.len());
    packet.extend_from_slice(&0i64.to_le_bytes());
    packet.extend_from_slice(&MsgIdGen::new().next(MsgKind::Response).to_le_bytes());
    packet.extend_from_slice(&(reply.len() as i32).to_le_bytes());
    packet.extend_from_slice(&reply);
    Some(packet)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(body: &[u8]) -> Vec<u8> {
        let mut packet = vec![0u8; 8];
        packet.extend_from_slice(&(1i64 << 32).to_le_bytes());
        packet.extend_from_slice(&(body.len() as i32).to_le_bytes());
        packet.extend_from_slice(body);
        packet
    }

    #[test]
    fn req_pq_multi_gets_a_res_pq_with_only_the_sandbox_fingerprint() {
        let nonce = [7u8; 16];
        let request = tl::functions::ReqPqMulti { nonce }.to_bytes();
        let reply = answer(&plain(&request)).expect("an answer");
        assert_eq!(&reply[..8], &[0u8; 8], "unencrypted");
        let msg_id = i64::from_le_bytes(reply[8..16].try_into().unwrap());
        assert_eq!(msg_id % 4, 1, "a server response id");
        let length = i32::from_le_bytes(reply[16..20].try_into().unwrap()) as usize;
        assert_eq!(reply.len(), 20 + length);
        let tl::enums::ResPq::Pq(res) = tl::enums::ResPq::from_bytes(&reply[20..]).unwrap();
        assert_eq!(res.nonce, nonce);
        assert_eq!(res.pq.len(), 8);
        assert_eq!(
            res.server_public_key_fingerprints,
            vec![NO_KEY_EXCHANGE_FINGERPRINT]
        );
    }

    #[test]
    fn anything_else_unencrypted_gets_no_answer() {
        assert_eq!(answer(&[0u8; 40]), None);
        assert_eq!(answer(&plain(&[1, 2, 3, 4, 5])), None);
        assert_eq!(answer(&[0u8; 12]), None);
        let mut lying = plain(&tl::functions::ReqPqMulti { nonce: [1; 16] }.to_bytes());
        lying[16..20].copy_from_slice(&1000i32.to_le_bytes());
        assert_eq!(answer(&lying), None);
    }
}
