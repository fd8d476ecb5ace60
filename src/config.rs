//! Configuration from the environment (`.env` read with dotenvy; the real environment wins),
//! validated once at startup into [`Config`].
//!
//! Parsing is written against a lookup function rather than the process environment, so the
//! rules are unit-tested without touching global state, and `serve --sandbox` reuses them for
//! the variables it does not generate itself.

use std::collections::HashMap;
use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::domain::peer::PeerSpec;
use mtgate_session::StringSession;

pub mod edge;
pub use edge::EdgeConfig;

/// `MTGATE_LISTEN` when unset.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8000";
/// `MTGATE_STATE_DIR` when unset.
pub const DEFAULT_STATE_DIR: &str = "./data";
/// `MTGATE_FLOOD_SLEEP_MAX` when unset, in seconds.
pub const DEFAULT_FLOOD_SLEEP_MAX_SECS: u64 = 10;
/// Upper bound for `MTGATE_FLOOD_SLEEP_MAX`: sleeping longer inside a request helps nobody.
pub const MAX_FLOOD_SLEEP_MAX_SECS: u64 = 3600;

/// Everything `mtgate serve` needs, already validated.
///
/// `Debug` is written by hand: it never prints the API hash, the session's key or API keys.
pub struct Config {
    /// `TG_API_ID`.
    pub api_id: i32,
    /// `TG_API_HASH` (secret).
    pub api_hash: String,
    /// `TG_SESSION` parsed, with `TG_DC_ADDR` applied (secret).
    pub session: StringSession,
    /// `MTGATE_LISTEN`.
    pub listen: SocketAddr,
    /// `MTGATE_API_KEYS` (secrets).
    pub api_keys: Vec<String>,
    /// `MTGATE_DEFAULT_PEER`, parsed once here so a bad value stops startup.
    pub default_peer: Option<PeerSpec>,
    /// `MTGATE_STATE_DIR`.
    pub state_dir: PathBuf,
    /// `MTGATE_FLOOD_SLEEP_MAX`.
    pub flood_sleep_max: Duration,
    /// `MTGATE_LOG_FORMAT`.
    pub log_format: LogFormat,
    /// `MTGATE_HTTP_*` and `MTGATE_HEALTH_STALL_WINDOW` (see [`edge`]).
    pub edge: EdgeConfig,
}

/// `MTGATE_LOG_FORMAT`: bunyan JSON (default) or human-readable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

/// A variable that stops startup: which one, and what is wrong with it (never its value).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{var}: {reason}")]
pub struct ConfigError {
    pub var: String,
    pub reason: String,
}

impl ConfigError {
    pub fn new(var: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            var: var.into(),
            reason: reason.into(),
        }
    }
}

/// The variables as mtgate sees them: the process environment first, then `.env`.
///
/// `.env` is read into a map instead of into the process environment, so nothing global is
/// mutated and "the real environment wins" holds by construction.
#[derive(Debug, Default, Clone)]
pub struct Environment {
    dotenv: HashMap<String, String>,
}

impl Environment {
    /// Reads `./.env` when it exists. A malformed file is an error naming `.env`.
    pub fn load() -> Result<Self, ConfigError> {
        Self::load_from(Path::new(".env"))
    }

    /// Reads the given dotenv file when it exists.
    pub fn load_from(path: &Path) -> Result<Self, ConfigError> {
        let mut dotenv = HashMap::new();
        if path.exists() {
            let iter = dotenvy::from_path_iter(path)
                .map_err(|e| ConfigError::new(".env", format!("cannot read the file: {e}")))?;
            for item in iter {
                let (key, value) = item
                    .map_err(|e| ConfigError::new(".env", format!("cannot parse the file: {e}")))?;
                dotenv.insert(key, value);
            }
        }
        Ok(Self { dotenv })
    }

    /// The value of `name`: the real environment wins over `.env`.
    pub fn get(&self, name: &str) -> Option<String> {
        std::env::var(name)
            .ok()
            .or_else(|| self.dotenv.get(name).cloned())
    }
}

impl Config {
    /// Loads `.env` and the environment and validates every variable `mtgate serve` reads.
    pub fn from_env() -> Result<Self, ConfigError> {
        let env = Environment::load()?;
        Self::from_lookup(|name| env.get(name))
    }

