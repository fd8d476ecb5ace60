//! `MTGATE_WEBHOOKS_FILE`: webhooks kept in sync with the file at every start (added,
//! changed, or removed when no longer listed; those made through the API are left alone).
//!
//! ```toml
//! [webhooks.crm]
//! url = "https://crm.internal/telegram"        # required: http:// or https://
//! secret = "whsec_…"                           # required: base64 of at least 16 bytes
//! account = "default"                          # optional (default `default`)
//! events = ["message.new", "message.edited"]   # optional (default: all)
//! chats = ["-1001234567890", "42"]             # optional Bot-API ids (default: all)
//! ```

use std::path::Path;

use super::ConfigError;
use super::toml_file::{Entry, TomlFile};
use crate::domain::{AccountName, EventType, PeerSpec};
use crate::events::webhooks::signature::valid_secret;
use crate::events::webhooks::target::check_url;

pub const VAR: &str = "MTGATE_WEBHOOKS_FILE";

/// One configured webhook (`id` is `cfg_<name>`).
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookConfig {
    pub name: String,
    pub account: String,
    pub url: String,
    /// Secret: never printed.
    pub secret: String,
    pub events: Vec<String>,
    pub chats: Vec<i64>,
}

impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("name", &self.name)
            .field("account", &self.account)
            .field("events", &self.events)
            .field("chats", &self.chats)
            .finish_non_exhaustive()
    }
}

pub fn load(path: &Path) -> Result<Vec<WebhookConfig>, Vec<ConfigError>> {
    let file = TomlFile::read(VAR, path).map_err(|e| vec![e])?;
    let mut errors = Vec::new();
    let mut hooks = Vec::new();
    for entry in file.entries("webhooks", &mut errors) {
        match webhook(&entry) {
            Ok(hook) => hooks.push(hook),
            Err(mut more) => errors.append(&mut more),
        }
    }
    if errors.is_empty() {
        Ok(hooks)
    } else {
        Err(errors)
    }
}

fn webhook(entry: &Entry<'_>) -> Result<WebhookConfig, Vec<ConfigError>> {
    let mut errors = entry.unknown_fields(&["url", "secret", "account", "events", "chats"]);
    let name_ok = (1..=32).contains(&entry.name.len())
        && entry
            .name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if !name_ok {
        errors.push(entry.error(None, "webhook names are 1-32 of a-z, 0-9, _ and -"));
    }
    let mut required = |field: &str| match entry.string(field) {
        Ok(Some(v)) => Some(v.trim().to_string()),
        Ok(None) => {
            errors.push(entry.error(Some(field), "is required but not set"));
            None
        }
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let url = required("url");
    let secret = required("secret");
    if let Some(Err(why)) = url.as_deref().map(check_url) {
        errors.push(entry.error(Some("url"), &why));
    }
    if let Some(secret) = &secret
        && !valid_secret(secret)
    {
        errors.push(entry.error(
            Some("secret"),
            "must be whsec_ + base64 of at least 16 bytes",
        ));
    }
    let account = match entry.string("account") {
        Ok(value) => value.unwrap_or("default").to_string(),
        Err(e) => {
            errors.push(e);
            String::new()
        }
    };
    if AccountName::parse(&account).is_err() {
        errors.push(entry.error(Some("account"), "is not a valid account name"));
    }
    let list = |field: &str, errors: &mut Vec<ConfigError>| match entry.strings(field) {
        Ok(v) => v
            .unwrap_or_default()
            .into_iter()
            .map(str::to_string)
            .collect(),
        Err(e) => {
            errors.push(e);
            Vec::new()
        }
    };
    let events: Vec<String> = list("events", &mut errors);
    for name in &events {
        if EventType::parse(name).is_none() {
            errors.push(entry.error(Some("events"), format_args!("unknown event type `{name}`")));
        }
    }
    let mut chats = Vec::new();
    for chat in list("chats", &mut errors) {
        match PeerSpec::parse(&chat) {
            Ok(PeerSpec::Id(id)) => chats.push(id.value()),
            _ => errors.push(entry.error(Some("chats"), "must be Bot-API chat ids")),
        }
    }
    match (url, secret, errors.is_empty()) {
        (Some(url), Some(secret), true) => Ok(WebhookConfig {
            name: entry.name.to_string(),
            account,
            url,
            secret,
            events,
            chats,
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> Result<Vec<WebhookConfig>, Vec<ConfigError>> {
        let dir = std::env::temp_dir().join(format!("mtgate-wh-{:016x}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("webhooks.toml");
        std::fs::write(&path, text).unwrap();
        let result = load(&path);
        let _ = std::fs::remove_dir_all(&dir);
        result
    }

    #[test]
    fn a_full_entry_loads() {
        let hooks = load_text(
            "[webhooks.crm]\nurl = \"https://h/x\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n\
             account = \"alice\"\nevents = [\"message.new\"]\nchats = [\"-1001234567890\"]\n",
        )
        .unwrap();
        assert_eq!(hooks[0].name, "crm");
        assert_eq!(hooks[0].account, "alice");
        assert_eq!(hooks[0].chats, [-1_001_234_567_890]);
        assert_eq!(hooks[0].url, "https://h/x");
        assert!(
            !format!("{:?}", hooks[0]).contains("whsec"),
            "Debug hides the secret"
        );
    }

    #[test]
    fn every_problem_is_reported_without_the_secret() {
        let errors = load_text(
            "[webhooks.bad]\nurl = \"ftp://h\"\nsecret = \"hunter2\"\nevents = [\"nope\"]\n\
             chats = [\"@name\"]\ncolour = 1\n",
        )
        .unwrap_err();
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(errors.len(), 5, "{text:?}");
        assert!(text.iter().all(|t| !t.contains("hunter2")));
    }
}
