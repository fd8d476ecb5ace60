//! One parser per environment variable. Each returns the typed value or an error naming the
//! variable and saying what is wrong, never echoing a secret.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use mtgate_session::StringSession;

use super::{ConfigError, LogFormat};
use crate::domain::peer::PeerSpec;

/// `MTGATE_FLOOD_SLEEP_MAX` when unset, in seconds.
pub const DEFAULT_FLOOD_SLEEP_MAX_SECS: u64 = 10;
/// Upper bound for `MTGATE_FLOOD_SLEEP_MAX`: sleeping longer inside a request helps nobody.
pub const MAX_FLOOD_SLEEP_MAX_SECS: u64 = 3600;

pub fn missing(var: &str) -> ConfigError {
    ConfigError::new(var, "is required but not set")
}

pub fn parse_listen(value: &str) -> Result<SocketAddr, ConfigError> {
    value.trim().parse::<SocketAddr>().map_err(|_| {
        ConfigError::new(
            "MTGATE_LISTEN",
            "must be an IP address and port, e.g. 127.0.0.1:8000 or 0.0.0.0:8000",
        )
    })
}

pub fn parse_default_peer(value: Option<String>) -> Result<Option<PeerSpec>, ConfigError> {
    value
        .map(|v| PeerSpec::parse(&v).map_err(|why| ConfigError::new("MTGATE_DEFAULT_PEER", why)))
        .transpose()
}

pub fn parse_api_id(value: Option<String>) -> Result<i32, ConfigError> {
    let value = value.ok_or_else(|| missing("TG_API_ID"))?;
    match value.trim().parse::<i32>() {
        Ok(id) if id > 0 => Ok(id),
        _ => Err(ConfigError::new(
            "TG_API_ID",
            "must be a positive integer (the api_id from https://my.telegram.org)",
        )),
    }
}

pub fn parse_api_hash(value: Option<String>) -> Result<String, ConfigError> {
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

/// `host:port`; a host name is resolved once, at startup. The error is a bare sentence: the
/// caller says where the value came from (`TG_DC_ADDR` or an accounts file entry).
pub fn dc_addr(value: &str) -> Result<SocketAddr, String> {
    let value = value.trim();
    if let Ok(addr) = value.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let usage = || "must be HOST:PORT, e.g. 149.154.167.40:443".to_string();
    let (host, port) = value.rsplit_once(':').ok_or_else(usage)?;
    if host.is_empty() || port.parse::<u16>().is_err() {
        return Err(usage());
    }
    value
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve the host: {e}"))?
        .next()
        .ok_or_else(|| "the host resolves to no address".into())
}

pub fn parse_dc_addr(value: &str) -> Result<SocketAddr, ConfigError> {
    dc_addr(value).map_err(|why| ConfigError::new("TG_DC_ADDR", why))
}

pub fn parse_session(
    value: Option<String>,
    dc_addr: Option<SocketAddr>,
) -> Result<StringSession, ConfigError> {
    let value = value.ok_or_else(|| missing("TG_SESSION"))?;
    StringSession::parse(&value, dc_addr).map_err(|e| ConfigError::new("TG_SESSION", e.to_string()))
}

/// Why an API key cannot be used, or `None` when it can. Keys travel in HTTP headers.
pub fn key_problem(key: &str) -> Option<&'static str> {
    if key.is_empty() {
        Some("is empty")
    } else if !key.bytes().all(|b| b.is_ascii_graphic()) {
        Some(
            "contains a space or a non-ASCII/control character; keys are sent in HTTP headers, \
             so use printable ASCII only",
        )
    } else {
        None
    }
}

/// `MTGATE_API_KEYS`; `required` is false when a keys file provides keys of its own.
pub fn parse_api_keys(value: Option<String>, required: bool) -> Result<Vec<String>, ConfigError> {
    let Some(value) = value else {
        return if required {
            Err(ConfigError::new(
                "MTGATE_API_KEYS",
                "is required but not set (or give keys in MTGATE_KEYS_FILE)",
            ))
        } else {
            Ok(Vec::new())
        };
    };
    let keys: Vec<String> = value
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .collect();
    if keys.is_empty() && required {
        return Err(ConfigError::new(
            "MTGATE_API_KEYS",
            "must list at least one key (comma-separated)",
        ));
    }
    for (position, key) in keys.iter().enumerate() {
        if let Some(problem) = key_problem(key) {
            return Err(ConfigError::new(
                "MTGATE_API_KEYS",
                format!("key #{} {problem}", position + 1),
            ));
        }
    }
    Ok(keys)
}

pub fn parse_flood_sleep_max(value: Option<String>) -> Result<Duration, ConfigError> {
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

/// `MTGATE_DATABASE_URL`: unset keeps the embedded SQLite store; otherwise a PostgreSQL URL.
/// The value is never quoted back (it may hold a password).
pub fn parse_database_url(value: Option<String>) -> Result<Option<String>, ConfigError> {
    let Some(url) = value.map(|v| v.trim().to_string()) else {
        return Ok(None);
    };
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Some(url))
    } else {
        Err(ConfigError::new(
            "MTGATE_DATABASE_URL",
            "must be a PostgreSQL URL (postgres://user:password@host:port/database); unset it to use the embedded SQLite store",
        ))
    }
}

pub fn parse_log_format(value: Option<String>) -> Result<LogFormat, ConfigError> {
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