    /// Validates the variables returned by `lookup`. Empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let api_id = parse_api_id(get("TG_API_ID"))?;
        let api_hash = parse_api_hash(get("TG_API_HASH"))?;
        let dc_addr = get("TG_DC_ADDR").map(|v| parse_dc_addr(&v)).transpose()?;
        let session = parse_session(get("TG_SESSION"), dc_addr)?;
        let api_keys = parse_api_keys(get("MTGATE_API_KEYS"))?;
        Self::with_service_settings(&get, api_id, api_hash, session, api_keys, None)
    }

    /// A config for `serve --sandbox`: the Telegram side and the API key come from the sandbox,
    /// everything else from `lookup` as usual. `state_dir` is used when `MTGATE_STATE_DIR` is
    /// unset.
    pub fn for_sandbox(
        lookup: impl Fn(&str) -> Option<String>,
        session: StringSession,
        api_key: String,
        state_dir: PathBuf,
    ) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let api_hash = "0".repeat(32);
        Self::with_service_settings(&get, 1, api_hash, session, vec![api_key], Some(state_dir))
    }

    fn with_service_settings(
        get: &dyn Fn(&str) -> Option<String>,
        api_id: i32,
        api_hash: String,
        session: StringSession,
        api_keys: Vec<String>,
        state_dir_default: Option<PathBuf>,
    ) -> Result<Self, ConfigError> {
        let listen = get("MTGATE_LISTEN").unwrap_or_else(|| DEFAULT_LISTEN.into());
        let listen = listen.trim().parse::<SocketAddr>().map_err(|_| {
            ConfigError::new(
                "MTGATE_LISTEN",
                "must be an IP address and port, e.g. 127.0.0.1:8000 or 0.0.0.0:8000",
            )
        })?;
        let state_dir = get("MTGATE_STATE_DIR")
            .map(|v| PathBuf::from(v.trim()))
            .or(state_dir_default)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_STATE_DIR));
        Ok(Self {
            api_id,
            api_hash,
            session,
            listen,
            api_keys,
            default_peer: parse_default_peer(get("MTGATE_DEFAULT_PEER"))?,
            state_dir,
            flood_sleep_max: parse_flood_sleep_max(get("MTGATE_FLOOD_SLEEP_MAX"))?,
            log_format: parse_log_format(get("MTGATE_LOG_FORMAT"))?,
            edge: EdgeConfig::from_lookup(get)?,
        })
    }
}

/// `MTGATE_LOG_FORMAT` alone: the log format is needed before the rest is validated
/// (`serve --sandbox` validates the rest once its sandbox is up).
pub fn log_format_from(lookup: impl Fn(&str) -> Option<String>) -> Result<LogFormat, ConfigError> {
    parse_log_format(lookup("MTGATE_LOG_FORMAT").filter(|v| !v.trim().is_empty()))
}

fn parse_default_peer(value: Option<String>) -> Result<Option<PeerSpec>, ConfigError> {
    value
        .map(|v| PeerSpec::parse(&v).map_err(|why| ConfigError::new("MTGATE_DEFAULT_PEER", why)))
        .transpose()
}

fn missing(var: &str) -> ConfigError {
    ConfigError::new(var, "is required but not set")
}

fn parse_api_id(value: Option<String>) -> Result<i32, ConfigError> {
    let value = value.ok_or_else(|| missing("TG_API_ID"))?;
    match value.trim().parse::<i32>() {
        Ok(id) if id > 0 => Ok(id),
        _ => Err(ConfigError::new(
            "TG_API_ID",
            "must be a positive integer (the api_id from https://my.telegram.org)",
        )),
    }
}

fn parse_api_hash(value: Option<String>) -> Result<String, ConfigError> {
    let value = value.ok_or_else(|| missing("TG_API_HASH"))?;
    let value = value.trim();
    if value.len() == 32 && value.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(value.to_owned())
    } else {
        Err(ConfigError::new(
            "TG_API_HASH",
            "must be the 32 hexadecimal characters of the api_hash from https://my.telegram.org",
        ))
    }
}

