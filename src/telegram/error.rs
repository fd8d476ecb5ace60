//! The Telegram boundary's one error type. grammers' `InvocationError` / `RpcError` are read
//! here, once, into mtgate's own [`TelegramError`] (with a classified [`Refusal`] for RPC
//! errors), so nothing outside `telegram/` ever matches on grammers types or on strings.

use std::time::Duration;

use grammers_mtsender::{InvocationError, RpcError};

/// A failed Telegram operation, as the rest of mtgate sees it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TelegramError {
    /// Not connected right now (connecting, reconnecting, server down); worth retrying later.
    #[error("Telegram is unreachable: {0}")]
    Unavailable(String),
    /// The session's key has no logged-in user (revoked, logged out, never signed in).
    #[error("the session is not authorized ({name})")]
    Unauthorized { name: String },
    /// Telegram answered the call with an RPC error, classified.
    #[error("Telegram refused the request: {} {}", .0.code, .0.telegram_name())]
    Refused(Refusal),
    /// The peer does not exist or this account has no way to address it (`telegram`: the
    /// RPC error name that said so, if any).
    #[error("{message}")]
    PeerNotFound {
        message: String,
        telegram: Option<String>,
    },
    /// Telegram accepted the call but its answer lacks what it should hold.
    #[error("Telegram's answer did not include {0}")]
    Incomplete(String),
    /// The call did not finish within its deadline.
    #[error("the Telegram call timed out")]
    Timeout,
    /// Anything else (bad response, session storage failure): a bug or an incompatibility.
    #[error("unexpected Telegram client error: {0}")]
    Other(String),
}

/// An RPC error from Telegram, with what it means for mtgate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub kind: RefusalKind,
    /// Telegram's code (400, 403, 420, …).
    pub code: i32,
    /// The error name without its number (`FLOOD_WAIT`, `USER_MIGRATE`).
    pub name: String,
    /// The number grammers split off the name (`FLOOD_WAIT_30` → 30), if any.
    pub value: Option<u32>,
}

/// What an RPC error means, decided once from its code and name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    /// Wait this long before retrying (flood and slow-mode waits).
    FloodWait {
        retry_after: Duration,
    },
    /// The peer does not exist or cannot be seen by this account.
    PeerNotFound,
    /// No such message in that chat.
    MessageNotFound,
    MessageTooLong,
    MessageNotModified,
    /// The `random_id` was used before: that message was already sent.
    DuplicateRandomId,
    /// Telegram does not allow this account that action.
    Forbidden,
    /// A 401 other than a revoked key (e.g. a call needing a password first).
    NotAuthorized,
    /// The sandbox Telegram does not model this method (never sent by real Telegram).
    NotSupportedBySandbox,
    /// The call belongs in another data centre (`*_MIGRATE_X`, code 303).
    Migrate {
        dc_id: i32,
    },
    /// A stored file's reference is stale or invalid (`FILE_REFERENCE_EXPIRED`,
    /// `FILE_REFERENCE_N_EXPIRED` for album item N, `FILE_REFERENCE_INVALID`…): sending that
    /// reference will never work again.
    FileReferenceExpired,
    /// Any other 400: Telegram found the request itself wrong.
    BadRequest,
    /// Telegram's own internal timeout (code -503).
    ServerTimeout,
    /// Anything else (5xx, unknown codes).
    Unexpected,
}

/// The sandbox's answer for a method it does not model.
pub const NOT_SUPPORTED_BY_SANDBOX: &str = "METHOD_NOT_SUPPORTED_BY_SANDBOX";

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

/// Names meaning "no such message here" (an edit or delete of a deleted message…).
const MESSAGE_NOT_FOUND: &[&str] = &[
    "MESSAGE_ID_INVALID",
    "MESSAGE_IDS_EMPTY",
    "MSG_ID_INVALID",
    // A reply to a message that is not in the chat.
    "REPLY_MESSAGE_ID_INVALID",
];

