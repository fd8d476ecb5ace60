//! What a failed attempt means for its job: wait out a flood, retry later, or give up — and
//! the error the job shows. Decided from mtgate's own [`TelegramError`] classification.

use std::time::Duration;

use crate::domain::JobError;
use crate::telegram::TelegramError;
use crate::telegram::error::RefusalKind;

/// The fate of one failed attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Telegram asks to wait: park the chat (and maybe the account); not a failure.
    Flood { wait: Duration, slow_mode: bool },
    /// Worth retrying after a backoff (connection lost, timeouts, Telegram's 5xx).
    Transient,
    /// Will fail the same way every time (peer invalid, write forbidden, too long…).
    Permanent,
    /// Telegram already has a message with this job's `random_id`: it was sent.
    AlreadySent,
}

/// Classifies a failed send.
pub fn verdict(error: &TelegramError) -> Verdict {
    match error {
        TelegramError::Refused(refusal) => match refusal.kind {
            RefusalKind::FloodWait { retry_after } => Verdict::Flood {
                wait: retry_after,
                slow_mode: refusal.name == "SLOWMODE_WAIT",
            },
            RefusalKind::DuplicateRandomId => Verdict::AlreadySent,
            RefusalKind::ServerTimeout | RefusalKind::Unexpected | RefusalKind::Migrate { .. } => {
                Verdict::Transient
            }
            RefusalKind::PeerNotFound
            | RefusalKind::MessageNotFound
            | RefusalKind::MessageTooLong
            | RefusalKind::MessageNotModified
            | RefusalKind::Forbidden
            | RefusalKind::NotAuthorized
            | RefusalKind::NotSupportedBySandbox
            | RefusalKind::FileReferenceExpired
            | RefusalKind::BadRequest => Verdict::Permanent,
        },
        TelegramError::PeerNotFound { .. } => Verdict::Permanent,
        TelegramError::Unavailable(_)
        | TelegramError::Unauthorized { .. }
        | TelegramError::Incomplete(_)
        | TelegramError::Timeout
        | TelegramError::Other(_) => Verdict::Transient,
    }
}

/// The job's error for `error`: the API's code for it, a sentence (never the message text)
/// and Telegram's error name.
pub fn job_error(error: &TelegramError) -> JobError {
    let refusal = error.refusal();
    let code = match error {
        TelegramError::Unavailable(_) => "TELEGRAM_UNAVAILABLE",
        TelegramError::Unauthorized { .. } => "SESSION_UNAUTHORIZED",
        TelegramError::PeerNotFound { .. } => "PEER_NOT_FOUND",
        TelegramError::Timeout => "TIMEOUT",
        TelegramError::Incomplete(_) | TelegramError::Other(_) => "INTERNAL",
        TelegramError::Refused(r) => match r.kind {
            RefusalKind::FloodWait { .. } => "FLOOD_WAIT",
            RefusalKind::PeerNotFound => "PEER_NOT_FOUND",
            RefusalKind::MessageNotFound => "MESSAGE_NOT_FOUND",
            RefusalKind::MessageTooLong => "MESSAGE_TOO_LONG",
            RefusalKind::MessageNotModified => "MESSAGE_NOT_MODIFIED",
            RefusalKind::Forbidden => "FORBIDDEN",
            RefusalKind::NotAuthorized => "SESSION_UNAUTHORIZED",
            RefusalKind::NotSupportedBySandbox => "NOT_SUPPORTED_BY_SANDBOX",
            RefusalKind::BadRequest | RefusalKind::DuplicateRandomId => "INVALID_REQUEST",
            RefusalKind::FileReferenceExpired => "MEDIA_EXPIRED",
            RefusalKind::ServerTimeout => "TIMEOUT",
            RefusalKind::Migrate { .. } | RefusalKind::Unexpected => "INTERNAL",
        },
    };
    let telegram = match error {
        TelegramError::Unauthorized { name } => Some(name.clone()),
        TelegramError::PeerNotFound { telegram, .. } => telegram.clone(),
        _ => refusal.map(|r| r.telegram_name()),
    };
    JobError {
        code: code.into(),
        message: error.to_string(),
        telegram,
    }
}

/// An error of the outbox itself (not Telegram's).
pub fn own_error(code: &str, message: impl Into<String>) -> JobError {
    JobError {
        code: code.into(),
        message: message.into(),
        telegram: None,
    }
}

