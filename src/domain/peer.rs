//! How callers name a chat, parsed once into a [`PeerSpec`].
//!
//! Accepted forms (CONTRACT.md): `@username`, `username`, `https://t.me/username`,
//! `t.me/username`, a Bot-API-style numeric id (`123` user, `-123` group, `-100123` channel),
//! and `me`. Everything else is rejected here with a message naming the problem, so odd input
//! never reaches Telegram.

use std::fmt;

use super::peer_id::{PeerId, PeerKind};

/// A peer as the caller wrote it, validated but not yet resolved.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PeerSpec {
    /// The logged-in account itself ("Saved Messages").
    Me,
    /// A public username, lower-cased (Telegram usernames are case-insensitive).
    Username(String),
    /// A Bot-API dialog id; its sign and range tell user, group or channel apart.
    Id(PeerId),
}

/// The peer forms as a JSON Schema (ECMA) pattern, for the OpenAPI document. Everything it
/// matches, [`PeerSpec::parse`] accepts, with one exception: `t.me/joinchat` (an invite link
/// without its hash). It is stricter than the parser in places (no surrounding spaces,
/// lower-case link hosts, ids within the ranges of today's ids), never looser.
pub const PEER_PATTERN: &str = concat!(
    "^(?:[mM][eE]|[sS][eE][lL][fF]",
    "|@?[A-Za-z][A-Za-z0-9_]{0,31}",
    "|(?:[hH][tT][tT][pP][sS]?://)?(?:www\\.)?(?:t\\.me|telegram\\.me|telegram\\.dog)/[A-Za-z][A-Za-z0-9_]{4,31}",
    "|[1-9][0-9]{0,11}",
    "|-(?:[1-9][0-9]?|[2-9][0-9]{2}|1[1-9][0-9]|10[1-9]|[1-9][0-9]{3,11})",
    "|-100[1-9][0-9]{9})$"
);

/// Longest username Telegram hands out.
const USERNAME_MAX: usize = 32;

/// Hosts whose links name a peer by username.
const LINK_HOSTS: &[&str] = &["t.me", "telegram.me", "telegram.dog"];

impl PeerSpec {
    /// Parses one of the CONTRACT forms. The error is a sentence for the caller that quotes
    /// exactly what was sent (surrounding spaces aside), so a typo is easy to spot.
    pub fn parse(input: &str) -> Result<Self, String> {
        let raw = input.trim();
        if raw.is_empty() {
            return Err("the peer is empty".into());
        }
        Self::parse_trimmed(raw).map_err(|reason| format!("`{raw}` is not a peer: {reason}"))
    }

    /// [`Self::parse`] on non-empty input; the error is the reason alone.
    fn parse_trimmed(raw: &str) -> Result<Self, String> {
        if raw.eq_ignore_ascii_case("me") || raw.eq_ignore_ascii_case("self") {
            return Ok(Self::Me);
        }
        let first = raw.as_bytes()[0];
        if first == b'-' || first.is_ascii_digit() {
            return parse_id(raw).map(Self::Id);
        }
        if let Some(name) = raw.strip_prefix('@') {
            return parse_username(name).map(Self::Username);
        }
        if let Some(path) = strip_link(raw) {
            return parse_link_path(path);
        }
        parse_username(raw).map(Self::Username)
    }

    /// The id in Bot-API form, when the caller gave one.
    pub fn id(&self) -> Option<PeerId> {
        match self {
            Self::Id(id) => Some(*id),
            _ => None,
        }
    }
}

impl fmt::Display for PeerSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Me => f.write_str("me"),
            Self::Username(name) => write!(f, "@{name}"),
            Self::Id(id) => write!(f, "{}", id.bot_api_dialog_id().unwrap_or_default()),
        }
    }
}

/// A Bot-API dialog id, checked against the ranges grammers accepts (outside them its
/// `PeerId::kind` would panic, so nothing out of range may get through).
fn parse_id(raw: &str) -> Result<PeerId, String> {
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("a numeric id has only digits after an optional `-`".into());
    }
    if raw == "-100" {
        return Err("`-100` is only the channel prefix: write the channel id after it".into());
    }
    let value: i64 = raw
        .parse()
        .map_err(|_| "the number is too large for a Telegram id".to_string())?;
    PeerId::from_bot_api_dialog_id(value).ok_or_else(|| {
        "it is outside Telegram's id ranges (users 1..=1099511627775, groups \
         -1..=-999999999999, channels -100 followed by the id)"
            .to_string()
    })
}

/// The part after `t.me/` (or another link host), or `None` when `raw` is not such a link.
fn strip_link(raw: &str) -> Option<&str> {
    let lower = raw.to_ascii_lowercase();
    let without_scheme = ["https://", "http://"]
        .iter()
        .find_map(|s| lower.strip_prefix(s).map(|_| &raw[s.len()..]))
        .unwrap_or(raw);
    let host_end = without_scheme.find('/')?;
    let host = without_scheme[..host_end].to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    LINK_HOSTS
        .contains(&host)
        .then(|| &without_scheme[host_end + 1..])
}

fn parse_link_path(path: &str) -> Result<PeerSpec, String> {
    // Query strings (`?start=…`) and fragments do not change which peer a link names.
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    let first = segments
        .next()
        .ok_or_else(|| "the t.me link names no peer".to_string())?;
    let name = match first {
        // t.me/s/name is the web preview of a public channel.
        "s" => segments
            .next()
            .ok_or_else(|| "the t.me/s/ link names no channel".to_string())?,
        "c" => {
            return Err(
                "private t.me/c/ links are not supported (use the channel's -100… id)".into(),
            );
        }
        "joinchat" => return Err("invite links are not supported (join the chat first)".into()),
        _ if first.starts_with('+') => {
            return Err("invite links are not supported (join the chat first)".into());
        }
        _ => first,
    };
    parse_username(name).map(PeerSpec::Username)
}