/// `host:port`; a host name is resolved once, at startup.
fn parse_dc_addr(value: &str) -> Result<SocketAddr, ConfigError> {
    let value = value.trim();
    if let Ok(addr) = value.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let bad = |why: String| ConfigError::new("TG_DC_ADDR", why);
    let (host, port) = value
        .rsplit_once(':')
        .ok_or_else(|| bad("must be HOST:PORT, e.g. 149.154.167.40:443".into()))?;
    if host.is_empty() || port.parse::<u16>().is_err() {
        return Err(bad("must be HOST:PORT, e.g. 149.154.167.40:443".into()));
    }
    value
        .to_socket_addrs()
        .map_err(|e| bad(format!("cannot resolve the host: {e}")))?
        .next()
        .ok_or_else(|| bad("the host resolves to no address".into()))
}

fn parse_session(
    value: Option<String>,
    dc_addr: Option<SocketAddr>,
) -> Result<StringSession, ConfigError> {
    let value = value.ok_or_else(|| missing("TG_SESSION"))?;
    StringSession::parse(&value, dc_addr).map_err(|e| ConfigError::new("TG_SESSION", e.to_string()))
}

fn parse_api_keys(value: Option<String>) -> Result<Vec<String>, ConfigError> {
    let value = value.ok_or_else(|| missing("MTGATE_API_KEYS"))?;
    let keys: Vec<String> = value
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .collect();
    if keys.is_empty() {
        return Err(ConfigError::new(
            "MTGATE_API_KEYS",
            "must list at least one key (comma-separated)",
        ));
    }
    if let Some(position) = keys
        .iter()
        .position(|k| !k.bytes().all(|b| b.is_ascii_graphic()))
    {
        return Err(ConfigError::new(
            "MTGATE_API_KEYS",
            format!(
                "key #{} contains a space or a non-ASCII/control character; keys are sent in \
                 HTTP headers, so use printable ASCII only",
                position + 1
            ),
        ));
    }
    Ok(keys)
}

fn parse_flood_sleep_max(value: Option<String>) -> Result<Duration, ConfigError> {
    let Some(value) = value else {
        return Ok(Duration::from_secs(DEFAULT_FLOOD_SLEEP_MAX_SECS));
    };
    match value.trim().parse::<u64>() {
        Ok(secs) if secs <= MAX_FLOOD_SLEEP_MAX_SECS => Ok(Duration::from_secs(secs)),
        _ => Err(ConfigError::new(
            "MTGATE_FLOOD_SLEEP_MAX",
            format!("must be a whole number of seconds from 0 to {MAX_FLOOD_SLEEP_MAX_SECS}"),
        )),
    }
}

