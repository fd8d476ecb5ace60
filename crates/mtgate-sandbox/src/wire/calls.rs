//! API calls of one connection: handed to the backend in arrival order, each reply written
//! after the configured delay, independently of the others and of service messages.

use std::sync::Arc;

use tokio::sync::mpsc;
use tracing::debug;

use super::envelope::{self, gzip_packed};
use super::holders::Verdict;
use super::outgoing::{MAX_BODY, OutMsg};
use super::server::Shared;
use crate::rpc::{CallOrigin, RpcOutcome};

/// Results larger than this are sent as `gzip_packed` when that makes them smaller.
const GZIP_THRESHOLD: usize = 16 * 1024;

/// One API call waiting for the backend.
#[derive(Debug)]
pub struct CallJob {
    pub origin: CallOrigin,
    pub req_msg_id: i64,
    pub body: Vec<u8>,
}

/// A reply for the connection task to seal and write.
#[derive(Debug)]
pub struct Outbound {
    pub session_id: i64,
    pub msg: OutMsg,
}

/// Starts the connection's call worker; it ends once the connection drops the sender and
/// the queued calls are done (a dropped connection loses replies, not calls).
pub fn spawn_worker(
    shared: Arc<Shared>,
    out: mpsc::UnboundedSender<Outbound>,
) -> mpsc::UnboundedSender<CallJob> {
    let (tx, mut rx) = mpsc::unbounded_channel::<CallJob>();
    tokio::spawn(async move {
        while let Some(job) = rx.recv().await {
            let backend = shared.backend.clone();
            let CallJob {
                origin,
                req_msg_id,
                body,
            } = job;
            let verdict = shared
                .holders
                .judge(origin.connection_id, origin.auth_key_id)
                .await;
            let outcome = if verdict == Verdict::Duplicated {
                debug!(
                    connection_id = origin.connection_id,
                    "auth key used by two connections at once"
                );
                backend.key_duplicated(origin.auth_key_id);
                RpcOutcome::Error {
                    code: 406,
                    message: "AUTH_KEY_DUPLICATED".into(),
                }
            } else {
                tokio::task::spawn_blocking(move || backend.call(origin, &body))
                    .await
                    .unwrap_or_else(|_| {
                        debug!(
                            connection_id = origin.connection_id,
                            "backend panicked on a call"
                        );
                        RpcOutcome::Error {
                            code: 500,
                            message: "INTERNAL".into(),
                        }
                    })
            };
            let reply = Outbound {
                session_id: origin.session_id,
                msg: OutMsg::response(rpc_result_body(req_msg_id, outcome)),
            };
            let delay = shared.delay();
            if delay.is_zero() {
                let _ = out.send(reply);
            } else {
                let out = out.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    let _ = out.send(reply);
                });
            }
        }
    });
    tx
}

/// `rpc_result{req_msg_id, result}`, gzipping big results and turning results no packet
/// can carry into an error rather than a hang.
pub fn rpc_result_body(req_msg_id: i64, outcome: RpcOutcome) -> Vec<u8> {
    let result = match outcome {
        RpcOutcome::Result(bytes) if bytes.len() < 4 => envelope::rpc_error(500, "INTERNAL"),
        RpcOutcome::Result(bytes) if bytes.len() >= GZIP_THRESHOLD => {
            let packed = gzip_packed(&bytes);
            let smaller = if packed.len() < bytes.len() {
                packed
            } else {
                bytes
            };
            if smaller.len() + 16 > MAX_BODY {
                debug!(len = smaller.len(), "result too large for one packet");
                envelope::rpc_error(500, "RESULT_TOO_LARGE")
            } else {
                smaller
            }
        }
        RpcOutcome::Result(bytes) => bytes,
        RpcOutcome::Error { code, message } => envelope::rpc_error(code, &message),
    };
    envelope::rpc_result(req_msg_id, &result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use grammers_tl_types::{self as tl, Deserializable};

    #[test]
    fn errors_become_rpc_error_inside_rpc_result() {
        let body = rpc_result_body(
            44,
            RpcOutcome::Error {
                code: 420,
                message: "FLOOD_WAIT_3".into(),
            },
        );
        assert_eq!(&body[..4], &envelope::RPC_RESULT_ID.to_le_bytes());
        assert_eq!(i64::from_le_bytes(body[4..12].try_into().unwrap()), 44);
        let tl::enums::RpcError::Error(e) = tl::enums::RpcError::from_bytes(&body[12..]).unwrap();
        assert_eq!(
            (e.error_code, e.error_message.as_str()),
            (420, "FLOOD_WAIT_3")
        );
    }

    #[test]
    fn results_no_packet_can_carry_become_an_error() {
        let mut noise = vec![0u8; 1200 * 1024];
        rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut noise);
        let body = rpc_result_body(1, RpcOutcome::Result(noise));
        let tl::enums::RpcError::Error(e) = tl::enums::RpcError::from_bytes(&body[12..]).unwrap();
        assert_eq!(
            (e.error_code, e.error_message.as_str()),
            (500, "RESULT_TOO_LARGE")
        );
    }

    #[test]
    fn large_results_are_gzipped_and_inflate_back() {
        let big: Vec<u8> = (0..100_000u32)
            .flat_map(|i| (i % 10).to_le_bytes())
            .collect();
        let body = rpc_result_body(1, RpcOutcome::Result(big.clone()));
        assert_eq!(&body[12..16], &envelope::GZIP_PACKED_ID.to_le_bytes());
        assert_eq!(envelope::gunzip(&body[12..]).unwrap(), big);
    }
}
