//! Unit tests of the environment rules as a whole.
use std::collections::HashMap;

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

fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigErrors> {
    let map = vars(pairs);
    Config::from_lookup(|name| map.get(name).cloned())
}

fn failing_var(pairs: &[(&str, &str)]) -> String {
    let errors = load(pairs).expect_err("config should be rejected");
    assert_eq!(errors.0.len(), 1, "one error expected: {errors}");
    errors.0[0].var.clone()
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
        let errors = Config::from_lookup(|name| map.get(name).cloned()).unwrap_err();
        assert_eq!(errors.vars(), [var]);
        assert!(errors.0[0].reason.starts_with("is required but not set"));
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
    let error = load(&[("TG_API_HASH", "not-a-hash-secret")])
        .unwrap_err()
        .0
        .remove(0);
    assert_eq!(error.var, "TG_API_HASH");
    assert!(!error.to_string().contains("not-a-hash-secret"));
}

#[test]
fn a_malformed_session_names_the_variable_without_echoing_it() {
    let error = load(&[("TG_SESSION", "1garbage-session-value")])
        .unwrap_err()
        .0
        .remove(0);
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
fn a_database_url_must_be_postgres_and_is_never_printed() {
    assert_eq!(load(&[]).unwrap().database_url, None);
    let url = "postgres://mtgate:hunter2@db:5432/mtgate";
    let config = load(&[("MTGATE_DATABASE_URL", url)]).unwrap();
    assert_eq!(config.database_url.as_deref(), Some(url));
    assert!(!format!("{config:?}").contains("hunter2"));
    let err = load(&[("MTGATE_DATABASE_URL", "mysql://root:hunter2@db/x")])
        .expect_err("a MySQL URL is refused")
        .to_string();
    assert!(err.contains("MTGATE_DATABASE_URL"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
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
fn every_problem_is_reported_at_once_one_line_each_in_reading_order() {
    let empty: HashMap<String, String> = [
        ("MTGATE_LISTEN", "8000"),
        ("MTGATE_FLOOD_SLEEP_MAX", "ten"),
        ("MTGATE_LOG_FORMAT", "xml"),
        ("MTGATE_DEFAULT_PEER", "@"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let errors = Config::from_lookup(|name| empty.get(name).cloned()).unwrap_err();
    assert_eq!(
        errors.vars(),
        [
            "TG_API_ID",
            "TG_API_HASH",
            "TG_SESSION",
            "MTGATE_DEFAULT_PEER",
            "MTGATE_LISTEN",
            "MTGATE_FLOOD_SLEEP_MAX",
            "MTGATE_LOG_FORMAT",
            "MTGATE_API_KEYS",
        ]
    );
    let text = errors.to_string();
    assert_eq!(text.lines().count(), 8, "{text}");
    assert!(text.lines().all(|l| l.contains(": ")), "{text}");
}

/// A file in a fresh temp dir, removed with it.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, text: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "mtgate-config-{}-{:x}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        Self(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(self.0.parent().unwrap());
    }
}

fn other_session() -> String {
    StringSession {
        auth_key: [9; AUTH_KEY_LEN],
        ..session()
    }
    .to_telethon_string()
}

#[test]
fn accounts_and_keys_files_are_read_into_the_config() {
    let accounts = TempFile::new(
        "accounts.toml",
        &format!(
            "[accounts.alice]\nsession = \"{}\"\ndefault_peer = \"@bob\"\n",
            other_session()
        ),
    );
    let keys = TempFile::new(
        "keys.toml",
        "[keys.alice-only]\nkey = \"alice-key\"\naccounts = [\"alice\"]\nread_only = true\n",
    );
    let config = load(&[
        ("MTGATE_ACCOUNTS_FILE", accounts.path()),
        ("MTGATE_KEYS_FILE", keys.path()),
    ])
    .unwrap();
    let names: Vec<String> = config
        .accounts()
        .iter()
        .map(|a| a.name.to_string())
        .collect();
    assert_eq!(names, ["default", "alice"]);
    assert_eq!(config.accounts()[0].session, session());
    assert_eq!(config.accounts()[1].session.auth_key, [9; AUTH_KEY_LEN]);
    let keys = config.keys();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0].name, "MTGATE_API_KEYS:1");
    assert!(!keys[0].scope.read_only);
    assert_eq!(keys[1].name, "alice-only");
    assert!(keys[1].scope.read_only);
    let debug = format!("{config:?}");
    assert!(!debug.contains("alice-key") && !debug.contains(&other_session()[1..30]));
}

#[test]
fn a_keys_file_makes_mtgate_api_keys_optional_but_some_key_is_needed() {
    let keys = TempFile::new("keys.toml", "[keys.ci]\nkey = \"k\"\naccounts = [\"*\"]\n");
    let mut map = vars(&[("MTGATE_KEYS_FILE", keys.path())]);
    map.remove("MTGATE_API_KEYS");
    let config = Config::from_lookup(|name| map.get(name).cloned()).unwrap();
    assert!(config.api_keys.is_empty());
    assert_eq!(config.keys().len(), 1);

    let empty = TempFile::new("keys.toml", "");
    map.insert("MTGATE_KEYS_FILE".into(), empty.path().into());
    let errors = Config::from_lookup(|name| map.get(name).cloned()).unwrap_err();
    assert_eq!(errors.vars(), ["MTGATE_API_KEYS"]);
}

#[test]
fn file_errors_come_with_the_environment_errors_naming_file_entry_and_field() {
    let accounts = TempFile::new(
        "accounts.toml",
        "[accounts.alice]\ndc_addr = \"nowhere\"\n[accounts.bob]\nsession = \"1secret-junk\"\n",
    );
    let keys = TempFile::new(
        "keys.toml",
        "[keys.ci]\nkey = \"key-one\"\naccounts = [\"carol\"]\n",
    );
    let errors = load(&[
        ("TG_API_ID", "zero"),
        ("MTGATE_ACCOUNTS_FILE", accounts.path()),
        ("MTGATE_KEYS_FILE", keys.path()),
    ])
    .unwrap_err();
    let text = errors.to_string();
    let label = |file: &TempFile, rest: &str| format!("{}: {rest}", file.path());
    for expected in [
        "TG_API_ID: must be a positive integer".to_string(),
        format!(
            "MTGATE_ACCOUNTS_FILE: {}",
            label(&accounts, "[accounts.alice] dc_addr: must be HOST:PORT")
        ),
        format!(
            "MTGATE_ACCOUNTS_FILE: {}",
            label(
                &accounts,
                "[accounts.alice] session: is required but not set"
            )
        ),
        format!(
            "MTGATE_ACCOUNTS_FILE: {}",
            label(&accounts, "[accounts.bob] session: ")
        ),
        format!(
            "MTGATE_KEYS_FILE: {}",
            label(&keys, "[keys.ci] accounts: no account is named `carol`")
        ),
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(&expected)),
            "missing `{expected}` in:\n{text}"
        );
    }
    assert!(
        !text.contains("secret-junk") && !text.contains("key-one"),
        "{text}"
    );
}

