//! Server → client: giving messages their msg_ids and seq_nos, packing several into a
//! container, encrypting and framing them.

use grammers_tl_types::Serializable;
use tracing::debug;

use super::crypto::ServerKey;
use super::envelope::{MESSAGE_HEADER_LEN, MSG_CONTAINER_ID, write_message};
use super::msg_id::{MsgIdGen, MsgKind};
use super::session::SessionState;
use super::transport::{Framing, MAX_PAYLOAD};

/// Largest message body that still fits one packet after headers and padding.
pub const MAX_BODY: usize = MAX_PAYLOAD - 128;

/// One server → client message before it gets its msg_id and seq_no.
#[derive(Debug)]
pub struct OutMsg {
    pub body: Vec<u8>,
    pub content_related: bool,
    pub kind: MsgKind,
}

impl OutMsg {
    /// An answer that needs an ack (results, pongs, salts, new_session_created, …).
    pub fn response(body: Vec<u8>) -> Self {
        Self {
            body,
            content_related: true,
            kind: MsgKind::Response,
        }
    }

    /// An answer that needs no ack (acks, bad_msg notifications).
    pub fn notice(body: Vec<u8>) -> Self {
        Self {
            body,
            content_related: false,
            kind: MsgKind::Response,
        }
    }

    /// Something the server says on its own (pushed updates).
    pub fn initiated(body: Vec<u8>) -> Self {
        Self {
            body,
            content_related: true,
            kind: MsgKind::Initiated,
        }
    }
}

/// The connection's outgoing half: its framing and its msg_id sequence.
#[derive(Debug)]
pub struct Outgoing {
    pub framing: Framing,
    ids: MsgIdGen,
}

impl Outgoing {
    pub fn new(framing: Framing) -> Self {
        Self {
            framing,
            ids: MsgIdGen::new(),
        }
    }

    /// Turns messages for one session into framed, encrypted packets: one packet (with a
    /// container when there are several) unless that would be too large. Messages no packet
    /// can carry are dropped (and logged).
    pub fn seal(
        &mut self,
        key: &ServerKey,
        salt: i64,
        session_id: i64,
        session: &mut SessionState,
        msgs: Vec<OutMsg>,
    ) -> Vec<Vec<u8>> {
        let msgs: Vec<OutMsg> = msgs
            .into_iter()
            .filter(|m| {
                let fits = m.body.len() <= MAX_BODY;
                if !fits {
                    debug!(len = m.body.len(), "dropping an oversize message");
                }
                fits
            })
            .collect();
        let total: usize = msgs.iter().map(|m| m.body.len() + MESSAGE_HEADER_LEN).sum();
        if msgs.len() > 1 && total + 8 + MESSAGE_HEADER_LEN > MAX_BODY {
            return msgs
                .into_iter()
                .flat_map(|m| self.seal(key, salt, session_id, session, vec![m]))
                .collect();
        }
        let mut message = Vec::with_capacity(total + 32);
        match &msgs[..] {
            [] => return Vec::new(),
            [m] => {
                let msg_id = self.ids.next(m.kind);
                let seq_no = session.next_seq_no(m.content_related);
                write_message(&mut message, msg_id, seq_no, &m.body);
            }
            many => {
                let mut body = Vec::with_capacity(total + 8);
                MSG_CONTAINER_ID.serialize(&mut body);
                (many.len() as i32).serialize(&mut body);
                for m in many {
                    let msg_id = self.ids.next(m.kind);
                    let seq_no = session.next_seq_no(m.content_related);
                    write_message(&mut body, msg_id, seq_no, &m.body);
                }
                // The container's own id comes last, so it is above those it carries.
                let msg_id = self.ids.next(MsgKind::Response);
                let seq_no = session.next_seq_no(false);
                write_message(&mut message, msg_id, seq_no, &body);
            }
        }
        let mut plaintext = Vec::with_capacity(message.len() + 16);
        salt.serialize(&mut plaintext);
        session_id.serialize(&mut plaintext);
        plaintext.extend_from_slice(&message);
        let packet = key.encrypt_for_client(&plaintext);
        vec![self.framing.encode(&packet)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::AUTH_KEY_LEN;
    use crate::wire::envelope::{flatten, parse_plaintext};
    use crate::wire::transport::TransportKind;
    use grammers_crypto::{AuthKey, decrypt_data_v2};

    const KEY: [u8; AUTH_KEY_LEN] = [3; AUTH_KEY_LEN];

    /// Decrypts sealed packets with grammers' client code and flattens them.
    fn open(packets: Vec<Vec<u8>>) -> Vec<Vec<Vec<u8>>> {
        let mut reader = Framing::new(TransportKind::Intermediate);
        packets
            .into_iter()
            .map(|mut frame| {
                let mut packet = reader.decode(&mut frame).unwrap().unwrap();
                let plain = decrypt_data_v2(&mut packet, &AuthKey::from_bytes(KEY)).unwrap();
                let env = parse_plaintext(plain).unwrap();
                assert_eq!((env.salt, env.session_id), (5, 6));
                flatten(env.message)
                    .unwrap()
                    .into_iter()
                    .map(|m| m.body)
                    .collect()
            })
            .collect()
    }

    fn seal(msgs: Vec<OutMsg>) -> Vec<Vec<u8>> {
        let mut out = Outgoing::new(Framing::new(TransportKind::Intermediate));
        let key = ServerKey::new(KEY);
        out.seal(&key, 5, 6, &mut SessionState::default(), msgs)
    }

    #[test]
    fn several_messages_share_one_packet() {
        let packets = seal(vec![
            OutMsg::response(vec![1; 8]),
            OutMsg::notice(vec![2; 8]),
        ]);
        assert_eq!(open(packets), vec![vec![vec![1; 8], vec![2; 8]]]);
    }

    #[test]
    fn messages_too_big_together_go_in_separate_packets() {
        let half = MAX_BODY / 2 + 4;
        let packets = seal(vec![
            OutMsg::response(vec![1; half]),
            OutMsg::response(vec![2; half]),
        ]);
        assert_eq!(
            open(packets),
            vec![vec![vec![1; half]], vec![vec![2; half]]]
        );
    }

    #[test]
    fn a_message_no_packet_can_carry_is_dropped() {
        let packets = seal(vec![
            OutMsg::response(vec![1; MAX_BODY + 4]),
            OutMsg::response(vec![2; 8]),
        ]);
        assert_eq!(open(packets), vec![vec![vec![2; 8]]]);
    }
}
