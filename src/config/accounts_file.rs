//! `MTGATE_ACCOUNTS_FILE`: extra accounts by name, next to the `default` one of `TG_SESSION`.
//!
//! ```toml
//! [accounts.alice]
//! session = "1…"                  # required: Telethon or Pyrogram string session
//! dc_addr = "149.154.167.50:443"  # optional: like TG_DC_ADDR, for this account
//! default_peer = "@alice_news"    # optional: like MTGATE_DEFAULT_PEER, for this account
//! ```

use std::path::Path;

use mtgate_session::StringSession;

use super::ConfigError;
use super::toml_file::{Entry, TomlFile};
use super::vars::dc_addr;
use crate::domain::{AccountName, PeerSpec};

pub const VAR: &str = "MTGATE_ACCOUNTS_FILE";

/// One account: a name, its session, and the peer its requests default to.
#[derive(Clone, PartialEq, Eq)]
pub struct AccountConfig {
    pub name: AccountName,
    /// The session with `dc_addr` applied (secret).
    pub session: StringSession,
    pub default_peer: Option<PeerSpec>,
}

impl std::fmt::Debug for AccountConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountConfig")
            .field("name", &self.name)
            .field("session", &self.session)
            .field("default_peer", &self.default_peer)
            .finish()
    }
}

/// Reads the file at `path`; every problem found is returned, not just the first.
pub fn load(path: &Path) -> Result<Vec<AccountConfig>, Vec<ConfigError>> {
    let file = TomlFile::read(VAR, path).map_err(|e| vec![e])?;
    parse(&file)
}

/// The accounts of a parsed file.
pub fn parse(file: &TomlFile) -> Result<Vec<AccountConfig>, Vec<ConfigError>> {
    let mut errors = Vec::new();
    let mut accounts = Vec::new();
    for entry in file.entries("accounts", &mut errors) {
        match account(&entry) {
            Ok(account) => accounts.push(account),
            Err(mut more) => errors.append(&mut more),
        }
    }
    if errors.is_empty() {
        Ok(accounts)
    } else {
        Err(errors)
    }
}

fn account(entry: &Entry<'_>) -> Result<AccountConfig, Vec<ConfigError>> {
    let mut errors = entry.unknown_fields(&["session", "dc_addr", "default_peer"]);
    let name = match AccountName::parse(entry.name) {
        Ok(name) if name.is_default() => {
            errors.push(entry.error(
                None,
                "`default` is the account of TG_SESSION; pick another name",
            ));
            None
        }
        Ok(name) => Some(name),
        Err(why) => {
            errors.push(entry.error(None, why));
            None
        }
    };
    let addr = match entry.string("dc_addr") {
        Ok(value) => value
            .map(|v| dc_addr(v).map_err(|why| entry.error(Some("dc_addr"), why)))
            .transpose()
            .unwrap_or_else(|e| {
                errors.push(e);
                None
            }),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let session = match entry.string("session") {
        Ok(Some(value)) => StringSession::parse(value.trim(), addr)
            .map_err(|e| errors.push(entry.error(Some("session"), e)))
            .ok(),
        Ok(None) => {
            errors.push(entry.error(Some("session"), "is required but not set"));
            None
        }
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let default_peer = match entry.string("default_peer") {
        Ok(value) => value
            .map(|v| PeerSpec::parse(v).map_err(|why| entry.error(Some("default_peer"), why)))
            .transpose()
            .unwrap_or_else(|e| {
                errors.push(e);
                None
            }),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    match (name, session, errors.is_empty()) {
        (Some(name), Some(session), true) => Ok(AccountConfig {
            name,
            session,
            default_peer,
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mtgate_session::{AUTH_KEY_LEN, SessionFormat};

    fn session(byte: u8) -> String {
        StringSession {
            dc_id: 2,
            addr: "127.0.0.1:4567".parse().unwrap(),
            auth_key: [byte; AUTH_KEY_LEN],
            format: SessionFormat::Telethon,
        }
        .to_telethon_string()
    }

    fn parse_text(text: &str) -> Result<Vec<AccountConfig>, Vec<String>> {
        let file =
            TomlFile::parse(VAR, "accounts.toml".into(), text).map_err(|e| vec![e.reason])?;
        parse(&file).map_err(|errors| {
            errors
                .into_iter()
                .inspect(|e| assert_eq!(e.var, VAR))
                .map(|e| e.reason)
                .collect()
        })
    }

    #[test]
    fn accounts_are_read_with_their_optional_fields() {
        let text = format!(
            "[accounts.alice]\nsession = \"{}\"\ndc_addr = \"127.0.0.1:9\"\ndefault_peer = \"@News\"\n\
             [accounts.bob]\nsession = \"{}\"\n",
            session(1),
            session(2)
        );
        let accounts = parse_text(&text).unwrap();
        assert_eq!(accounts.len(), 2);
        assert_eq!(accounts[0].name.as_str(), "alice");
        assert_eq!(accounts[0].session.addr, "127.0.0.1:9".parse().unwrap());
        assert_eq!(
            accounts[0].default_peer,
            Some(PeerSpec::Username("news".into()))
        );
        assert_eq!(accounts[1].name.as_str(), "bob");
        assert_eq!(accounts[1].session.auth_key, [2; AUTH_KEY_LEN]);
        assert_eq!(accounts[1].default_peer, None);
    }

    #[test]
    fn an_empty_file_has_no_accounts() {
        assert_eq!(parse_text("").unwrap(), Vec::new());
    }

    #[test]
    fn every_problem_names_the_file_entry_and_field_without_the_session() {
        let text = "[accounts.Alice]\nsession = \"1not-a-real-session-secret\"\n\
                    [accounts.bob]\ndc_addr = \"nowhere\"\ncolour = \"red\"\n\
                    [accounts.default]\nsession = \"x\"\n\
                    [accounts.carol]\nsession = 5\ndefault_peer = \"@@\"\n";
        let errors = parse_text(text).unwrap_err();
        let has = |needle: &str| errors.iter().any(|e| e.contains(needle));
        assert!(
            has("accounts.toml: [accounts.Alice]: `Alice` is not a valid name"),
            "{errors:#?}"
        );
        assert!(
            has("accounts.toml: [accounts.Alice] session: "),
            "{errors:#?}"
        );
        assert!(
            has("accounts.toml: [accounts.bob] dc_addr: must be HOST:PORT"),
            "{errors:#?}"
        );
        assert!(
            has("accounts.toml: [accounts.bob] session: is required but not set"),
            "{errors:#?}"
        );
        assert!(
            has("accounts.toml: [accounts.bob] colour: unknown field"),
            "{errors:#?}"
        );
        assert!(
            has("accounts.toml: [accounts.default]: `default` is the account of TG_SESSION"),
            "{errors:#?}"
        );
        assert!(
            has("accounts.toml: [accounts.carol] session: must be a string"),
            "{errors:#?}"
        );
        assert!(
            has("accounts.toml: [accounts.carol] default_peer: "),
            "{errors:#?}"
        );
        assert!(
            errors.iter().all(|e| !e.contains("real-session-secret")),
            "{errors:#?}"
        );
    }
}