fn parse_log_format(value: Option<String>) -> Result<LogFormat, ConfigError> {
    match value.as_deref().map(str::trim).map(str::to_ascii_lowercase) {
        None => Ok(LogFormat::Json),
        Some(v) if v == "json" || v == "bunyan" => Ok(LogFormat::Json),
        Some(v) if v == "pretty" => Ok(LogFormat::Pretty),
        Some(_) => Err(ConfigError::new(
            "MTGATE_LOG_FORMAT",
            "must be `json` or `pretty`",
        )),
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("api_id", &self.api_id)
            .field("api_hash", &"<redacted>")
            .field("session", &self.session)
            .field("listen", &self.listen)
            .field(
                "api_keys",
                &format_args!("<{} redacted>", self.api_keys.len()),
            )
            .field("default_peer", &self.default_peer)
            .field("state_dir", &self.state_dir)
            .field("flood_sleep_max", &self.flood_sleep_max)
            .field("log_format", &self.log_format)
            .field("edge", &self.edge)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mtgate_session::{AUTH_KEY_LEN, SessionFormat};

    const HASH: &str = "0123456789abcdef0123456789abcdef";

    fn session() -> StringSession {
        StringSession {
            dc_id: 2,
            addr: "127.0.0.1:4567".parse().unwrap(),
            auth_key: [7; AUTH_KEY_LEN],
            format: SessionFormat::Telethon,
        }
    }

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        let mut map: HashMap<String, String> = [
            ("TG_API_ID", "12345"),
            ("TG_API_HASH", HASH),
            ("MTGATE_API_KEYS", "key-one"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        map.insert("TG_SESSION".into(), session().to_telethon_string());
        for (k, v) in pairs {
            map.insert(k.to_string(), v.to_string());
        }
        map
    }

    fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map = vars(pairs);
        Config::from_lookup(|name| map.get(name).cloned())
    }

    fn failing_var(pairs: &[(&str, &str)]) -> String {
        load(pairs).expect_err("config should be rejected").var
    }

    #[test]
    fn minimal_config_gets_the_contract_defaults() {
        let config = load(&[]).unwrap();
        assert_eq!(config.api_id, 12345);
        assert_eq!(config.session, session());
        assert_eq!(config.listen, "127.0.0.1:8000".parse().unwrap());
        assert_eq!(config.api_keys, vec!["key-one".to_string()]);
        assert_eq!(config.default_peer, None);
        assert_eq!(config.state_dir, PathBuf::from("./data"));
        assert_eq!(config.flood_sleep_max, Duration::from_secs(10));
        assert_eq!(config.log_format, LogFormat::Json);
    }

    #[test]
    fn every_required_variable_is_named_when_missing() {
        for var in ["TG_API_ID", "TG_API_HASH", "TG_SESSION", "MTGATE_API_KEYS"] {
            let mut map = vars(&[]);
            map.remove(var);
            let error = Config::from_lookup(|name| map.get(name).cloned()).unwrap_err();
            assert_eq!(error.var, var);
            assert_eq!(error.reason, "is required but not set");
        }
    }

    #[test]
    fn an_empty_value_counts_as_unset() {
        assert_eq!(failing_var(&[("TG_API_ID", "  ")]), "TG_API_ID");
        let config = load(&[("MTGATE_LISTEN", ""), ("MTGATE_DEFAULT_PEER", "")]).unwrap();
        assert_eq!(config.listen, "127.0.0.1:8000".parse().unwrap());
        assert_eq!(config.default_peer, None);
    }

    #[test]
    fn api_id_must_be_a_positive_integer() {
        for bad in ["abc", "0", "-5", "99999999999"] {
            assert_eq!(failing_var(&[("TG_API_ID", bad)]), "TG_API_ID", "{bad}");
        }
    }

    #[test]
    fn api_hash_must_be_32_hex_characters_and_is_never_echoed() {
        let error = load(&[("TG_API_HASH", "not-a-hash-secret")]).unwrap_err();
        assert_eq!(error.var, "TG_API_HASH");
        assert!(!error.to_string().contains("not-a-hash-secret"));
    }

    #[test]
    fn a_malformed_session_names_the_variable_without_echoing_it() {
        let error = load(&[("TG_SESSION", "1garbage-session-value")]).unwrap_err();
        assert_eq!(error.var, "TG_SESSION");
        assert!(!error.to_string().contains("garbage-session-value"));
        assert!(error.to_string().starts_with("TG_SESSION: "));
    }

    #[test]
    fn dc_addr_overrides_the_session_address() {
        let config = load(&[("TG_DC_ADDR", "10.0.0.9:443")]).unwrap();
        assert_eq!(config.session.addr, "10.0.0.9:443".parse().unwrap());
        assert_eq!(config.session.auth_key, session().auth_key);
    }

    #[test]
    fn dc_addr_must_be_host_and_port() {
        for bad in ["10.0.0.9", "host:", ":443", "10.0.0.9:99999"] {
            assert_eq!(failing_var(&[("TG_DC_ADDR", bad)]), "TG_DC_ADDR", "{bad}");
        }
    }

    #[test]
    fn api_keys_are_split_trimmed_and_validated() {
        let config = load(&[("MTGATE_API_KEYS", " a-key , ,second-key,")]).unwrap();
        assert_eq!(config.api_keys, vec!["a-key", "second-key"]);
        assert_eq!(
            failing_var(&[("MTGATE_API_KEYS", " , ")]),
            "MTGATE_API_KEYS"
        );
        assert_eq!(
            failing_var(&[("MTGATE_API_KEYS", "good,has space")]),
            "MTGATE_API_KEYS"
        );
        assert_eq!(
            failing_var(&[("MTGATE_API_KEYS", "clé")]),
            "MTGATE_API_KEYS"
        );
    }

    #[test]
    fn listen_must_be_a_socket_address() {
        assert_eq!(failing_var(&[("MTGATE_LISTEN", "8000")]), "MTGATE_LISTEN");
        assert_eq!(
            failing_var(&[("MTGATE_LISTEN", "localhost:8000")]),
            "MTGATE_LISTEN"
        );
        let config = load(&[("MTGATE_LISTEN", "[::1]:0")]).unwrap();
        assert_eq!(config.listen, "[::1]:0".parse().unwrap());
    }

    #[test]
    fn flood_sleep_max_is_bounded_seconds() {
        let config = load(&[("MTGATE_FLOOD_SLEEP_MAX", "0")]).unwrap();
        assert_eq!(config.flood_sleep_max, Duration::ZERO);
        for bad in ["-1", "1.5", "ten", "3601"] {
            assert_eq!(
                failing_var(&[("MTGATE_FLOOD_SLEEP_MAX", bad)]),
                "MTGATE_FLOOD_SLEEP_MAX",
                "{bad}"
            );
        }
    }

    #[test]
    fn log_format_is_json_or_pretty() {
        let config = load(&[("MTGATE_LOG_FORMAT", "Pretty")]).unwrap();
        assert_eq!(config.log_format, LogFormat::Pretty);
        assert_eq!(
            failing_var(&[("MTGATE_LOG_FORMAT", "xml")]),
            "MTGATE_LOG_FORMAT"
        );
    }

    #[test]
    fn optional_values_are_kept() {
        let config = load(&[
            ("MTGATE_DEFAULT_PEER", " @news "),
            ("MTGATE_STATE_DIR", "/var/lib/mtgate"),
        ])
        .unwrap();
        assert_eq!(config.default_peer, Some(PeerSpec::Username("news".into())));
        assert_eq!(config.state_dir, PathBuf::from("/var/lib/mtgate"));
    }

    #[test]
    fn a_default_peer_that_is_not_a_peer_stops_startup() {
        for bad in ["@", "-100", "1234567890123456789012345678901234567890"] {
            assert_eq!(
                failing_var(&[("MTGATE_DEFAULT_PEER", bad)]),
                "MTGATE_DEFAULT_PEER",
                "{bad}"
            );
        }
    }

    #[test]
    fn debug_output_hides_every_secret() {
        let config = load(&[("MTGATE_API_KEYS", "super-secret-key")]).unwrap();
        let text = format!("{config:?}");
        assert!(!text.contains(HASH));
        assert!(!text.contains("super-secret-key"));
        assert!(!text.contains(&session().to_telethon_string()[1..20]));
        assert!(text.contains("api_id: 12345"));
    }

    #[test]
    fn sandbox_config_takes_listen_and_state_dir_from_the_environment() {
        let lookup = |name: &str| (name == "MTGATE_LISTEN").then(|| "127.0.0.1:0".to_string());
        let config =
            Config::for_sandbox(lookup, session(), "k".into(), PathBuf::from("/tmp/x")).unwrap();
        assert_eq!(config.listen, "127.0.0.1:0".parse().unwrap());
        assert_eq!(config.state_dir, PathBuf::from("/tmp/x"));
        assert_eq!(config.api_keys, vec!["k".to_string()]);
    }

    #[test]
    fn dotenv_file_is_read_without_touching_the_process_environment() {
        let dir = std::env::temp_dir().join(format!("mtgate-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(".env");
        std::fs::write(&path, "MTGATE_TEST_ONLY_VAR_7F3A=from-file\n").unwrap();
        let env = Environment::load_from(&path).unwrap();
        assert_eq!(
            env.get("MTGATE_TEST_ONLY_VAR_7F3A").as_deref(),
            Some("from-file")
        );
        assert!(std::env::var("MTGATE_TEST_ONLY_VAR_7F3A").is_err());
        std::fs::write(&path, "this is not = = a valid line\n'unterminated").unwrap();
        assert_eq!(Environment::load_from(&path).unwrap_err().var, ".env");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
