//! Configuration from the environment (`.env` read with dotenvy; the real environment wins),
//! validated once at startup into [`Config`]. Loading is filled in by the runtime work.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::session_string::StringSession;

/// Everything `mtgate serve` needs, already validated.
///
/// `Debug` must never print secrets: implement it by hand when filling this in.
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
    /// `MTGATE_DEFAULT_PEER`, kept as written; parsed by the domain layer.
    pub default_peer: Option<String>,
    /// `MTGATE_STATE_DIR`.
    pub state_dir: PathBuf,
    /// `MTGATE_FLOOD_SLEEP_MAX`.
    pub flood_sleep_max: Duration,
    /// `MTGATE_LOG_FORMAT`.
    pub log_format: LogFormat,
}

/// `MTGATE_LOG_FORMAT`: bunyan JSON (default) or human-readable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}