/// The delay before retry number `failures` (1 = after the first failure): exponential from
/// `base`, capped at `max`, with "equal jitter" (half fixed, half random) so jobs that failed
/// together do not come back together. `unit` is a random number in `[0, 1)`.
pub fn backoff(failures: u32, base: Duration, max: Duration, unit: f64) -> Duration {
    let exp = failures.saturating_sub(1).min(30);
    let full = base.saturating_mul(1u32 << exp).min(max);
    full / 2 + full.mul_f64(unit.clamp(0.0, 1.0) / 2.0)
}

#[cfg(test)]
mod tests {
    use grammers_mtsender::{InvocationError, RpcError};

    use super::*;

    fn rpc(code: i32, name: &str, value: Option<u32>) -> TelegramError {
        InvocationError::Rpc(RpcError {
            code,
            name: name.into(),
            value,
            caused_by: None,
        })
        .into()
    }

    #[test]
    fn waits_are_floods_and_slow_mode_is_told_apart() {
        assert_eq!(
            verdict(&rpc(420, "FLOOD_WAIT", Some(7))),
            Verdict::Flood {
                wait: Duration::from_secs(7),
                slow_mode: false
            }
        );
        assert_eq!(
            verdict(&rpc(420, "SLOWMODE_WAIT", Some(30))),
            Verdict::Flood {
                wait: Duration::from_secs(30),
                slow_mode: true
            }
        );
    }

    #[test]
    fn refusals_that_cannot_change_are_permanent_and_outages_transient() {
        for (code, name) in [
            (400, "PEER_ID_INVALID"),
            (403, "CHAT_WRITE_FORBIDDEN"),
            (400, "MESSAGE_TOO_LONG"),
            (400, "ENTITY_BOUNDS_INVALID"),
            (400, "FILE_REFERENCE_EXPIRED"),
        ] {
            assert_eq!(
                verdict(&rpc(code, name, None)),
                Verdict::Permanent,
                "{name}"
            );
        }
        for (code, name) in [(500, "INTERNAL_SERVER_ERROR"), (-503, "Timeout")] {
            assert_eq!(
                verdict(&rpc(code, name, None)),
                Verdict::Transient,
                "{name}"
            );
        }
        assert_eq!(
            verdict(&TelegramError::Unavailable("down".into())),
            Verdict::Transient
        );
        assert_eq!(verdict(&TelegramError::Timeout), Verdict::Transient);
        assert_eq!(
            verdict(&rpc(400, "RANDOM_ID_DUPLICATE", None)),
            Verdict::AlreadySent
        );
    }

    #[test]
    fn job_errors_carry_the_api_code_and_telegrams_name() {
        let e = job_error(&rpc(403, "CHAT_WRITE_FORBIDDEN", None));
        assert_eq!(e.code, "FORBIDDEN");
        assert_eq!(e.telegram.as_deref(), Some("CHAT_WRITE_FORBIDDEN"));
        let e = job_error(&rpc(420, "FLOOD_WAIT", Some(3)));
        assert_eq!(e.telegram.as_deref(), Some("FLOOD_WAIT_3"));
        assert_eq!(
            job_error(&TelegramError::Unavailable("x".into())).code,
            "TELEGRAM_UNAVAILABLE"
        );
        let e = job_error(&rpc(400, "FILE_REFERENCE_EXPIRED", Some(1)));
        assert_eq!(e.code, "MEDIA_EXPIRED");
        assert_eq!(e.telegram.as_deref(), Some("FILE_REFERENCE_EXPIRED"));
    }

    #[test]
    fn backoff_doubles_stays_capped_and_jitters_within_half() {
        let base = Duration::from_secs(1);
        let max = Duration::from_secs(60);
        assert_eq!(backoff(1, base, max, 0.0), Duration::from_millis(500));
        assert_eq!(backoff(1, base, max, 1.0), Duration::from_secs(1));
        assert_eq!(backoff(3, base, max, 1.0), Duration::from_secs(4));
        assert_eq!(backoff(20, base, max, 1.0), max);
        assert_eq!(backoff(u32::MAX, base, max, 0.0), max / 2);
        assert_eq!(backoff(0, base, max, 1.0), base);
    }
}