/// Names Telegram uses (code 401) when the auth key no longer has a usable user.
const KEY_UNUSABLE: &[&str] = &[
    "AUTH_KEY_UNREGISTERED",
    "AUTH_KEY_INVALID",
    "USER_DEACTIVATED",
    "USER_DEACTIVATED_BAN",
    "SESSION_REVOKED",
    "SESSION_EXPIRED",
];

impl Refusal {
    /// Classifies one RPC error.
    pub fn of(rpc: &RpcError) -> Self {
        let any = |names: &[&str]| names.iter().any(|n| rpc.is(n));
        let kind = match rpc.code {
            420 if rpc.value.is_some() => RefusalKind::FloodWait {
                retry_after: Duration::from_secs(u64::from(rpc.value.unwrap_or(1))),
            },
            303 if rpc.name.ends_with("_MIGRATE") && rpc.value.is_some() => RefusalKind::Migrate {
                dc_id: i32::try_from(rpc.value.unwrap_or_default()).unwrap_or_default(),
            },
            _ if rpc.is(NOT_SUPPORTED_BY_SANDBOX) => RefusalKind::NotSupportedBySandbox,
            _ if any(PEER_NOT_FOUND) => RefusalKind::PeerNotFound,
            _ if any(MESSAGE_NOT_FOUND) => RefusalKind::MessageNotFound,
            _ if rpc.is("MESSAGE_TOO_LONG") => RefusalKind::MessageTooLong,
            _ if rpc.is("MESSAGE_NOT_MODIFIED") => RefusalKind::MessageNotModified,
            _ if rpc.is("RANDOM_ID_DUPLICATE") => RefusalKind::DuplicateRandomId,
            _ if rpc.is("FILE_REFERENCE_*") => RefusalKind::FileReferenceExpired,
            _ if rpc.code == 403 || any(FORBIDDEN) => RefusalKind::Forbidden,
            401 => RefusalKind::NotAuthorized,
            400 => RefusalKind::BadRequest,
            -503 => RefusalKind::ServerTimeout,
            _ => RefusalKind::Unexpected,
        };
        Self {
            kind,
            code: rpc.code,
            name: rpc.name.clone(),
            value: rpc.value,
        }
    }

    /// The error name as Telegram sent it (`FLOOD_WAIT_30`, not grammers' split `FLOOD_WAIT`).
    pub fn telegram_name(&self) -> String {
        match self.value {
            Some(v) if self.code == 420 || self.code == 303 || self.name.ends_with("_WAIT") => {
                format!("{}_{v}", self.name)
            }
            _ => self.name.clone(),
        }
    }
}

impl TelegramError {
    /// The classified RPC error behind this failure, if Telegram sent one.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            Self::Refused(r) => Some(r),
            _ => None,
        }
    }

    /// The metrics label of this failure.
    pub fn outcome_label(&self) -> &'static str {
        match self {
            Self::Unavailable(_) => "unavailable",
            Self::Unauthorized { .. } => "unauthorized",
            Self::Refused(r) if matches!(r.kind, RefusalKind::FloodWait { .. }) => "flood_wait",
            Self::Refused(_) => "rpc_error",
            Self::PeerNotFound { .. } => "peer_not_found",
            Self::Incomplete(_) => "incomplete",
            Self::Timeout => "timeout",
            Self::Other(_) => "other",
        }
    }
}

