//! The one mapping from Telegram failures to HTTP errors. It reads only mtgate's own
//! [`TelegramError`] and its [`RefusalKind`] (classified at the Telegram boundary), never
//! grammers' types or error strings.

use super::ApiError;
use crate::telegram::TelegramError;
use crate::telegram::error::{Refusal, RefusalKind};

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
            TelegramError::PeerNotFound { message, telegram } => {
                ApiError::PeerNotFound { message, telegram }
            }
            TelegramError::Incomplete(what) => ApiError::Internal {
                message: format!("Telegram's answer did not include {what}"),
                telegram: None,
                upstream: true,
            },
            TelegramError::Timeout => ApiError::Timeout("the Telegram call timed out".into()),
            TelegramError::Other(why) => ApiError::Internal {
                message: format!("unexpected Telegram client failure: {why}"),
                telegram: None,
                upstream: true,
            },
            TelegramError::Refused(refusal) => from_refusal(refusal),
        }
    }
}

fn from_refusal(refusal: Refusal) -> ApiError {
    let name = refusal.telegram_name();
    let telegram = Some(name.clone());
    match refusal.kind {
        RefusalKind::FloodWait { retry_after } => ApiError::FloodWait {
            retry_after,
            telegram,
        },
        RefusalKind::PeerNotFound => ApiError::PeerNotFound {
            message: format!("Telegram does not know this peer ({name})"),
            telegram,
        },
        RefusalKind::MessageNotFound => ApiError::MessageNotFound {
            message: "no such message in this chat".into(),
            telegram,
        },
        RefusalKind::MessageTooLong => ApiError::MessageTooLong {
            message: "the message text is longer than Telegram allows (4096 UTF-16 units)".into(),
            telegram,
        },
        RefusalKind::MessageNotModified => ApiError::MessageNotModified { telegram },
        // Our random_id is derived from the Idempotency-Key: Telegram refusing it as a
        // duplicate means this key's message was already sent (by a run that no longer
        // remembers the answer, e.g. before a restart). Not sending again is the point.
        RefusalKind::DuplicateRandomId => ApiError::InvalidRequest(format!(
            "a message with this Idempotency-Key was already sent (Telegram: {name}); its answer is no longer remembered"
        )),
        RefusalKind::Forbidden => ApiError::Forbidden {
            message: format!("Telegram does not allow this account to do that ({name})"),
            telegram,
        },
        RefusalKind::NotAuthorized => ApiError::SessionUnauthorized {
            message: format!("the Telegram session cannot make this call ({name})"),
            telegram,
        },
        RefusalKind::NotSupportedBySandbox => ApiError::NotSupportedBySandbox {
            message: "the sandbox Telegram does not model this operation (real Telegram does): nothing was done".into(),
            telegram,
        },
        RefusalKind::FileReferenceExpired => ApiError::InvalidRequest(format!(
            "Telegram no longer accepts the stored file reference ({name}): upload the file again"
        )),
        RefusalKind::BadRequest => {
            ApiError::InvalidRequest(format!("Telegram rejected the request: {name}"))
        }
        RefusalKind::ServerTimeout => ApiError::Timeout(format!("Telegram timed out ({name})")),
        RefusalKind::Migrate { .. } | RefusalKind::Unexpected => ApiError::Internal {
            message: format!("unexpected Telegram error {} {name}", refusal.code),
            telegram,
            upstream: true,
        },
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::http::StatusCode;

    use super::*;

    fn refused(kind: RefusalKind, code: i32, name: &str, value: Option<u32>) -> ApiError {
        TelegramError::Refused(Refusal {
            kind,
            code,
            name: name.into(),
            value,
        })
        .into()
    }

    #[test]
    fn a_long_flood_wait_is_429_with_the_wait_and_full_name() {
        let wait = RefusalKind::FloodWait {
            retry_after: Duration::from_secs(300),
        };
        let e = refused(wait, 420, "FLOOD_WAIT", Some(300));
        assert_eq!(e.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(e.telegram(), Some("FLOOD_WAIT_300"));
        assert!(
            matches!(e, ApiError::FloodWait { retry_after, .. } if retry_after.as_secs() == 300)
        );
    }

    #[test]
    fn refusal_kinds_map_to_contract_codes() {
        use RefusalKind as K;
        let cases = [
            (K::PeerNotFound, 400, "PEER_NOT_FOUND", 404),
            (K::MessageNotFound, 400, "MESSAGE_NOT_FOUND", 404),
            (K::MessageTooLong, 400, "MESSAGE_TOO_LONG", 400),
            (K::MessageNotModified, 400, "MESSAGE_NOT_MODIFIED", 409),
            (K::Forbidden, 403, "FORBIDDEN", 403),
            (K::BadRequest, 400, "INVALID_REQUEST", 400),
            (K::Unexpected, 500, "INTERNAL", 502),
            (K::DuplicateRandomId, 400, "INVALID_REQUEST", 400),
            (K::NotAuthorized, 401, "SESSION_UNAUTHORIZED", 503),
            (K::ServerTimeout, -503, "TIMEOUT", 504),
            (K::Migrate { dc_id: 4 }, 303, "INTERNAL", 502),
        ];
        for (kind, telegram_code, code, status) in cases {
            let error = refused(kind, telegram_code, "SOME_NAME", None);
            assert_eq!(error.code(), code, "{kind:?}");
            assert_eq!(error.status().as_u16(), status, "{kind:?}");
        }
    }

    #[test]
    fn a_sandbox_limitation_is_501_with_its_own_code_never_invalid_request() {
        let e = refused(
            RefusalKind::NotSupportedBySandbox,
            400,
            "METHOD_NOT_SUPPORTED_BY_SANDBOX",
            None,
        );
        assert_eq!(
            (e.code(), e.status().as_u16()),
            ("NOT_SUPPORTED_BY_SANDBOX", 501)
        );
        assert_eq!(e.telegram(), Some("METHOD_NOT_SUPPORTED_BY_SANDBOX"));
        assert!(e.to_string().contains("sandbox"), "{e}");
    }

    #[test]
    fn a_peer_the_resolver_cannot_find_is_404_with_the_telegram_name() {
        let e: ApiError = TelegramError::PeerNotFound {
            message: "peer 5 is unknown".into(),
            telegram: Some("PEER_ID_INVALID".into()),
        }
        .into();
        assert_eq!((e.code(), e.status().as_u16()), ("PEER_NOT_FOUND", 404));
        assert_eq!(e.telegram(), Some("PEER_ID_INVALID"));
        let e: ApiError = TelegramError::Unavailable("down".into()).into();
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

    #[test]
    fn an_incomplete_answer_is_a_502() {
        let e: ApiError = TelegramError::Incomplete("the sent message".into()).into();
        assert_eq!((e.code(), e.status().as_u16()), ("INTERNAL", 502));
    }
}
