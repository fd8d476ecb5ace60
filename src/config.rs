//! Configuration from the environment (`.env` read with dotenvy; the real environment wins)
//! and the files it names, validated once at startup into [`Config`].
//!
//! Every problem is collected before giving up ([`ConfigErrors`], one line each), so a fresh
//! setup is fixed in one round. Parsing is written against a lookup function rather than the
//! process environment, so the rules are unit-tested without touching global state, and
//! `serve --sandbox` reuses them for the variables it does not generate itself.
//!
//! - [`vars`]: one parser per variable.
//! - [`accounts_file`]: `MTGATE_ACCOUNTS_FILE`, extra accounts by name.
//! - [`keys_file`]: `MTGATE_KEYS_FILE`, named and scoped API keys.

pub mod accounts_file;
mod env;
mod errors;
pub mod keys_file;
mod toml_file;
pub mod vars;
pub mod webhooks_file;

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::domain::AccountName;
use crate::domain::peer::PeerSpec;
use mtgate_session::StringSession;

pub mod cluster;
pub mod edge;
pub mod events;
pub mod media;
pub mod outbox;
pub mod runtime;
pub mod tls;
pub use accounts_file::AccountConfig;
pub use cluster::ClusterConfig;
pub use edge::EdgeConfig;
pub use env::Environment;
pub use errors::{Collector, ConfigError, ConfigErrors};
pub use events::{EventsConfig, WebhookPolicy};
pub use keys_file::ApiKey;
pub use media::MediaConfig;
pub use outbox::OutboxConfig;
pub use runtime::RuntimeThreads;
pub use tls::TlsConfig;
pub use vars::{DEFAULT_FLOOD_SLEEP_MAX_SECS, MAX_FLOOD_SLEEP_MAX_SECS};

/// `MTGATE_LISTEN` when unset.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8000";
/// `MTGATE_STATE_DIR` when unset.
pub const DEFAULT_STATE_DIR: &str = "./data";

/// Everything `mtgate serve` needs, already validated.
///
/// `Debug` is written by hand: it never prints the API hash, the session's key or API keys.
pub struct Config {
    /// `TG_API_ID`.
    pub api_id: i32,
    /// `TG_API_HASH` (secret).
    pub api_hash: String,
    /// `TG_SESSION` parsed, with `TG_DC_ADDR` applied (secret): the `default` account.
    pub session: StringSession,
    /// `MTGATE_LISTEN`.
    pub listen: SocketAddr,
    /// `MTGATE_API_KEYS` (secrets): full-access keys.
    pub api_keys: Vec<String>,
    /// `MTGATE_DEFAULT_PEER`, parsed once here so a bad value stops startup.
    pub default_peer: Option<PeerSpec>,
    /// `MTGATE_STATE_DIR`.
    pub state_dir: PathBuf,
    /// `MTGATE_DATABASE_URL` (secret: may hold a password): PostgreSQL instead of the
    /// SQLite file under `state_dir`.
    pub database_url: Option<String>,
    /// `MTGATE_REPLICA_*` and `MTGATE_LEASE_TTL`: used only with `database_url`.
    pub cluster: ClusterConfig,
    /// `MTGATE_FLOOD_SLEEP_MAX`.
    pub flood_sleep_max: Duration,
    /// `MTGATE_LOG_FORMAT`.
    pub log_format: LogFormat,
    /// `MTGATE_HTTP_*` and `MTGATE_HEALTH_STALL_WINDOW` (see [`edge`]).
    pub edge: EdgeConfig,
    /// `MTGATE_OUTBOX_*` (see [`outbox`]).
    pub outbox: OutboxConfig,
    /// `MTGATE_EVENTS_*` and `MTGATE_WEBHOOK_*` (see [`events`]).
    pub events: EventsConfig,
    /// `MTGATE_MEDIA_*` (see [`media`]).
    pub media: MediaConfig,
    /// `MTGATE_TLS_CA_FILE` (see [`tls`]): trust for outgoing HTTPS.
    pub tls: TlsConfig,
    /// `MTGATE_ACCOUNTS_FILE`: the accounts besides `default`, in name order.
    pub extra_accounts: Vec<AccountConfig>,
    /// `MTGATE_KEYS_FILE`: named, scoped keys.
    pub scoped_keys: Vec<ApiKey>,
    /// `MTGATE_WEBHOOKS_FILE`: webhooks kept in sync with the file.
    pub webhooks: Vec<webhooks_file::WebhookConfig>,
}

/// `MTGATE_LOG_FORMAT`: bunyan JSON (default) or human-readable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

/// The variables every mode reads the same way.
struct ServiceSettings {
    listen: SocketAddr,
    state_dir: PathBuf,
    database_url: Option<String>,
    cluster: ClusterConfig,
    flood_sleep_max: Duration,
    log_format: LogFormat,
    edge: EdgeConfig,
    outbox: OutboxConfig,
    events: EventsConfig,
    media: MediaConfig,
    tls: TlsConfig,
}

