//! One client TCP connection: frames in, decrypts, answers service messages, queues API calls
//! for the backend, and writes replies and pushed updates back.
//!
//! Everything that touches the connection's wire state (framing, msg_ids, seq_nos) lives in
//! this one task; API calls run in a companion task so a slow reply never blocks pings.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use grammers_tl_types::{self as tl, Serializable};
use rand::Rng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;
use tracing::debug;

use super::calls::{self, CallJob, Outbound};
use super::crypto::{CryptoError, ServerKey, packet_key_id};
use super::envelope::{
    self, EnvelopeError, MESSAGE_HEADER_LEN, MSG_CONTAINER_ID, Message, write_message,
};
use super::msg_id::{MsgIdGen, MsgKind, msg_id_time, unix_now};
use super::server::Shared;
use super::service::{ClientMessage, classify};
use super::session::SessionState;
use super::transport::{FrameError, Framing, MAX_PAYLOAD, detect};
use crate::sandbox::rpc::CallOrigin;

const READ_CHUNK: usize = 64 * 1024;
/// Largest message body that still fits one packet after headers and padding.
pub const MAX_BODY: usize = MAX_PAYLOAD - 128;
/// Sessions remembered per connection (a client normally uses one).
const MAX_SESSIONS: usize = 16;
/// How far a client msg_id's clock may be behind / ahead of ours (MTProto: 300 s / 30 s).
const MSG_ID_TOO_OLD_SECS: i64 = 300;
const MSG_ID_TOO_NEW_SECS: i64 = 30;

