//! `MTGATE_KEYS_FILE`: named API keys, each limited to some accounts, optionally some chats,
//! optionally read-only.
//!
//! ```toml
//! [keys.ci]
//! key = "a-long-random-string"      # or key_sha256 = "<64 hex digits of SHA-256(key)>"
//! accounts = ["default"]            # or ["*"] for every account
//! chats = ["@sandbox_news"]         # optional: absent means every chat
//! read_only = false                 # optional
//! ```
//!
//! Only the key's SHA-256 is kept in memory: requests are checked against digests.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::ConfigError;
use super::toml_file::{Entry, TomlFile};
use super::vars::key_problem;
use crate::domain::account_name::check_name;
use crate::domain::{AccountName, AccountsScope, KeyScope, PeerSpec};

pub const VAR: &str = "MTGATE_KEYS_FILE";

/// An accepted API key: its name (for logs, metrics and idempotency scope), the SHA-256 of
/// the key, and what it may do.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub name: String,
    pub digest: [u8; 32],
    pub scope: KeyScope,
}

impl ApiKey {
    /// Whose space this key's durable records (idempotency) live in. A keys-file key is its
    /// name. A `MTGATE_API_KEYS` key is named by position, which moves when the list is
    /// edited, so its records are filed under a digest prefix instead — kept in the store
    /// only, never in logs or metrics.
    pub fn record_owner(&self) -> String {
        if self.name.starts_with(ENV_PREFIX) {
            let hex: String = self.digest[..8]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            format!("{ENV_PREFIX}sha256-{hex}")
        } else {
            self.name.clone()
        }
    }
}

/// The name prefix of `MTGATE_API_KEYS` keys.
const ENV_PREFIX: &str = "MTGATE_API_KEYS:";

impl ApiKey {
    /// A full-access key from `MTGATE_API_KEYS`, named by its position there
    /// (`MTGATE_API_KEYS:1`, …) — a name no keys-file entry can take.
    pub fn from_env(position: usize, key: &str) -> Self {
        Self {
            name: format!("{ENV_PREFIX}{}", position + 1),
            digest: Sha256::digest(key.as_bytes()).into(),
            scope: KeyScope::full(),
        }
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKey")
            .field("name", &self.name)
            .field("digest", &"<redacted>")
            .field("scope", &self.scope)
            .finish()
    }
}

/// Reads the file at `path`. `accounts` are every configured account name (a key may only
/// name those); every problem found is returned.
pub fn load(path: &Path, accounts: &[AccountName]) -> Result<Vec<ApiKey>, Vec<ConfigError>> {
    let file = TomlFile::read(VAR, path).map_err(|e| vec![e])?;
    parse(&file, accounts)
}

pub fn parse(file: &TomlFile, accounts: &[AccountName]) -> Result<Vec<ApiKey>, Vec<ConfigError>> {
    let mut errors = Vec::new();
    let mut keys: Vec<ApiKey> = Vec::new();
    let mut seen: HashMap<[u8; 32], String> = HashMap::new();
    for entry in file.entries("keys", &mut errors) {
        match key(&entry, accounts) {
            Ok(key) => {
                if let Some(first) = seen.get(&key.digest) {
                    let reason = format!("is the same key as [keys.{first}] (a key has one scope)");
                    errors.push(entry.error(Some("key"), reason));
                } else {
                    seen.insert(key.digest, key.name.clone());
                    keys.push(key);
                }
            }
            Err(mut more) => errors.append(&mut more),
        }
    }
    if errors.is_empty() {
        Ok(keys)
    } else {
        Err(errors)
    }
}