impl Config {
    /// Loads `.env` and the environment and validates every variable `mtgate serve` reads.
    pub fn from_env() -> Result<Self, ConfigErrors> {
        let env = Environment::load()?;
        Self::from_lookup(|name| env.get(name))
    }

    /// Validates the variables returned by `lookup` (and the files they name). Empty values
    /// count as unset. Every problem is reported, not only the first.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigErrors> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let mut errors = Collector::default();
        let api_id = errors.take(vars::parse_api_id(get("TG_API_ID")));
        let api_hash = errors.take(vars::parse_api_hash(get("TG_API_HASH")));
        let dc_addr = get("TG_DC_ADDR").and_then(|v| errors.take(vars::parse_dc_addr(&v)));
        let session = errors.take(vars::parse_session(get("TG_SESSION"), dc_addr));
        let default_peer = errors.take(vars::parse_default_peer(get("MTGATE_DEFAULT_PEER")));
        let settings = service_settings(&get, None, &mut errors);
        let extra_accounts = match get(accounts_file::VAR) {
            None => Vec::new(),
            Some(path) => accounts_file::load(path.trim().as_ref()).unwrap_or_else(|e| {
                errors.extend(e);
                Vec::new()
            }),
        };
        let scoped_keys = match get(keys_file::VAR) {
            None => Vec::new(),
            Some(path) => {
                let names = account_names(&extra_accounts);
                keys_file::load(path.trim().as_ref(), &names).unwrap_or_else(|e| {
                    errors.extend(e);
                    Vec::new()
                })
            }
        };
        let webhooks = match get(webhooks_file::VAR) {
            None => Vec::new(),
            Some(path) => webhooks_file::load(path.trim().as_ref()).unwrap_or_else(|e| {
                errors.extend(e);
                Vec::new()
            }),
        };
        let keys_from_file = get(keys_file::VAR).is_some();
        let api_keys = errors.take(vars::parse_api_keys(
            get("MTGATE_API_KEYS"),
            !keys_from_file,
        ));
        if let Some(api_keys) = &api_keys {
            errors.extend(shared_keys(api_keys, &scoped_keys));
            if api_keys.is_empty() && scoped_keys.is_empty() && keys_from_file {
                errors.push(ConfigError::new(
                    "MTGATE_API_KEYS",
                    "no key is configured: set it, or give keys in MTGATE_KEYS_FILE",
                ));
            }
        }
        if let Some(session) = &session {
            errors.extend(shared_sessions(session, &extra_accounts));
        }
        match (api_id, api_hash, session, api_keys, settings) {
            (Some(api_id), Some(api_hash), Some(session), Some(api_keys), Some(settings))
                if errors.is_empty() =>
            {
                let mut config = Self::assemble(settings, api_id, api_hash, session, api_keys);
                config.default_peer = default_peer.flatten();
                config.extra_accounts = extra_accounts;
                config.scoped_keys = scoped_keys;
                config.webhooks = webhooks;
                Ok(config)
            }
            _ => Err(errors.into_errors()),
        }
    }

    /// A config for `serve --sandbox`: the Telegram side and the API key come from the sandbox,
    /// everything else from `lookup` as usual. `state_dir` is used when `MTGATE_STATE_DIR` is
    /// unset.
    pub fn for_sandbox(
        lookup: impl Fn(&str) -> Option<String>,
        session: StringSession,
        api_key: String,
        state_dir: PathBuf,
    ) -> Result<Self, ConfigErrors> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let mut errors = Collector::default();
        let default_peer = errors.take(vars::parse_default_peer(get("MTGATE_DEFAULT_PEER")));
        let settings = service_settings(&get, Some(state_dir), &mut errors);
        match settings {
            Some(settings) if errors.is_empty() => {
                let api_hash = "0".repeat(32);
                let mut config = Self::assemble(settings, 1, api_hash, session, vec![api_key]);
                config.default_peer = default_peer.flatten();
                Ok(config)
            }
            _ => Err(errors.into_errors()),
        }
    }

    /// The shared settings plus the Telegram side; no extra accounts or scoped keys yet.
    fn assemble(
        settings: ServiceSettings,
        api_id: i32,
        api_hash: String,
        session: StringSession,
        api_keys: Vec<String>,
    ) -> Self {
        Self {
            api_id,
            api_hash,
            session,
            listen: settings.listen,
            api_keys,
            default_peer: None,
            state_dir: settings.state_dir,
            database_url: settings.database_url,
            cluster: settings.cluster,
            flood_sleep_max: settings.flood_sleep_max,
            log_format: settings.log_format,
            edge: settings.edge,
            outbox: settings.outbox,
            events: settings.events,
            media: settings.media,
            tls: settings.tls,
            extra_accounts: Vec::new(),
            scoped_keys: Vec::new(),
            webhooks: Vec::new(),
        }
    }

    /// Every account, `default` (from `TG_SESSION`) first.
    pub fn accounts(&self) -> Vec<AccountConfig> {
        let default = AccountConfig {
            name: AccountName::default_account(),
            session: self.session.clone(),
            default_peer: self.default_peer.clone(),
        };
        std::iter::once(default)
            .chain(self.extra_accounts.iter().cloned())
            .collect()
    }

    /// Every accepted key: `MTGATE_API_KEYS` (full access, named by position), then the
    /// keys file's.
    pub fn keys(&self) -> Vec<ApiKey> {
        self.api_keys
            .iter()
            .enumerate()
            .map(|(i, key)| ApiKey::from_env(i, key))
            .chain(self.scoped_keys.iter().cloned())
            .collect()
    }
}

