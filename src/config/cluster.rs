//! `MTGATE_REPLICA_ID`, `MTGATE_REPLICA_ADDRESS` and `MTGATE_LEASE_TTL`: how this process
//! takes part in a cluster of replicas (only when `MTGATE_DATABASE_URL` is set).

use std::time::Duration;

use super::ConfigError;
use super::edge::parse_duration;

/// `MTGATE_LEASE_TTL` when unset: a dead replica's accounts move within about this long.
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(15);

/// Shortest and longest lease: renewals run every third of it, so too short floods the
/// database and too long leaves accounts dead for long after a crash.
const LEASE_TTL_RANGE: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(600));

/// How this replica identifies and advertises itself to the others.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterConfig {
    /// `MTGATE_REPLICA_ID`: unique per replica; default: host name plus a random suffix.
    pub replica_id: String,
    /// `MTGATE_REPLICA_ADDRESS`: the base URL other replicas forward requests to, `http://`
    /// or `https://` (a TLS front such as a sidecar proxy); default `http://` + the listen
    /// address (which must then not be a wildcard address).
    pub address: Option<String>,
    /// `MTGATE_LEASE_TTL`.
    pub lease_ttl: Duration,
}

impl ClusterConfig {
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let replica_id = match get("MTGATE_REPLICA_ID").map(|v| v.trim().to_string()) {
            None => default_replica_id(),
            Some(id) if valid_id(&id) => id,
            Some(_) => {
                errors.push(ConfigError::new(
                    "MTGATE_REPLICA_ID",
                    "must be 1 to 64 letters, digits, `.`, `_` or `-`",
                ));
                String::new()
            }
        };
        let address = match get("MTGATE_REPLICA_ADDRESS")
            .map(|v| v.trim().trim_end_matches('/').to_string())
        {
            None => None,
            Some(url) if valid_base_url(&url) => Some(url),
            Some(_) => {
                errors.push(ConfigError::new(
                    "MTGATE_REPLICA_ADDRESS",
                    "must be an http:// or https:// base URL other replicas can reach, e.g. http://10.0.0.5:8000",
                ));
                None
            }
        };
        let lease_ttl = match get("MTGATE_LEASE_TTL") {
            None => DEFAULT_LEASE_TTL,
            Some(raw) => match parse_duration("MTGATE_LEASE_TTL", &raw) {
                Ok(ttl) if (LEASE_TTL_RANGE.0..=LEASE_TTL_RANGE.1).contains(&ttl) => ttl,
                _ => {
                    errors.push(ConfigError::new(
                        "MTGATE_LEASE_TTL",
                        "must be a duration between 1s and 10m, e.g. 15s",
                    ));
                    DEFAULT_LEASE_TTL
                }
            },
        };
        if errors.is_empty() {
            Ok(Self {
                replica_id,
                address,
                lease_ttl,
            })
        } else {
            Err(errors)
        }
    }
}

fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

fn valid_base_url(url: &str) -> bool {
    url.strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .is_some_and(|rest| !rest.is_empty() && !rest.contains(['/', '?', '#', ' ', '@']))
}

/// The host name (from the environment or the kernel) and a random suffix, so two replicas
/// on one host, or a restarted one, never share an id.
fn default_replica_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| {
            h.trim()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .take(40)
                .collect::<String>()
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "mtgate".into());
    format!("{host}-{:06x}", rand::random::<u32>() & 0xff_ffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(pairs: &[(&str, &str)]) -> Result<ClusterConfig, Vec<ConfigError>> {
        ClusterConfig::from_lookup(&|name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn defaults_give_a_unique_id_and_a_fifteen_second_lease() {
        let a = load(&[]).unwrap();
        let b = load(&[]).unwrap();
        assert_ne!(a.replica_id, b.replica_id);
        assert!(valid_id(&a.replica_id), "{}", a.replica_id);
        assert_eq!(a.lease_ttl, Duration::from_secs(15));
        assert_eq!(a.address, None);
    }

    #[test]
    fn given_values_are_validated_and_kept() {
        let config = load(&[
            ("MTGATE_REPLICA_ID", "node-a"),
            ("MTGATE_REPLICA_ADDRESS", "http://10.0.0.5:8000/"),
            ("MTGATE_LEASE_TTL", "5s"),
        ])
        .unwrap();
        assert_eq!(config.replica_id, "node-a");
        assert_eq!(config.address.as_deref(), Some("http://10.0.0.5:8000"));
        assert_eq!(config.lease_ttl, Duration::from_secs(5));
        let tls = load(&[("MTGATE_REPLICA_ADDRESS", "https://mtgate-a.internal:8443")]).unwrap();
        assert_eq!(
            tls.address.as_deref(),
            Some("https://mtgate-a.internal:8443")
        );
    }

    #[test]
    fn bad_values_are_each_named() {
        let errors = load(&[
            ("MTGATE_REPLICA_ID", "has space"),
            ("MTGATE_REPLICA_ADDRESS", "https://x/y"),
            ("MTGATE_LEASE_TTL", "500ms"),
        ])
        .unwrap_err();
        let named: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        for var in [
            "MTGATE_REPLICA_ID",
            "MTGATE_REPLICA_ADDRESS",
            "MTGATE_LEASE_TTL",
        ] {
            assert!(named.iter().any(|e| e.contains(var)), "{var}: {named:?}");
        }
    }
}