/// Why a connection ended.
#[derive(Debug, thiserror::Error)]
pub enum CloseReason {
    #[error("peer closed the connection")]
    Eof,
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("framing: {0}")]
    Frame(#[from] FrameError),
    #[error("crypto: {0}")]
    Crypto(#[from] CryptoError),
    #[error("envelope: {0}")]
    Envelope(#[from] EnvelopeError),
    #[error("packet too short for an auth_key_id")]
    Runt,
    #[error("unencrypted packet (key exchange is not supported)")]
    Plain,
    #[error("unknown auth key {0}")]
    UnknownKey(i64),
    #[error("no ping within the client's disconnect delay")]
    PingTimeout,
}

/// One server → client message before it gets its msg_id and seq_no.
#[derive(Debug)]
pub struct OutMsg {
    pub body: Vec<u8>,
    pub content_related: bool,
    pub kind: MsgKind,
}

impl OutMsg {
    pub fn response(body: Vec<u8>) -> Self {
        Self {
            body,
            content_related: true,
            kind: MsgKind::Response,
        }
    }

    fn notice(body: Vec<u8>) -> Self {
        Self {
            body,
            content_related: false,
            kind: MsgKind::Response,
        }
    }
}

/// Serves one accepted TCP connection until it closes or is aborted.
pub async fn serve(stream: TcpStream, connection_id: u64, shared: Arc<Shared>) {
    let (out_tx, out_rx) = mpsc::unbounded_channel();
    let calls_tx = calls::spawn_worker(shared.clone(), out_tx);
    let updates = shared.bus.subscribe();
    let mut conn = Connection {
        connection_id,
        shared,
        framing: None,
        key: None,
        sessions: HashMap::new(),
        current_session: None,
        ids: MsgIdGen::new(),
        calls: calls_tx,
        ping_deadline: None,
    };
    let result = conn.run(stream, out_rx, updates).await;
    debug!(connection_id, reason = %result.err().unwrap_or(CloseReason::Eof), "connection closed");
}

struct Connection {
    connection_id: u64,
    shared: Arc<Shared>,
    framing: Option<Framing>,
    key: Option<ServerKey>,
    sessions: HashMap<i64, SessionState>,
    /// The session that last sent an accepted message: where pushed updates go.
    current_session: Option<i64>,
    ids: MsgIdGen,
    calls: mpsc::UnboundedSender<CallJob>,
    ping_deadline: Option<Instant>,
}

impl Connection {
    async fn run(
        &mut self,
        mut stream: TcpStream,
        mut out_rx: mpsc::UnboundedReceiver<Outbound>,
        mut updates: broadcast::Receiver<crate::sandbox::rpc::Push>,
    ) -> Result<(), CloseReason> {
        let mut buf = Vec::with_capacity(READ_CHUNK);
        loop {
            let deadline = self.ping_deadline;
            let mut packets = Vec::new();
            tokio::select! {
                read = stream.read_buf(&mut buf) => {
                    if read? == 0 {
                        return Err(CloseReason::Eof);
                    }
                    let result = self.on_bytes(&mut buf, &mut packets);
                    write_all(&mut stream, &packets).await?;
                    result?;
                    buf.reserve(READ_CHUNK);
                }
                Some(out) = out_rx.recv() => {
                    packets = self.seal(out.session_id, vec![out.msg]);
                    write_all(&mut stream, &packets).await?;
                }
                push = updates.recv() => match push {
                    Ok(push) => {
                        if let Some(session_id) = self.update_target(push.auth_key_id) {
                            let msg = OutMsg {
                                body: push.updates,
                                content_related: true,
                                kind: MsgKind::Initiated,
                            };
                            packets = self.seal(session_id, vec![msg]);
                            write_all(&mut stream, &packets).await?;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        debug!(connection_id = self.connection_id, n, "update bus lagged");
                    }
                    Err(broadcast::error::RecvError::Closed) => return Ok(()),
                },
                _ = tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
                    return Err(CloseReason::PingTimeout);
                }
            }
        }
    }

    fn update_target(&self, auth_key_id: i64) -> Option<i64> {
        let key = self.key.as_ref()?;
        (key.id() == auth_key_id).then_some(self.current_session?)
    }

    /// Frames and handles every complete packet in `buf`, collecting framed replies.
    fn on_bytes(&mut self, buf: &mut Vec<u8>, out: &mut Vec<Vec<u8>>) -> Result<(), CloseReason> {
        if self.framing.is_none() {
            let Some((kind, skip)) = detect(buf) else {
                return Ok(());
            };
            debug!(
                connection_id = self.connection_id,
                ?kind,
                "transport detected"
            );
            buf.drain(..skip);
            self.framing = Some(Framing::new(kind));
        }
        while let Some(payload) = self.framing_mut().decode(buf)? {
            self.on_packet(&payload, out)?;
        }
        Ok(())
    }

    fn framing_mut(&mut self) -> &mut Framing {
        self.framing
            .as_mut()
            .expect("framing is set before packets")
    }

    fn on_packet(&mut self, payload: &[u8], out: &mut Vec<Vec<u8>>) -> Result<(), CloseReason> {
        let key_id = packet_key_id(payload).ok_or(CloseReason::Runt)?;
        if key_id == 0 {
            return Err(CloseReason::Plain);
        }
        if self.key.as_ref().map(ServerKey::id) != Some(key_id) {
            let Some(data) = self.shared.backend.auth_key(key_id) else {
                out.push(self.framing_mut().encode_error(404));
                return Err(CloseReason::UnknownKey(key_id));
            };
            self.key = Some(ServerKey::new(data));
        } else if self.shared.backend.auth_key(key_id).is_none() {
            // The key was known when the connection started but is gone now.
            out.push(self.framing_mut().encode_error(404));
            return Err(CloseReason::UnknownKey(key_id));
        }
        let key = self.key.as_ref().expect("just set");
        let plaintext = key.decrypt_from_client(payload)?;
        let envelope = envelope::parse_plaintext(&plaintext)?;
        self.on_envelope(key_id, envelope, out)
    }

    fn on_envelope(
        &mut self,
        auth_key_id: i64,
        envelope: envelope::Envelope,
        out: &mut Vec<Vec<u8>>,
    ) -> Result<(), CloseReason> {
        let envelope::Envelope {
            salt,
            session_id,
            message: outer,
        } = envelope;
        let now = unix_now();

        if let Some(code) = bad_msg_id_code(outer.msg_id, now) {
            let notice =
                tl::enums::BadMsgNotification::Notification(tl::types::BadMsgNotification {
                    bad_msg_id: outer.msg_id,
                    bad_msg_seqno: outer.seq_no,
                    error_code: code,
                });
            debug!(connection_id = self.connection_id, code, "bad msg_id");
            out.extend(self.seal(session_id, vec![OutMsg::notice(notice.to_bytes())]));
            return Ok(());
        }
        let current_salt = self.shared.salts.current(now);
        if !self.shared.salts.accepts(salt, now) {
            let notice = tl::enums::BadMsgNotification::BadServerSalt(tl::types::BadServerSalt {
                bad_msg_id: outer.msg_id,
                bad_msg_seqno: outer.seq_no,
                error_code: 48,
                new_server_salt: current_salt,
            });
            debug!(connection_id = self.connection_id, "bad server salt");
            out.extend(self.seal(session_id, vec![OutMsg::notice(notice.to_bytes())]));
            return Ok(());
        }

        let messages = envelope::flatten(outer)?;
        let mut replies = Vec::new();
        let session = self.session(session_id);
        if !session.announced {
            session.announced = true;
            let first_msg_id = messages.iter().map(|m| m.msg_id).min().unwrap_or_default();
            let created = tl::enums::NewSession::Created(tl::types::NewSessionCreated {
                first_msg_id,
                unique_id: rand::thread_rng().r#gen(),
                server_salt: current_salt,
            });
            replies.push(OutMsg::response(created.to_bytes()));
        }
        self.current_session = Some(session_id);

        let mut calls = Vec::new();
        for message in messages {
            if !self.session(session_id).remember(message.msg_id) {
                debug!(
                    connection_id = self.connection_id,
                    "duplicate msg_id ignored"
                );
                continue;
            }
            if let Some(call) = self.on_message(auth_key_id, session_id, message, now, &mut replies)
            {
                calls.push(call);
            }
        }
        // A reply held back by the delay switch is acknowledged at once, as Telegram does
        // for slow calls, so clients do not re-send.
        if !calls.is_empty() && !self.shared.delay().is_zero() {
            let ack = tl::enums::MsgsAck::Ack(tl::types::MsgsAck { msg_ids: calls });
            replies.push(OutMsg::notice(ack.to_bytes()));
        }
        out.extend(self.seal(session_id, replies));
        Ok(())
    }

    fn on_message(
        &mut self,
        auth_key_id: i64,
        session_id: i64,
        message: Message,
        now: i32,
        replies: &mut Vec<OutMsg>,
    ) -> Option<i64> {
        match classify(&message.body) {
            ClientMessage::Ping {
                ping_id,
                disconnect_delay,
            } => {
                let pong = tl::enums::Pong::Pong(tl::types::Pong {
                    msg_id: message.msg_id,
                    ping_id,
                });
                replies.push(OutMsg::response(pong.to_bytes()));
                if let Some(delay) = disconnect_delay {
                    let delay = Duration::from_secs(delay.clamp(0, 24 * 3600) as u64);
                    self.ping_deadline = Some(Instant::now() + delay);
                }
            }
            ClientMessage::GetFutureSalts { num } => {
                let salts = self.shared.salts.future(message.msg_id, num, now);
                replies.push(OutMsg::response(salts.to_bytes()));
            }
            ClientMessage::DestroySession { session_id: target } => {
                let destroyed = target != session_id && self.sessions.remove(&target).is_some();
                let res = if destroyed {
                    tl::enums::DestroySessionRes::DestroySessionOk(tl::types::DestroySessionOk {
                        session_id: target,
                    })
                } else {
                    tl::enums::DestroySessionRes::DestroySessionNone(
                        tl::types::DestroySessionNone { session_id: target },
                    )
                };
                replies.push(OutMsg::response(res.to_bytes()));
            }
            ClientMessage::DropAnswer => {
                let unknown = tl::enums::RpcDropAnswer::RpcAnswerUnknown.to_bytes();
                replies.push(OutMsg::response(envelope::rpc_result(
                    message.msg_id,
                    &unknown,
                )));
            }
            ClientMessage::StateReq { msg_ids } => {
                let session = self.session(session_id);
                // 4: received; 1: nothing known (MTProto msgs_state_info).
                let info = msg_ids
                    .iter()
                    .map(|id| if session.has_seen(*id) { 4 } else { 1 })
                    .collect();
                let state = tl::enums::MsgsStateInfo::Info(tl::types::MsgsStateInfo {
                    req_msg_id: message.msg_id,
                    info,
                });
                replies.push(OutMsg::response(state.to_bytes()));
            }
            ClientMessage::Ignored => {}
            ClientMessage::Call => {
                let origin = CallOrigin {
                    auth_key_id,
                    connection_id: self.connection_id,
                    session_id,
                };
                // The worker only stops when this connection drops its sender.
                let _ = self.calls.send(CallJob {
                    origin,
                    req_msg_id: message.msg_id,
                    body: message.body,
                });
                return Some(message.msg_id);
            }
        }
        None
    }

    fn session(&mut self, session_id: i64) -> &mut SessionState {
        if !self.sessions.contains_key(&session_id) && self.sessions.len() >= MAX_SESSIONS {
            let current = self.current_session;
            self.sessions.retain(|id, _| Some(*id) == current);
        }
        self.sessions.entry(session_id).or_default()
    }

    /// Gives messages their msg_ids and seq_nos and turns them into framed, encrypted packets:
    /// one packet (in a container when there are several) unless that would be too large.
    fn seal(&mut self, session_id: i64, msgs: Vec<OutMsg>) -> Vec<Vec<u8>> {
        let msgs: Vec<OutMsg> = msgs
            .into_iter()
            .filter(|m| {
                let fits = m.body.len() <= MAX_BODY;
                if !fits {
                    debug!(
                        connection_id = self.connection_id,
                        len = m.body.len(),
                        "dropping oversize message"
                    );
                }
                fits
            })
            .collect();
        let total: usize = msgs.iter().map(|m| m.body.len() + MESSAGE_HEADER_LEN).sum();
        if msgs.len() > 1 && total + 8 + MESSAGE_HEADER_LEN > MAX_BODY {
            return msgs
                .into_iter()
                .flat_map(|m| self.seal(session_id, vec![m]))
                .collect();
        }
        let mut message = Vec::with_capacity(total + 32);
        match msgs.len() {
            0 => return Vec::new(),
            1 => {
                let m = &msgs[0];
                let msg_id = self.ids.next(m.kind);
                let seq_no = self.session(session_id).next_seq_no(m.content_related);
                write_message(&mut message, msg_id, seq_no, &m.body);
            }
            n => {
                let mut body = Vec::with_capacity(total + 8);
                MSG_CONTAINER_ID.serialize(&mut body);
                (n as i32).serialize(&mut body);
                for m in &msgs {
                    let msg_id = self.ids.next(m.kind);
                    let seq_no = self.session(session_id).next_seq_no(m.content_related);
                    write_message(&mut body, msg_id, seq_no, &m.body);
                }
                let msg_id = self.ids.next(MsgKind::Response);
                let seq_no = self.session(session_id).next_seq_no(false);
                write_message(&mut message, msg_id, seq_no, &body);
            }
        }
        let Some(key) = self.key.as_ref() else {
            return Vec::new();
        };
        let mut plaintext = Vec::with_capacity(message.len() + 16);
        self.shared
            .salts
            .current(unix_now())
            .serialize(&mut plaintext);
        session_id.serialize(&mut plaintext);
        plaintext.extend_from_slice(&message);
        let packet = key.encrypt_for_client(&plaintext);
        vec![self.framing_mut().encode(&packet)]
    }
}

/// MTProto's bad_msg_notification code for a client msg_id, if it is unacceptable.
fn bad_msg_id_code(msg_id: i64, now: i32) -> Option<i32> {
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

async fn write_all(stream: &mut TcpStream, packets: &[Vec<u8>]) -> std::io::Result<()> {
    for packet in packets {
        stream.write_all(packet).await?;
    }
    Ok(())
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
}