fn key(entry: &Entry<'_>, known: &[AccountName]) -> Result<ApiKey, Vec<ConfigError>> {
    let mut errors = entry.unknown_fields(&["key", "key_sha256", "accounts", "chats", "read_only"]);
    if let Err(why) = check_name(entry.name) {
        errors.push(entry.error(None, why));
    }
    let digest = digest(entry).map_err(|e| errors.push(e)).ok();
    let accounts = accounts(entry, known).map_err(|e| errors.push(e)).ok();
    let chats = match entry.strings("chats") {
        Ok(None) => None,
        Ok(Some(list)) => {
            let mut chats = Vec::new();
            for chat in list {
                match PeerSpec::parse(chat) {
                    Ok(peer) => chats.push(peer),
                    Err(why) => errors.push(entry.error(Some("chats"), why)),
                }
            }
            Some(chats)
        }
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let read_only = entry.bool("read_only").map_err(|e| errors.push(e)).ok();
    match (digest, accounts, read_only, errors.is_empty()) {
        (Some(digest), Some(accounts), Some(read_only), true) => Ok(ApiKey {
            name: entry.name.to_owned(),
            digest,
            scope: KeyScope {
                accounts,
                chats,
                read_only: read_only.unwrap_or(false),
            },
        }),
        _ => Err(errors),
    }
}

fn digest(entry: &Entry<'_>) -> Result<[u8; 32], ConfigError> {
    match (entry.string("key")?, entry.string("key_sha256")?) {
        (Some(key), None) => match key_problem(key) {
            Some(problem) => Err(entry.error(Some("key"), problem)),
            None => Ok(Sha256::digest(key.as_bytes()).into()),
        },
        (None, Some(hex)) => decode_hex(hex.trim())
            .ok_or_else(|| entry.error(Some("key_sha256"), "must be 64 hexadecimal digits")),
        (Some(_), Some(_)) => Err(entry.error(None, "give `key` or `key_sha256`, not both")),
        (None, None) => Err(entry.error(None, "needs `key` or `key_sha256`")),
    }
}

fn accounts(entry: &Entry<'_>, known: &[AccountName]) -> Result<AccountsScope, ConfigError> {
    let list = entry.strings("accounts")?.ok_or_else(|| {
        entry.error(
            Some("accounts"),
            "is required (a list of names, or [\"*\"])",
        )
    })?;
    if list == ["*"] {
        return Ok(AccountsScope::All);
    }
    let mut names = BTreeSet::new();
    for name in list {
        let bad = |why: String| entry.error(Some("accounts"), why);
        if name == "*" {
            return Err(bad("`*` stands alone: [\"*\"] means every account".into()));
        }
        let name = AccountName::parse(name).map_err(bad)?;
        if !known.contains(&name) {
            return Err(bad(format!("no account is named `{name}`")));
        }
        names.insert(name);
    }
    Ok(AccountsScope::Only(names))
}

fn decode_hex(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> Vec<AccountName> {
        vec![
            AccountName::default_account(),
            AccountName::parse("alice").unwrap(),
        ]
    }

    fn parse_text(text: &str) -> Result<Vec<ApiKey>, Vec<String>> {
        let file = TomlFile::parse(VAR, "keys.toml".into(), text).map_err(|e| vec![e.reason])?;
        parse(&file, &known()).map_err(|errors| errors.into_iter().map(|e| e.reason).collect())
    }

    #[test]
    fn keys_are_read_with_their_scopes() {
        let sha: String = Sha256::digest(b"second-secret")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let text = format!(
            "[keys.ci]\nkey = \"first-secret\"\naccounts = [\"alice\"]\nchats = [\"@News\", \"-100123\"]\nread_only = true\n\
             [keys.ops]\nkey_sha256 = \"{}\"\naccounts = [\"*\"]\n",
            sha.to_uppercase()
        );
        let keys = parse_text(&text).unwrap();
        assert_eq!(keys[0].name, "ci");
        assert_eq!(
            keys[0].digest,
            <[u8; 32]>::from(Sha256::digest(b"first-secret"))
        );
        assert_eq!(
            keys[0].scope.accounts,
            AccountsScope::Only([AccountName::parse("alice").unwrap()].into())
        );
        assert_eq!(
            keys[0].scope.chats,
            Some(vec![
                PeerSpec::parse("@news").unwrap(),
                PeerSpec::parse("-100123").unwrap()
            ])
        );
        assert!(keys[0].scope.read_only);
        assert_eq!(keys[1].name, "ops");
        assert_eq!(
            keys[1].digest,
            <[u8; 32]>::from(Sha256::digest(b"second-secret"))
        );
        assert_eq!(keys[1].scope, KeyScope::full());
    }

    #[test]
    fn every_problem_names_the_file_entry_and_field_without_the_key() {
        let text = "[keys.Bad]\nkey = \"has space secret\"\naccounts = [\"default\"]\n\
                    [keys.both]\nkey = \"k1-secret\"\nkey_sha256 = \"00\"\naccounts = [\"*\"]\n\
                    [keys.none]\naccounts = [\"nobody\"]\nread_only = \"yes\"\n\
                    [keys.short]\nkey_sha256 = \"abc\"\n\
                    [keys.mixed]\nkey = \"k2-secret\"\naccounts = [\"*\", \"default\"]\nchats = [\"@@\"]\n";
        let errors = parse_text(text).unwrap_err();
        let has = |needle: &str| errors.iter().any(|e| e.contains(needle));
        assert!(
            has("keys.toml: [keys.Bad]: `Bad` is not a valid name"),
            "{errors:#?}"
        );
        assert!(
            has("keys.toml: [keys.Bad] key: contains a space"),
            "{errors:#?}"
        );
        assert!(
            has("keys.toml: [keys.both]: give `key` or `key_sha256`, not both"),
            "{errors:#?}"
        );
        assert!(
            has("keys.toml: [keys.none]: needs `key` or `key_sha256`"),
            "{errors:#?}"
        );
        assert!(
            has("keys.toml: [keys.none] accounts: no account is named `nobody`"),
            "{errors:#?}"
        );
        assert!(
            has("keys.toml: [keys.none] read_only: must be true or false"),
            "{errors:#?}"
        );
        assert!(
            has("keys.toml: [keys.short] key_sha256: must be 64 hexadecimal digits"),
            "{errors:#?}"
        );
        assert!(
            has("keys.toml: [keys.short] accounts: is required"),
            "{errors:#?}"
        );
        assert!(
            has("keys.toml: [keys.mixed] accounts: `*` stands alone"),
            "{errors:#?}"
        );
        assert!(has("keys.toml: [keys.mixed] chats: "), "{errors:#?}");
        assert!(errors.iter().all(|e| !e.contains("secret")), "{errors:#?}");
    }

    #[test]
    fn the_same_key_under_two_names_is_refused() {
        let text = "[keys.a]\nkey = \"same\"\naccounts = [\"*\"]\n[keys.b]\nkey = \"same\"\naccounts = [\"*\"]\n";
        let errors = parse_text(text).unwrap_err();
        assert_eq!(
            errors,
            ["keys.toml: [keys.b] key: is the same key as [keys.a] (a key has one scope)"]
        );
    }

    #[test]
    fn records_of_env_keys_follow_the_key_not_its_position() {
        let first = ApiKey::from_env(0, "k");
        let moved = ApiKey::from_env(3, "k");
        assert_eq!(first.record_owner(), moved.record_owner());
        assert_ne!(
            first.record_owner(),
            ApiKey::from_env(0, "other").record_owner()
        );
        assert!(first.record_owner().starts_with("MTGATE_API_KEYS:sha256-"));
        let file_key = ApiKey {
            name: "ci".into(),
            ..first
        };
        assert_eq!(file_key.record_owner(), "ci");
    }

    #[test]
    fn env_keys_are_named_by_position_with_full_access() {
        let key = ApiKey::from_env(1, "k");
        assert_eq!(key.name, "MTGATE_API_KEYS:2");
        assert_eq!(key.scope, KeyScope::full());
        assert!(!format!("{key:?}").contains(&format!("{:?}", key.digest)));
    }
}