fn service_settings(
    get: &dyn Fn(&str) -> Option<String>,
    state_dir_default: Option<PathBuf>,
    errors: &mut Collector,
) -> Option<ServiceSettings> {
    let listen = get("MTGATE_LISTEN").unwrap_or_else(|| DEFAULT_LISTEN.into());
    let listen = errors.take(vars::parse_listen(&listen));
    let state_dir = get("MTGATE_STATE_DIR")
        .map(|v| PathBuf::from(v.trim()))
        .or(state_dir_default)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_STATE_DIR));
    let database_url = errors.take(vars::parse_database_url(get("MTGATE_DATABASE_URL")));
    let cluster = ClusterConfig::from_lookup(get)
        .map_err(|e| errors.extend(e))
        .ok();
    let flood_sleep_max = errors.take(vars::parse_flood_sleep_max(get("MTGATE_FLOOD_SLEEP_MAX")));
    let log_format = errors.take(vars::parse_log_format(get("MTGATE_LOG_FORMAT")));
    let edge = errors.take(EdgeConfig::from_lookup(get));
    let outbox = errors.take(OutboxConfig::from_lookup(get));
    let events = errors.take(EventsConfig::from_lookup(get));
    let media = errors.take(MediaConfig::from_lookup(get));
    let tls = errors.take(TlsConfig::from_lookup(get));
    Some(ServiceSettings {
        listen: listen?,
        state_dir,
        database_url: database_url?,
        cluster: cluster?,
        flood_sleep_max: flood_sleep_max?,
        log_format: log_format?,
        edge: edge?,
        outbox: outbox?,
        events: events?,
        media: media?,
        tls: tls?,
    })
}

/// `default` and the accounts file's names: what a key's `accounts` may list.
fn account_names(extra: &[AccountConfig]) -> Vec<AccountName> {
    std::iter::once(AccountName::default_account())
        .chain(extra.iter().map(|a| a.name.clone()))
        .collect()
}

/// A key in both `MTGATE_API_KEYS` and the keys file would have two scopes.
fn shared_keys(api_keys: &[String], scoped: &[ApiKey]) -> Vec<ConfigError> {
    let env: Vec<ApiKey> = api_keys
        .iter()
        .enumerate()
        .map(|(i, k)| ApiKey::from_env(i, k))
        .collect();
    scoped
        .iter()
        .filter_map(|key| {
            let twin = env.iter().find(|e| e.digest == key.digest)?;
            Some(ConfigError::new(
                keys_file::VAR,
                format!(
                    "[keys.{}] key: is also in MTGATE_API_KEYS (as {}); a key has one scope",
                    key.name, twin.name
                ),
            ))
        })
        .collect()
}

/// Two accounts on one auth key would fight over one Telegram session.
fn shared_sessions(default: &StringSession, extra: &[AccountConfig]) -> Vec<ConfigError> {
    let mut errors = Vec::new();
    for (i, account) in extra.iter().enumerate() {
        let earlier = std::iter::once(("TG_SESSION".to_string(), &default.auth_key)).chain(
            extra[..i]
                .iter()
                .map(|a| (format!("[accounts.{}]", a.name), &a.session.auth_key)),
        );
        if let Some((twin, _)) = earlier
            .into_iter()
            .find(|(_, key)| **key == account.session.auth_key)
        {
            errors.push(ConfigError::new(
                accounts_file::VAR,
                format!(
                    "[accounts.{}] session: is the same session as {twin}; each account needs \
                     its own login",
                    account.name
                ),
            ));
        }
    }
    errors
}

/// `MTGATE_LOG_FORMAT` alone: the log format is needed before the rest is validated
/// (`serve --sandbox` validates the rest once its sandbox is up).
pub fn log_format_from(lookup: impl Fn(&str) -> Option<String>) -> Result<LogFormat, ConfigError> {
    vars::parse_log_format(lookup("MTGATE_LOG_FORMAT").filter(|v| !v.trim().is_empty()))
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
            .field(
                "database_url",
                &self.database_url.as_ref().map(|_| "<redacted>"),
            )
            .field("cluster", &self.cluster)
            .field("flood_sleep_max", &self.flood_sleep_max)
            .field("log_format", &self.log_format)
            .field("edge", &self.edge)
            .field("outbox", &self.outbox)
            .field("events", &self.events)
            .field("webhooks", &self.webhooks)
            .field("media", &self.media)
            .field("tls", &self.tls)
            .field("extra_accounts", &self.extra_accounts)
            .field("scoped_keys", &self.scoped_keys)
            .finish()
    }
}

#[cfg(test)]
mod tests;
