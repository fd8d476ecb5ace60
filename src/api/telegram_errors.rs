//! The one mapping from Telegram failures to HTTP errors. Matching is on the RPC error's
//! code and name (grammers' `RpcError`), never on message text.

use std::time::Duration;

use grammers_mtsender::RpcError;

use super::ApiError;
use crate::telegram::TelegramError;
use crate::telegram::resolver::ResolveError;

const PEER_NOT_FOUND: &[&str] = &[
    "USERNAME_NOT_OCCUPIED",
    "USERNAME_INVALID",
    "PEER_ID_INVALID",
    "CHANNEL_INVALID",
    "CHAT_ID_INVALID",
    "USER_ID_INVALID",
    "INPUT_USER_DEACTIVATED",
    "PEER_ID_NOT_SUPPORTED",
];

const FORBIDDEN: &[&str] = &[
    "CHAT_WRITE_FORBIDDEN",
    "CHAT_ADMIN_REQUIRED",
    "CHANNEL_PRIVATE",
    "MESSAGE_DELETE_FORBIDDEN",
    "MESSAGE_AUTHOR_REQUIRED",
    "MESSAGE_EDIT_TIME_EXPIRED",
    "USER_BANNED_IN_CHANNEL",
    "CHAT_SEND_PLAIN_FORBIDDEN",
    "CHAT_RESTRICTED",
    "CHAT_GUEST_SEND_FORBIDDEN",
    "CHANNEL_PUBLIC_GROUP_NA",
    "USER_IS_BLOCKED",
    "YOU_BLOCKED_USER",
    "PRIVACY_PREMIUM_REQUIRED",
];

/// Names meaning "no such message here" (an edit or delete of a deleted message, a reply to
/// a message that is not in the chat…).
const MESSAGE_NOT_FOUND: &[&str] = &[
    "MESSAGE_ID_INVALID",
    "MESSAGE_IDS_EMPTY",
    "MSG_ID_INVALID",
    "REPLY_MESSAGE_ID_INVALID",
];

impl From<ResolveError> for ApiError {
    fn from(error: ResolveError) -> Self {
        match error {
            ResolveError::NotFound { message, telegram } => {
                ApiError::PeerNotFound { message, telegram }
            }
            ResolveError::Telegram(e) => e.into(),
        }
    }
}

impl From<TelegramError> for ApiError {
    fn from(error: TelegramError) -> Self {
        match error {
            TelegramError::Unavailable(why) => {
                ApiError::TelegramUnavailable(format!("Telegram is unavailable: {why}"))
            }
            TelegramError::Unauthorized { name } => ApiError::SessionUnauthorized {
                message: "the Telegram session is not authorized (revoked or logged out)".into(),
                telegram: Some(name),
            },
            TelegramError::Timeout => ApiError::Timeout("the Telegram call timed out".into()),
            TelegramError::Other(why) => ApiError::Internal {
                message: format!("unexpected Telegram client failure: {why}"),
                telegram: None,
                upstream: true,
            },
            TelegramError::Rpc(rpc) => from_rpc(rpc),
        }
    }
}

fn from_rpc(rpc: RpcError) -> ApiError {
    let name = rpc.name.clone();
    let telegram = Some(full_name(&rpc));
    let is_any = |names: &[&str]| names.iter().any(|n| rpc.is(n));
    match rpc.code {
        420 if rpc.value.is_some() => ApiError::FloodWait {
            retry_after: Duration::from_secs(u64::from(rpc.value.unwrap_or(1))),
            telegram,
        },
        _ if is_any(PEER_NOT_FOUND) => ApiError::PeerNotFound {
            message: format!("Telegram does not know this peer ({name})"),
            telegram,
        },
        _ if is_any(MESSAGE_NOT_FOUND) => ApiError::MessageNotFound {
            message: "no such message in this chat".into(),
            telegram,
        },
        _ if rpc.is("MESSAGE_TOO_LONG") => ApiError::MessageTooLong {
            message: "the message text is longer than Telegram allows (4096 UTF-16 units)".into(),
            telegram,
        },
        _ if rpc.is("MESSAGE_NOT_MODIFIED") => ApiError::MessageNotModified { telegram },
        // Our random_id is derived from the Idempotency-Key: Telegram refusing it as a
        // duplicate means this key's message was already sent (by a run that no longer
        // remembers the answer, e.g. before a restart). Not sending again is the point.
        _ if rpc.is("RANDOM_ID_DUPLICATE") => ApiError::InvalidRequest(
            "a message with this Idempotency-Key was already sent (Telegram: RANDOM_ID_DUPLICATE); its answer is no longer remembered".into(),
        ),
        _ if rpc.code == 403 || is_any(FORBIDDEN) => ApiError::Forbidden {
            message: format!("Telegram does not allow this account to do that ({name})"),
            telegram,
        },
        401 => ApiError::SessionUnauthorized {
            message: format!("the Telegram session cannot make this call ({name})"),
            telegram,
        },
        400 => ApiError::InvalidRequest(format!("Telegram rejected the request: {name}")),
        -503 => ApiError::Timeout(format!("Telegram timed out ({name})")),
        _ => ApiError::Internal {
            message: format!("unexpected Telegram error {} {name}", rpc.code),
            telegram,
            upstream: true,
        },
    }
}

