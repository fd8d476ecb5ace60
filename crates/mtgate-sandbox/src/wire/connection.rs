//! One client TCP connection: frames in, decrypts, answers service messages, queues API calls
//! for the backend, and writes replies and pushed updates back.
//!
//! Everything that touches the connection's wire state (framing, msg_ids, seq_nos) lives in
//! this one task; API calls run in a companion task so a slow reply never blocks pings.

use std::sync::Arc;
use std::time::Duration;

use grammers_tl_types::Serializable;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;
use tracing::debug;

use super::calls::{self, CallJob, Outbound};
use super::crypto::{CryptoError, ServerKey, packet_key_id};
use super::envelope::{self, EnvelopeError, Message};
use super::msg_id::unix_now;
use super::obfuscated::{self, BadHeader, HEADER_LEN, Obfuscation, Opening};
use super::outgoing::{OutMsg, Outgoing};
use super::plain;
use super::server::Shared;
use super::service::{self, ClientMessage, classify};
use super::session::Sessions;
use super::transport::{FrameError, Framing, detect};
use crate::rpc::{CallOrigin, Push};

const READ_CHUNK: usize = 64 * 1024;

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
    #[error("unencrypted packet other than req_pq_multi (the sandbox creates no keys)")]
    Plain,
    #[error("unknown auth key {0}")]
    UnknownKey(i64),
    #[error(transparent)]
    Obfuscation(#[from] BadHeader),
    #[error("no ping within the client's disconnect delay")]
    PingTimeout,
}

/// Serves one accepted TCP connection until it closes or is aborted.
pub async fn serve(stream: TcpStream, connection_id: u64, shared: Arc<Shared>) {
    let (out_tx, out_rx) = mpsc::unbounded_channel();
    let calls = calls::spawn_worker(shared.clone(), out_tx);
    let updates = shared.bus.subscribe();
    let mut conn = Connection {
        connection_id,
        shared,
        outgoing: None,
        obfuscation: None,
        plain_len: 0,
        key: None,
        sessions: Sessions::default(),
        calls,
        ping_deadline: None,
    };
    let reason = conn.run(stream, out_rx, updates).await;
    debug!(connection_id, %reason, "connection closed");
}

struct Connection {
    connection_id: u64,
    shared: Arc<Shared>,
    /// Set once the transport is known from the first bytes.
    outgoing: Option<Outgoing>,
    /// Set when the connection opened with an obfuscation header.
    obfuscation: Option<Obfuscation>,
    /// How many bytes at the front of the read buffer are already decrypted.
    plain_len: usize,
    /// Set by the first packet with a key the backend knows.
    key: Option<ServerKey>,
    sessions: Sessions,
    calls: mpsc::UnboundedSender<CallJob>,
    /// When `ping_delay_disconnect` asked to be disconnected if no ping follows.
    ping_deadline: Option<Instant>,
}

