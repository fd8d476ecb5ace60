//! MTProto service messages: telling them from API calls (handed to the backend) by
//! constructor id, and building the server's service answers.

use grammers_tl_types::{self as tl, Cursor, Deserializable, Identifiable, Serializable};
use rand::Rng;

use super::envelope::{self, Message};
use super::msg_id::msg_id_time;

/// How far a client msg_id's clock may be behind / ahead of ours (MTProto: 300 s / 30 s).
const MSG_ID_TOO_OLD_SECS: i64 = 300;
const MSG_ID_TOO_NEW_SECS: i64 = 30;

/// What one (already unwrapped) client message asks of the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientMessage {
    /// `ping` / `ping_delay_disconnect`: answered with a bare `pong`.
    Ping {
        ping_id: i64,
        disconnect_delay: Option<i32>,
    },
    /// `get_future_salts`: answered with a bare `future_salts`.
    GetFutureSalts { num: i32 },
    /// `destroy_session`: answered with a bare `destroy_session_ok/none`.
    DestroySession { session_id: i64 },
    /// `rpc_drop_answer`: replies are never queued, so there is nothing to drop.
    DropAnswer,
    /// `msgs_state_req`: answered with `msgs_state_info`.
    StateReq { msg_ids: Vec<i64> },
    /// Acks and other service messages that need no answer.
    Ignored,
    /// Anything else is an API call for the backend.
    Call,
}

/// Constructors of service messages that need no answer (or that only a server sends).
const IGNORED: [u32; 14] = [
    tl::types::MsgsAck::CONSTRUCTOR_ID,
    tl::types::MsgResendReq::CONSTRUCTOR_ID,
    tl::types::MsgResendAnsReq::CONSTRUCTOR_ID,
    tl::types::MsgsStateInfo::CONSTRUCTOR_ID,
    tl::types::MsgsAllInfo::CONSTRUCTOR_ID,
    tl::types::MsgDetailedInfo::CONSTRUCTOR_ID,
    tl::types::MsgNewDetailedInfo::CONSTRUCTOR_ID,
    tl::types::HttpWait::CONSTRUCTOR_ID,
    tl::types::BadMsgNotification::CONSTRUCTOR_ID,
    tl::types::BadServerSalt::CONSTRUCTOR_ID,
    tl::types::NewSessionCreated::CONSTRUCTOR_ID,
    tl::types::FutureSalts::CONSTRUCTOR_ID,
    tl::types::Pong::CONSTRUCTOR_ID,
    super::envelope::RPC_RESULT_ID,
];

/// Classifies a message body. A service message that does not parse is ignored, as a
/// malformed service message deserves no answer (and must not reach the backend).
pub fn classify(body: &[u8]) -> ClientMessage {
    let mut cursor = Cursor::from_slice(body);
    let Ok(id) = u32::deserialize(&mut cursor) else {
        return ClientMessage::Ignored;
    };
    let parsed = match id {
        tl::functions::Ping::CONSTRUCTOR_ID => {
            tl::functions::Ping::deserialize(&mut cursor).map(|p| ClientMessage::Ping {
                ping_id: p.ping_id,
                disconnect_delay: None,
            })
        }
        tl::functions::PingDelayDisconnect::CONSTRUCTOR_ID => {
            tl::functions::PingDelayDisconnect::deserialize(&mut cursor).map(|p| {
                ClientMessage::Ping {
                    ping_id: p.ping_id,
                    disconnect_delay: Some(p.disconnect_delay),
                }
            })
        }
        tl::functions::GetFutureSalts::CONSTRUCTOR_ID => {
            tl::functions::GetFutureSalts::deserialize(&mut cursor)
                .map(|g| ClientMessage::GetFutureSalts { num: g.num })
        }
        tl::functions::DestroySession::CONSTRUCTOR_ID => {
            tl::functions::DestroySession::deserialize(&mut cursor).map(|d| {
                ClientMessage::DestroySession {
                    session_id: d.session_id,
                }
            })
        }
        tl::functions::RpcDropAnswer::CONSTRUCTOR_ID => {
            tl::functions::RpcDropAnswer::deserialize(&mut cursor)
                .map(|_| ClientMessage::DropAnswer)
        }
        tl::types::MsgsStateReq::CONSTRUCTOR_ID => {
            tl::types::MsgsStateReq::deserialize(&mut cursor)
                .map(|r| ClientMessage::StateReq { msg_ids: r.msg_ids })
        }
        id if IGNORED.contains(&id) => Ok(ClientMessage::Ignored),
        _ => Ok(ClientMessage::Call),
    };
    parsed.unwrap_or(ClientMessage::Ignored)
}