/// The error name as Telegram sent it (`FLOOD_WAIT_30`, not grammers' split `FLOOD_WAIT`).
fn full_name(rpc: &RpcError) -> String {
    match rpc.value {
        Some(v) if rpc.code == 420 || rpc.name.ends_with("_WAIT") => format!("{}_{v}", rpc.name),
        _ => rpc.name.clone(),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::*;

    fn rpc(code: i32, name: &str, value: Option<u32>) -> ApiError {
        TelegramError::Rpc(RpcError {
            code,
            name: name.into(),
            value,
            caused_by: None,
        })
        .into()
    }

    #[test]
    fn a_long_flood_wait_is_429_with_the_wait_and_full_name() {
        let e = rpc(420, "FLOOD_WAIT", Some(300));
        assert_eq!(e.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(e.telegram(), Some("FLOOD_WAIT_300"));
        assert!(
            matches!(e, ApiError::FloodWait { retry_after, .. } if retry_after.as_secs() == 300)
        );
    }

    #[test]
    fn telegram_names_map_to_contract_codes() {
        let cases = [
            (
                rpc(400, "USERNAME_NOT_OCCUPIED", None),
                "PEER_NOT_FOUND",
                404,
            ),
            (
                rpc(400, "MESSAGE_ID_INVALID", None),
                "MESSAGE_NOT_FOUND",
                404,
            ),
            (rpc(400, "MESSAGE_TOO_LONG", None), "MESSAGE_TOO_LONG", 400),
            (
                rpc(400, "REPLY_MESSAGE_ID_INVALID", None),
                "MESSAGE_NOT_FOUND",
                404,
            ),
            (
                rpc(400, "MESSAGE_NOT_MODIFIED", None),
                "MESSAGE_NOT_MODIFIED",
                409,
            ),
            (rpc(403, "CHAT_WRITE_FORBIDDEN", None), "FORBIDDEN", 403),
            (
                rpc(400, "ENTITY_BOUNDS_INVALID", None),
                "INVALID_REQUEST",
                400,
            ),
            (rpc(500, "INTERNAL_SERVER_ERROR", None), "INTERNAL", 502),
            (
                rpc(400, "RANDOM_ID_DUPLICATE", None),
                "INVALID_REQUEST",
                400,
            ),
            (rpc(400, "CHANNEL_INVALID", None), "PEER_NOT_FOUND", 404),
            (rpc(403, "MESSAGE_AUTHOR_REQUIRED", None), "FORBIDDEN", 403),
            (rpc(420, "SLOWMODE_WAIT", Some(30)), "FLOOD_WAIT", 429),
            (rpc(-503, "Timeout", None), "TIMEOUT", 504),
        ];
        for (error, code, status) in cases {
            assert_eq!(error.code(), code, "{error:?}");
            assert_eq!(error.status().as_u16(), status, "{error:?}");
        }
    }

    #[test]
    fn a_peer_the_resolver_cannot_find_is_404_with_the_telegram_name() {
        let e: ApiError = ResolveError::NotFound {
            message: "peer 5 is unknown".into(),
            telegram: Some("PEER_ID_INVALID".into()),
        }
        .into();
        assert_eq!((e.code(), e.status().as_u16()), ("PEER_NOT_FOUND", 404));
        assert_eq!(e.telegram(), Some("PEER_ID_INVALID"));
        let e: ApiError = ResolveError::Telegram(TelegramError::Unavailable("down".into())).into();
        assert_eq!(e.code(), "TELEGRAM_UNAVAILABLE");
    }

    #[test]
    fn an_unauthorized_session_is_503() {
        let e: ApiError = TelegramError::Unauthorized {
            name: "AUTH_KEY_UNREGISTERED".into(),
        }
        .into();
        assert_eq!(e.code(), "SESSION_UNAUTHORIZED");
        assert_eq!(e.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
}