/// Telegram usernames: ASCII letters, digits and `_`, starting with a letter, at most 32 long.
fn parse_username(name: &str) -> Result<String, String> {
    if name.is_empty() {
        return Err("the username is empty".into());
    }
    if name.len() > USERNAME_MAX {
        return Err(format!(
            "the username is longer than {USERNAME_MAX} characters"
        ));
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err("usernames contain only letters, digits and `_`".into());
    }
    if !name.as_bytes()[0].is_ascii_alphabetic() {
        return Err("a username starts with a letter".into());
    }
    Ok(name.to_ascii_lowercase())
}

/// The CONTRACT's peer `type`: basic groups and supergroups are both `group`; only broadcast
/// channels are `channel` (what a user calls them, whatever MTProto's class is).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PeerType {
    User,
    Group,
    Channel,
}

impl PeerType {
    /// The best guess from the id alone: a `-100…` id may be a supergroup, which only the
    /// channel object tells (`megagroup`), so callers prefer what they learned from Telegram.
    pub fn from_id(id: PeerId) -> Self {
        match id.kind() {
            PeerKind::User => Self::User,
            PeerKind::Chat => Self::Group,
            PeerKind::Channel => Self::Channel,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(input: &str) -> PeerSpec {
        PeerSpec::parse(input).unwrap_or_else(|e| panic!("{input:?} should parse: {e}"))
    }

    fn err(input: &str) -> String {
        PeerSpec::parse(input).expect_err(&format!("{input:?} should be rejected"))
    }

    fn username(name: &str) -> PeerSpec {
        PeerSpec::Username(name.into())
    }

    #[test]
    fn every_username_form_of_the_contract_parses_to_the_same_peer() {
        for input in [
            "@Alice_01",
            "alice_01",
            "https://t.me/alice_01",
            "http://t.me/alice_01",
            "t.me/alice_01",
            "T.ME/Alice_01/",
            "https://telegram.me/alice_01",
            "https://t.me/alice_01?start=x",
            "https://t.me/s/alice_01",
            "  @alice_01 ",
        ] {
            assert_eq!(ok(input), username("alice_01"), "{input}");
        }
    }

    #[test]
    fn me_is_the_logged_in_account() {
        assert_eq!(ok("me"), PeerSpec::Me);
        assert_eq!(ok("ME"), PeerSpec::Me);
    }

    #[test]
    fn numeric_ids_keep_their_bot_api_kind() {
        assert_eq!(ok("123").id().unwrap().kind(), PeerKind::User);
        assert_eq!(ok("-123").id().unwrap().kind(), PeerKind::Chat);
        let channel = ok("-1001234567890").id().unwrap();
        assert_eq!(channel.kind(), PeerKind::Channel);
        assert_eq!(channel.bare_id(), Some(1234567890));
        assert_eq!(channel.bot_api_dialog_id(), Some(-1001234567890));
    }

    #[test]
    fn odd_peers_are_rejected_with_a_reason() {
        for input in [
            "",
            "   ",
            "@",
            "-",
            "-100",
            "0",
            "-0",
            "1234567890123456789012345678901234567890",
            "-1234567890123456789012345678901234567890",
            "1099511627776",
            "-1997852516353",
            "12a",
            "--5",
            "+123",
            "héllo",
            "@héllo",
            "😀",
            "@1abc",
            "_abc",
            "t.me/",
            "https://t.me/+AbCdEf",
            "https://t.me/joinchat/AbCdEf",
            "https://t.me/c/123/4",
            "https://t.me/s/",
            "@abcdefghijklmnopqrstuvwxyzabcdefg",
            "a b",
            "a/b",
            "\u{0}",
        ] {
            let message = err(input);
            assert!(!message.is_empty(), "{input:?}");
        }
    }

    #[test]
    fn rejection_messages_name_the_problem() {
        assert!(err("-100").contains("channel prefix"));
        assert!(err("1234567890123456789012345678901234567890").contains("too large"));
        assert!(err("@").contains("empty"));
        assert!(err("héllo").contains("letters, digits"));
    }

    #[test]
    fn rejection_messages_quote_exactly_what_was_sent() {
        assert_eq!(
            err("@@@"),
            "`@@@` is not a peer: usernames contain only letters, digits and `_`"
        );
        for input in [
            "@",
            "-100",
            "12a",
            "1099511627776",
            "_abc",
            "t.me/",
            "https://t.me/c/123/4",
            "@héllo",
            "a b",
        ] {
            let message = err(input);
            assert!(
                message.starts_with(&format!("`{input}` is not a peer: ")),
                "{input:?}: {message}"
            );
        }
        assert_eq!(
            err("  @x y "),
            "`@x y` is not a peer: usernames contain only letters, digits and `_`"
        );
    }

    #[test]
    fn peer_type_follows_the_id_range() {
        assert_eq!(PeerType::from_id(ok("5").id().unwrap()), PeerType::User);
        assert_eq!(PeerType::from_id(ok("-5").id().unwrap()), PeerType::Group);
        assert_eq!(
            PeerType::from_id(ok("-1000000000005").id().unwrap()),
            PeerType::Channel
        );
    }

    #[test]
    fn display_writes_a_form_that_parses_back() {
        for input in ["me", "@bob_the_user", "-1000000000005", "-7", "42"] {
            let spec = ok(input);
            assert_eq!(ok(&spec.to_string()), spec);
        }
    }
}