#[test]
fn a_key_in_both_places_and_a_session_used_twice_are_refused() {
    let accounts = TempFile::new(
        "accounts.toml",
        &format!(
            "[accounts.alice]\nsession = \"{}\"\n",
            session().to_telethon_string()
        ),
    );
    let keys = TempFile::new(
        "keys.toml",
        "[keys.ci]\nkey = \"key-one\"\naccounts = [\"*\"]\n",
    );
    let errors = load(&[
        ("MTGATE_ACCOUNTS_FILE", accounts.path()),
        ("MTGATE_KEYS_FILE", keys.path()),
    ])
    .unwrap_err();
    let text = errors.to_string();
    assert!(
        text.contains(
            "MTGATE_KEYS_FILE: [keys.ci] key: is also in MTGATE_API_KEYS (as MTGATE_API_KEYS:1)"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "MTGATE_ACCOUNTS_FILE: [accounts.alice] session: is the same session as TG_SESSION"
        ),
        "{text}"
    );
}

#[test]
fn an_unreadable_file_is_named() {
    let errors =
        load(&[("MTGATE_ACCOUNTS_FILE", "/nonexistent/mtgate/accounts.toml")]).unwrap_err();
    assert_eq!(errors.vars(), ["MTGATE_ACCOUNTS_FILE"]);
    assert!(
        errors.0[0]
            .reason
            .starts_with("cannot read /nonexistent/mtgate/accounts.toml")
    );
}

#[test]
fn a_bad_tls_ca_file_stops_startup_naming_the_variable() {
    let missing = std::env::temp_dir().join("mtgate-no-such-dir/ca.pem");
    let missing = missing.display().to_string();
    assert_eq!(
        failing_var(&[("MTGATE_TLS_CA_FILE", &missing)]),
        "MTGATE_TLS_CA_FILE"
    );
    assert!(load(&[]).unwrap().tls.extra_roots.is_empty());
}