/// MTProto's bad_msg_notification code for a client msg_id, if it is unacceptable.
pub fn bad_msg_id_code(msg_id: i64, now: i32) -> Option<i32> {
    if msg_id % 4 != 0 {
        return Some(18);
    }
    let claimed = msg_id_time(msg_id);
    if claimed < i64::from(now) - MSG_ID_TOO_OLD_SECS {
        Some(16)
    } else if claimed > i64::from(now) + MSG_ID_TOO_NEW_SECS {
        Some(17)
    } else {
        None
    }
}

pub fn bad_msg_notification(bad: &Message, error_code: i32) -> Vec<u8> {
    tl::enums::BadMsgNotification::Notification(tl::types::BadMsgNotification {
        bad_msg_id: bad.msg_id,
        bad_msg_seqno: bad.seq_no,
        error_code,
    })
    .to_bytes()
}

/// `bad_server_salt` (error 48): the client must re-send `bad` with `new_server_salt`.
pub fn bad_server_salt(bad: &Message, new_server_salt: i64) -> Vec<u8> {
    tl::enums::BadMsgNotification::BadServerSalt(tl::types::BadServerSalt {
        bad_msg_id: bad.msg_id,
        bad_msg_seqno: bad.seq_no,
        error_code: 48,
        new_server_salt,
    })
    .to_bytes()
}

pub fn new_session_created(first_msg_id: i64, server_salt: i64) -> Vec<u8> {
    tl::enums::NewSession::Created(tl::types::NewSessionCreated {
        first_msg_id,
        unique_id: rand::thread_rng().r#gen(),
        server_salt,
    })
    .to_bytes()
}

pub fn pong(msg_id: i64, ping_id: i64) -> Vec<u8> {
    tl::enums::Pong::Pong(tl::types::Pong { msg_id, ping_id }).to_bytes()
}

pub fn destroy_session_result(session_id: i64, destroyed: bool) -> Vec<u8> {
    if destroyed {
        tl::enums::DestroySessionRes::DestroySessionOk(tl::types::DestroySessionOk { session_id })
            .to_bytes()
    } else {
        tl::enums::DestroySessionRes::DestroySessionNone(tl::types::DestroySessionNone {
            session_id,
        })
        .to_bytes()
    }
}

/// The answer to `rpc_drop_answer`: the server keeps no reply queue to drop from.
pub fn drop_answer_unknown(req_msg_id: i64) -> Vec<u8> {
    envelope::rpc_result(
        req_msg_id,
        &tl::enums::RpcDropAnswer::RpcAnswerUnknown.to_bytes(),
    )
}

/// `msgs_state_info`; per id 4 = received, 1 = nothing known.
pub fn state_info(req_msg_id: i64, seen: impl Iterator<Item = bool>) -> Vec<u8> {
    tl::enums::MsgsStateInfo::Info(tl::types::MsgsStateInfo {
        req_msg_id,
        info: seen.map(|seen| if seen { 4 } else { 1 }).collect(),
    })
    .to_bytes()
}

pub fn msgs_ack(msg_ids: Vec<i64>) -> Vec<u8> {
    tl::enums::MsgsAck::Ack(tl::types::MsgsAck { msg_ids }).to_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_msg_ids_must_be_divisible_by_four_and_near_our_clock() {
        let now = 1_700_000_000;
        let id = |t: i64, low: i64| (t << 32) | low;
        assert_eq!(bad_msg_id_code(id(i64::from(now), 4), now), None);
        assert_eq!(bad_msg_id_code(id(i64::from(now), 5), now), Some(18));
        assert_eq!(bad_msg_id_code(id(i64::from(now) - 301, 0), now), Some(16));
        assert_eq!(bad_msg_id_code(id(i64::from(now) + 31, 0), now), Some(17));
    }

    #[test]
    fn pings_salts_and_acks_are_service_messages() {
        let ping = tl::functions::PingDelayDisconnect {
            ping_id: 5,
            disconnect_delay: 75,
        };
        assert_eq!(
            classify(&ping.to_bytes()),
            ClientMessage::Ping {
                ping_id: 5,
                disconnect_delay: Some(75)
            }
        );
        let salts = tl::functions::GetFutureSalts { num: 64 };
        assert_eq!(
            classify(&salts.to_bytes()),
            ClientMessage::GetFutureSalts { num: 64 }
        );
        let ack = tl::enums::MsgsAck::Ack(tl::types::MsgsAck { msg_ids: vec![1] });
        assert_eq!(classify(&ack.to_bytes()), ClientMessage::Ignored);
    }

    #[test]
    fn api_functions_are_calls() {
        let call = tl::functions::InvokeWithLayer {
            layer: tl::LAYER,
            query: tl::functions::help::GetConfig {},
        };
        assert_eq!(classify(&call.to_bytes()), ClientMessage::Call);
    }

    #[test]
    fn truncated_service_messages_are_ignored_not_forwarded() {
        let ping = tl::functions::Ping { ping_id: 5 }.to_bytes();
        assert_eq!(classify(&ping[..6]), ClientMessage::Ignored);
        assert_eq!(classify(&[1, 2]), ClientMessage::Ignored);
    }
}
