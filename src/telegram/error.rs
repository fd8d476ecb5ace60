//! The Telegram boundary's one error type: what went wrong talking to Telegram, classified
//! once from grammers' `InvocationError` so callers match on kinds, never on strings.

use grammers_mtsender::{InvocationError, RpcError};

/// A failed Telegram call, as the rest of mtgate sees it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TelegramError {
    /// Not connected right now (connecting, reconnecting, server down); worth retrying later.
    #[error("Telegram is unreachable: {0}")]
    Unavailable(String),
    /// The session's key has no logged-in user (revoked, logged out, never signed in).
    #[error("the session is not authorized ({name})")]
    Unauthorized { name: String },
    /// Telegram answered the call with an RPC error.
    #[error("Telegram refused the request: {} {}", .0.code, .0.name)]
    Rpc(RpcError),
    /// The call did not finish within its deadline.
    #[error("the Telegram call timed out")]
    Timeout,
    /// Anything else (bad response, session storage failure): a bug or an incompatibility.
    #[error("unexpected Telegram client error: {0}")]
    Other(String),
}

impl TelegramError {
    /// The RPC error behind this failure, if Telegram sent one.
    pub fn rpc(&self) -> Option<&RpcError> {
        match self {
            Self::Rpc(e) => Some(e),
            _ => None,
        }
    }
}

/// Names Telegram uses (code 401) when the auth key no longer has a usable user.
fn is_unauthorized(e: &RpcError) -> bool {
    e.code == 401
        && [
            "AUTH_KEY_UNREGISTERED",
            "AUTH_KEY_INVALID",
            "USER_DEACTIVATED",
            "USER_DEACTIVATED_BAN",
            "SESSION_REVOKED",
            "SESSION_EXPIRED",
        ]
        .iter()
        .any(|name| e.is(name))
}

impl From<InvocationError> for TelegramError {
    fn from(error: InvocationError) -> Self {
        match error {
            InvocationError::Rpc(e) if is_unauthorized(&e) => Self::Unauthorized { name: e.name },
            InvocationError::Rpc(e) => Self::Rpc(e),
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

    fn rpc(code: i32, name: &str, value: Option<u32>) -> InvocationError {
        InvocationError::Rpc(RpcError {
            code,
            name: name.into(),
            value,
            caused_by: None,
        })
    }

    #[test]
    fn revoked_key_is_unauthorized_not_an_rpc_error() {
        assert_eq!(
            TelegramError::from(rpc(401, "AUTH_KEY_UNREGISTERED", None)),
            TelegramError::Unauthorized {
                name: "AUTH_KEY_UNREGISTERED".into()
            }
        );
    }

    #[test]
    fn a_401_like_session_password_needed_stays_an_rpc_error() {
        let e = TelegramError::from(rpc(401, "SESSION_PASSWORD_NEEDED", None));
        assert_eq!(
            e.rpc().map(|e| e.name.as_str()),
            Some("SESSION_PASSWORD_NEEDED")
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
    fn flood_wait_keeps_its_value() {
        let e = TelegramError::from(rpc(420, "FLOOD_WAIT", Some(30)));
        assert_eq!(e.rpc().and_then(|e| e.value), Some(30));
    }
}
