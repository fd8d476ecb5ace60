//! The one error type of `mtgate login` and its exit codes.
//!
//! Scripts tell failures apart by exit code, so each kind of failure gets its own:
//!
//! | code | meaning |
//! |------|---------|
//! | 0    | logged in; the session was printed (and written with `--write-env`) |
//! | 1    | a local failure after login (e.g. `--write-env` could not write the file) or an internal error |
//! | 2    | usage or configuration: missing API ID/hash, bad `--from-session`, unreadable `--password-file`, input ended before an answer, Telegram rejected the API ID or the phone number |
//! | 3    | the login code was wrong (or expired) on every try |
//! | 4    | the 2FA password was wrong on every try (or the `--password-file` one was wrong) |
//! | 5    | the server could not be reached, or the connection failed or timed out |
//! | 6    | Telegram refused the login for another reason (sign-up required, banned number, flood wait, …) |
//! | 130  | interrupted (Ctrl-C); nothing was printed on stdout |
//!
//! The same table is in `mtgate login --help` ([`super::help::AFTER_HELP`]).
//!
//! Messages never carry the code, the password, the API hash or the session.

use std::fmt;

use grammers_client::InvocationError;
use grammers_mtproto::authentication::Error::UnknownFingerprints;
use mtgate_sandbox::wire::NO_KEY_EXCHANGE_FINGERPRINT;

/// What to do when the server is a sandbox, which answers a key exchange with a key nobody
/// has: it only hands out keys in its session strings.
pub const SANDBOX_NEEDS_A_KEY: &str = "this server is an mtgate sandbox, which cannot create \
    auth keys: log in on its unauthorized_session instead, e.g. \
    `mtgate login --server \"$MTPROTO_ADDR\" --from-session \"$UNAUTHORIZED_SESSION\"` \
    (both values are in the JSON line `mtgate sandbox` prints)";

/// Why `mtgate login` stopped without a session.
#[derive(Debug)]
pub enum LoginError {
    /// Bad or missing configuration or input (exit 2).
    Usage(String),
    /// The login code was wrong on the last allowed try (exit 3).
    WrongCode,
    /// The 2FA password was wrong on the last allowed try (exit 4).
    WrongPassword,
    /// The server is unreachable or the connection failed (exit 5).
    Network(String),
    /// Telegram answered with an error that ends the login (exit 6).
    Refused(String),
    /// A local failure after login, or something that should not happen (exit 1).
    Local(String),
    /// Ctrl-C (exit 130).
    Interrupted,
}

impl LoginError {
    /// The process exit code for this failure (see the module docs).
    pub fn exit_code(&self) -> u8 {
        match self {
            LoginError::Local(_) => 1,
            LoginError::Usage(_) => 2,
            LoginError::WrongCode => 3,
            LoginError::WrongPassword => 4,
            LoginError::Network(_) => 5,
            LoginError::Refused(_) => 6,
            LoginError::Interrupted => 130,
        }
    }
}

impl fmt::Display for LoginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoginError::Usage(why) => write!(f, "{why}"),
            LoginError::WrongCode => write!(f, "the login code was wrong too many times"),
            LoginError::WrongPassword => write!(f, "the 2FA password was wrong"),
            LoginError::Network(why) => write!(f, "cannot reach the server: {why}"),
            LoginError::Refused(why) => write!(f, "Telegram refused the login: {why}"),
            LoginError::Local(why) => write!(f, "{why}"),
            LoginError::Interrupted => write!(f, "interrupted; no session was printed"),
        }
    }
}

impl std::error::Error for LoginError {}

/// Maps a grammers error once, on the RPC error's code and name (never on its text).
impl From<InvocationError> for LoginError {
    fn from(error: InvocationError) -> Self {
        match error {
            InvocationError::Rpc(rpc) => match (rpc.code, rpc.name.as_str()) {
                (_, "API_ID_INVALID" | "API_ID_PUBLISHED_FLOOD") => LoginError::Usage(format!(
                    "Telegram rejected the API ID/hash ({}); check TG_API_ID and TG_API_HASH \
                     at https://my.telegram.org",
                    rpc.name
                )),
                (_, "PHONE_NUMBER_INVALID") => LoginError::Usage(
                    "Telegram does not know that phone number (PHONE_NUMBER_INVALID); use the \
                     international format, e.g. +15551234567"
                        .into(),
                ),
                (420, _) => LoginError::Refused(format!(
                    "too many attempts ({}); wait {} seconds and try again",
                    rpc.name,
                    rpc.value.unwrap_or(0)
                )),
                _ => LoginError::Refused(format!("{} {}", rpc.code, rpc.name)),
            },
            InvocationError::Io(e) => LoginError::Network(e.to_string()),
            InvocationError::Transport(e) => LoginError::Network(e.to_string()),
            InvocationError::Dropped(why) => {
                LoginError::Network(format!("connection lost ({why})"))
            }
            InvocationError::Authentication(UnknownFingerprints { fingerprints })
                if fingerprints.contains(&NO_KEY_EXCHANGE_FINGERPRINT) =>
            {
                LoginError::Usage(SANDBOX_NEEDS_A_KEY.into())
            }
            InvocationError::Authentication(e) => {
                LoginError::Network(format!("creating an auth key failed: {e}"))
            }
            other @ (InvocationError::Session(_)
            | InvocationError::Deserialize(_)
            | InvocationError::InvalidDc) => LoginError::Local(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use grammers_client::sender::RpcError;

    fn rpc(code: i32, name: &str, value: Option<u32>) -> InvocationError {
        InvocationError::Rpc(RpcError {
            code,
            name: name.into(),
            value,
            caused_by: None,
        })
    }

    #[test]
    fn each_failure_kind_has_its_own_exit_code() {
        let codes = [
            LoginError::Local(String::new()).exit_code(),
            LoginError::Usage(String::new()).exit_code(),
            LoginError::WrongCode.exit_code(),
            LoginError::WrongPassword.exit_code(),
            LoginError::Network(String::new()).exit_code(),
            LoginError::Refused(String::new()).exit_code(),
            LoginError::Interrupted.exit_code(),
        ];
        assert_eq!(codes, [1, 2, 3, 4, 5, 6, 130]);
    }

    #[test]
    fn a_rejected_api_id_is_a_configuration_error() {
        let error = LoginError::from(rpc(400, "API_ID_INVALID", None));
        assert_eq!(error.exit_code(), 2);
        assert!(error.to_string().contains("my.telegram.org"));
    }

    #[test]
    fn a_flood_wait_names_the_seconds_to_wait() {
        let error = LoginError::from(rpc(420, "FLOOD_WAIT", Some(31)));
        assert_eq!(error.exit_code(), 6);
        assert!(error.to_string().contains("31 seconds"));
    }

    #[test]
    fn a_sandbox_refusing_a_key_exchange_says_to_use_its_unauthorized_session() {
        let sandbox = InvocationError::Authentication(UnknownFingerprints {
            fingerprints: vec![NO_KEY_EXCHANGE_FINGERPRINT],
        });
        let error = LoginError::from(sandbox);
        assert_eq!(error.exit_code(), 2);
        assert!(error.to_string().contains("--from-session"), "{error}");
        let elsewhere = InvocationError::Authentication(UnknownFingerprints {
            fingerprints: vec![42],
        });
        assert_eq!(LoginError::from(elsewhere).exit_code(), 5);
    }

    #[test]
    fn an_io_error_is_a_network_failure() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(LoginError::from(InvocationError::Io(io)).exit_code(), 5);
        assert_eq!(
            LoginError::from(InvocationError::Dropped("gone")).exit_code(),
            5
        );
    }
}