impl Connection {
    async fn run(
        &mut self,
        mut stream: TcpStream,
        mut out_rx: mpsc::UnboundedReceiver<Outbound>,
        mut updates: broadcast::Receiver<Push>,
    ) -> CloseReason {
        let mut buf = Vec::with_capacity(READ_CHUNK);
        loop {
            let deadline = self.ping_deadline;
            let step = tokio::select! {
                read = stream.read_buf(&mut buf) => match read {
                    Ok(0) => Err(CloseReason::Eof),
                    Ok(_) => {
                        let mut packets = Vec::new();
                        let handled = self.on_bytes(&mut buf, &mut packets);
                        buf.reserve(READ_CHUNK);
                        // Answers (e.g. the -404) go out even when the connection then closes.
                        self.write_all(&mut stream, packets).await.and(handled)
                    }
                    Err(err) => Err(err.into()),
                },
                Some(out) = out_rx.recv() => {
                    let packets = self.seal(out.session_id, vec![out.msg]);
                    self.write_all(&mut stream, packets).await
                }
                push = updates.recv() => match push {
                    Ok(push) => {
                        let packets = self.on_push(push);
                        self.write_all(&mut stream, packets).await
                    }
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        debug!(connection_id = self.connection_id, n, "update bus lagged");
                        Ok(())
                    }
                    Err(broadcast::error::RecvError::Closed) => Err(CloseReason::Eof),
                },
                _ = tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
                    Err(CloseReason::PingTimeout)
                }
            };
            if let Err(reason) = step {
                return reason;
            }
        }
    }

    /// Updates pushed for this connection's key go to the session that spoke last.
    fn on_push(&mut self, push: Push) -> Vec<Vec<u8>> {
        let ours = self
            .key
            .as_ref()
            .is_some_and(|k| k.id() == push.auth_key_id);
        match self.sessions.current {
            Some(session_id) if ours => {
                self.seal(session_id, vec![OutMsg::initiated(push.updates)])
            }
            _ => Vec::new(),
        }
    }

    /// Frames and handles every complete packet in `buf`, collecting framed replies.
    fn on_bytes(&mut self, buf: &mut Vec<u8>, out: &mut Vec<Vec<u8>>) -> Result<(), CloseReason> {
        if self.outgoing.is_none() && !self.start_transport(buf)? {
            return Ok(());
        }
        if let Some(obfuscation) = self.obfuscation.as_mut() {
            obfuscation.decrypt(&mut buf[self.plain_len..]);
        }
        let decoded = self.decode_all(buf, out);
        self.plain_len = buf.len();
        decoded
    }

    fn decode_all(&mut self, buf: &mut Vec<u8>, out: &mut Vec<Vec<u8>>) -> Result<(), CloseReason> {
        while let Some(payload) = self.framing().decode(buf)? {
            self.on_packet(&payload, out)?;
        }
        Ok(())
    }

    /// Picks the transport from the first bytes (taking an obfuscation header off the
    /// buffer); `false` while more bytes are needed.
    fn start_transport(&mut self, buf: &mut Vec<u8>) -> Result<bool, CloseReason> {
        let kind = match obfuscated::opening(buf) {
            Opening::NeedMore => return Ok(false),
            Opening::Obfuscated => {
                let header: [u8; HEADER_LEN] = buf[..HEADER_LEN].try_into().expect("64 bytes");
                let (kind, obfuscation) = Obfuscation::open(&header)?;
                buf.drain(..HEADER_LEN);
                self.obfuscation = Some(obfuscation);
                self.plain_len = 0;
                kind
            }
            Opening::Plain => {
                let Some((kind, skip)) = detect(buf) else {
                    return Ok(false);
                };
                buf.drain(..skip);
                kind
            }
        };
        debug!(
            connection_id = self.connection_id,
            ?kind,
            obfuscated = self.obfuscation.is_some(),
            "transport detected"
        );
        self.outgoing = Some(Outgoing::new(Framing::new(kind)));
        Ok(true)
    }

    /// Writes framed packets in order, through the obfuscation keystream when there is one.
    async fn write_all(
        &mut self,
        stream: &mut TcpStream,
        mut packets: Vec<Vec<u8>>,
    ) -> Result<(), CloseReason> {
        for packet in &mut packets {
            if let Some(obfuscation) = self.obfuscation.as_mut() {
                obfuscation.encrypt(packet);
            }
            stream.write_all(packet).await?;
        }
        Ok(())
    }

    fn framing(&mut self) -> &mut Framing {
        &mut self
            .outgoing
            .as_mut()
            .expect("the transport is known before packets")
            .framing
    }

    fn on_packet(&mut self, payload: &[u8], out: &mut Vec<Vec<u8>>) -> Result<(), CloseReason> {
        let key_id = packet_key_id(payload).ok_or(CloseReason::Runt)?;
        if key_id == 0 {
            // A key exchange: answered so the client can tell why it cannot go on.
            let reply = plain::answer(payload).ok_or(CloseReason::Plain)?;
            out.push(self.framing().encode(&reply));
            return Ok(());
        }
        // Asked every packet, so a key the world forgets stops working at once.
        let Some(data) = self.shared.backend.auth_key(key_id) else {
            out.push(self.framing().encode_error(404));
            return Err(CloseReason::UnknownKey(key_id));
        };
        if self.key.as_ref().map(ServerKey::id) != Some(key_id) {
            self.key = Some(ServerKey::new(data));
            self.shared.holders.attach(self.connection_id, key_id);
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
        let current_salt = self.shared.salts.current(now);

        // A rejected message is not processed; the client re-sends it after fixing up.
        if let Some(code) = service::bad_msg_id_code(outer.msg_id, now) {
            debug!(connection_id = self.connection_id, code, "bad msg_id");
            let notice = OutMsg::notice(service::bad_msg_notification(&outer, code));
            out.extend(self.seal(session_id, vec![notice]));
            return Ok(());
        }
        if !self.shared.salts.accepts(salt, now) {
            debug!(connection_id = self.connection_id, "bad server salt");
            let notice = OutMsg::notice(service::bad_server_salt(&outer, current_salt));
            out.extend(self.seal(session_id, vec![notice]));
            return Ok(());
        }

        let messages = envelope::flatten(outer)?;
        let mut replies = Vec::new();
        let session = self.sessions.get(session_id);
        if !session.announced {
            session.announced = true;
            let first_msg_id = messages.iter().map(|m| m.msg_id).min().unwrap_or_default();
            let created = service::new_session_created(first_msg_id, current_salt);
            replies.push(OutMsg::response(created));
        }
        self.sessions.current = Some(session_id);

        let mut calls = Vec::new();
        for message in messages {
            if !self.sessions.get(session_id).remember(message.msg_id) {
                debug!(
                    connection_id = self.connection_id,
                    "duplicate msg_id ignored"
                );
                continue;
            }
            let msg_id = message.msg_id;
            match self.on_message(auth_key_id, session_id, message, now) {
                Reply::Now(reply) => replies.push(reply),
                Reply::Later => calls.push(msg_id),
                Reply::None => {}
            }
        }
        // A reply held back by the delay switch is acknowledged at once, as Telegram does
        // for slow calls, so clients do not re-send.
        if !calls.is_empty() && !self.shared.delay().is_zero() {
            replies.push(OutMsg::notice(service::msgs_ack(calls)));
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
    ) -> Reply {
        let msg_id = message.msg_id;
        let answer = match classify(&message.body) {
            ClientMessage::Ping {
                ping_id,
                disconnect_delay,
            } => {
                if let Some(delay) = disconnect_delay {
                    let delay = Duration::from_secs(delay.clamp(0, 24 * 3600) as u64);
                    self.ping_deadline = Some(Instant::now() + delay);
                }
                service::pong(msg_id, ping_id)
            }
            ClientMessage::GetFutureSalts { num } => {
                self.shared.salts.future(msg_id, num, now).to_bytes()
            }
            ClientMessage::DestroySession { session_id: target } => {
                let destroyed = target != session_id && self.sessions.remove(target);
                service::destroy_session_result(target, destroyed)
            }
            ClientMessage::DropAnswer => service::drop_answer_unknown(msg_id),
            ClientMessage::StateReq { msg_ids } => {
                let session = self.sessions.get(session_id);
                service::state_info(msg_id, msg_ids.iter().map(|id| session.has_seen(*id)))
            }
            ClientMessage::Ignored => return Reply::None,
            ClientMessage::Call => {
                let origin = CallOrigin {
                    auth_key_id,
                    connection_id: self.connection_id,
                    session_id,
                };
                // The worker only stops after this connection drops its sender.
                let _ = self.calls.send(CallJob {
                    origin,
                    req_msg_id: msg_id,
                    body: message.body,
                });
                return Reply::Later;
            }
        };
        Reply::Now(OutMsg::response(answer))
    }

    fn seal(&mut self, session_id: i64, msgs: Vec<OutMsg>) -> Vec<Vec<u8>> {
        let (Some(outgoing), Some(key)) = (self.outgoing.as_mut(), self.key.as_ref()) else {
            return Vec::new();
        };
        let salt = self.shared.salts.current(unix_now());
        outgoing.seal(key, salt, session_id, self.sessions.get(session_id), msgs)
    }
}

/// How a client message is answered.
enum Reply {
    /// A service answer, sent with this packet's other answers.
    Now(OutMsg),
    /// An API call: its `rpc_result` comes from the call worker.
    Later,
    None,
}
