//! Tells MTProto service messages (answered by the wire itself) from API calls (handed to the
//! backend), by constructor id.

use grammers_tl_types::{self as tl, Cursor, Deserializable, Identifiable};

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

#[cfg(test)]
mod tests {
    use super::*;
    use grammers_tl_types::Serializable;

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