impl From<InvocationError> for TelegramError {
    fn from(error: InvocationError) -> Self {
        match error {
            InvocationError::Rpc(e) if e.code == 401 && KEY_UNUSABLE.iter().any(|n| e.is(n)) => {
                Self::Unauthorized { name: e.name }
            }
            InvocationError::Rpc(e) => Self::Refused(Refusal::of(&e)),
            InvocationError::Io(e) => Self::Unavailable(e.to_string()),
            InvocationError::Transport(e) => Self::Unavailable(e.to_string()),
            InvocationError::Dropped(why) => {
                Self::Unavailable(format!("connection dropped: {why}"))
            }
            other => Self::Other(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
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

    fn kind(code: i32, name: &str, value: Option<u32>) -> RefusalKind {
        rpc(code, name, value).refusal().expect("a refusal").kind
    }

    #[test]
    fn revoked_key_is_unauthorized_not_a_refusal() {
        assert_eq!(
            rpc(401, "AUTH_KEY_UNREGISTERED", None),
            TelegramError::Unauthorized {
                name: "AUTH_KEY_UNREGISTERED".into()
            }
        );
    }

    #[test]
    fn a_401_like_session_password_needed_stays_a_refusal() {
        assert_eq!(
            kind(401, "SESSION_PASSWORD_NEEDED", None),
            RefusalKind::NotAuthorized
        );
    }

    #[test]
    fn io_failures_are_unavailable() {
        let e = InvocationError::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert!(matches!(
            TelegramError::from(e),
            TelegramError::Unavailable(_)
        ));
    }

    #[test]
    fn a_flood_wait_keeps_its_wait_and_full_name() {
        let e = rpc(420, "FLOOD_WAIT", Some(30));
        let refusal = e.refusal().unwrap();
        assert_eq!(
            refusal.kind,
            RefusalKind::FloodWait {
                retry_after: Duration::from_secs(30)
            }
        );
        assert_eq!(refusal.telegram_name(), "FLOOD_WAIT_30");
        assert_eq!(e.outcome_label(), "flood_wait");
    }

    #[test]
    fn the_sandbox_saying_it_does_not_model_a_method_is_its_own_kind() {
        assert_eq!(
            kind(400, "METHOD_NOT_SUPPORTED_BY_SANDBOX", None),
            RefusalKind::NotSupportedBySandbox
        );
    }

    #[test]
    fn migrate_errors_name_the_data_centre() {
        for name in [
            "USER_MIGRATE",
            "PHONE_MIGRATE",
            "NETWORK_MIGRATE",
            "FILE_MIGRATE",
        ] {
            assert_eq!(
                kind(303, name, Some(4)),
                RefusalKind::Migrate { dc_id: 4 },
                "{name}"
            );
        }
        assert_eq!(
            rpc(303, "USER_MIGRATE", Some(4))
                .refusal()
                .unwrap()
                .telegram_name(),
            "USER_MIGRATE_4"
        );
    }

    #[test]
    fn names_and_codes_map_to_kinds() {
        let cases = [
            (400, "USERNAME_NOT_OCCUPIED", RefusalKind::PeerNotFound),
            (400, "CHANNEL_INVALID", RefusalKind::PeerNotFound),
            (400, "MESSAGE_ID_INVALID", RefusalKind::MessageNotFound),
            (400, "MESSAGE_TOO_LONG", RefusalKind::MessageTooLong),
            (400, "MESSAGE_NOT_MODIFIED", RefusalKind::MessageNotModified),
            (400, "RANDOM_ID_DUPLICATE", RefusalKind::DuplicateRandomId),
            (403, "CHAT_WRITE_FORBIDDEN", RefusalKind::Forbidden),
            (400, "CHAT_ADMIN_REQUIRED", RefusalKind::Forbidden),
            (403, "SOMETHING_NEW", RefusalKind::Forbidden),
            (400, "ENTITY_BOUNDS_INVALID", RefusalKind::BadRequest),
            (
                400,
                "FILE_REFERENCE_EXPIRED",
                RefusalKind::FileReferenceExpired,
            ),
            (
                400,
                "FILE_REFERENCE_INVALID",
                RefusalKind::FileReferenceExpired,
            ),
            (-503, "Timeout", RefusalKind::ServerTimeout),
            (500, "INTERNAL_SERVER_ERROR", RefusalKind::Unexpected),
        ];
        for (code, name, expected) in cases {
            assert_eq!(kind(code, name, None), expected, "{code} {name}");
        }
        // An album item's stale reference: grammers splits its number off the name.
        assert_eq!(
            rpc(400, "FILE_REFERENCE_EXPIRED", Some(2))
                .refusal()
                .unwrap()
                .kind,
            RefusalKind::FileReferenceExpired
        );
    }
}
