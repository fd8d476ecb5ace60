//! String sessions: the one secret that carries an account from the session generator to
//! the service.
//!
//! Two formats are read, one is written:
//! - **Telethon `StringSession`** (read and written): `'1'` + urlsafe base64 of
//!   `dc_id: u8 | ip: 4 or 16 bytes | port: u16 BE | auth_key: 256 bytes`.
//! - **Pyrogram** (read only): urlsafe base64, no padding, of
//!   `dc_id: u8 | api_id: u32 | test_mode: bool | auth_key | user_id: u64 | is_bot: bool`
//!   (and its two older layouts). It carries no address, so the DC's known address is used
//!   unless the caller gives one (`TG_DC_ADDR`).
//!
//! [`StringSession::to_session_data`] gives a session of a real Telegram DC Telegram's DC
//! table (so `*_MIGRATE` and other-DC calls reach the right servers), and *pins* every other
//! session — loopback, a sandbox, anything outside Telegram's networks — by pointing every DC
//! at its one address, so it can never wander off to Telegram (see [`dcs`]).

pub mod dcs;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use base64::Engine;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use grammers_session::SessionData;

/// Length of an MTProto permanent authorization key.
pub const AUTH_KEY_LEN: usize = 256;

/// A parsed string session: where the home DC is and the key to talk to it with.
///
/// `Debug` is written by hand so the key never reaches a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct StringSession {
    pub dc_id: i32,
    pub addr: SocketAddr,
    pub auth_key: [u8; AUTH_KEY_LEN],
    pub format: SessionFormat,
}

/// Which tool wrote the string; kept for status and error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionFormat {
    Telethon,
    Pyrogram { test_mode: bool },
}

/// Why a string is not a session. Messages never echo the string itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionStringError {
    #[error("the session string is empty")]
    Empty,
    #[error("the session string is not urlsafe base64 (Telethon `1…` or Pyrogram format)")]
    NotBase64,
    #[error(
        "the session string decodes to {0} bytes, which is neither a Telethon StringSession \
         (263 or 275) nor a Pyrogram session string (263, 267 or 271)"
    )]
    UnknownLayout(usize),
    #[error("the session string names DC {0}, but DC ids go from 1 to 5")]
    BadDcId(i32),
    #[error("the session string's address has port 0")]
    BadPort,
    /// Right length for Pyrogram, wrong content: most often a Telethon string whose leading
    /// `1` was lost in copying, which would otherwise be sent to Telegram's real DCs.
    #[error(
        "the session string has the length of a Pyrogram session string but is not one \
         ({0}); a Telethon StringSession starts with `1`"
    )]
    NotPyrogram(&'static str),
}

impl fmt::Debug for StringSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StringSession")
            .field("dc_id", &self.dc_id)
            .field("addr", &self.addr)
            .field("auth_key", &"<redacted>")
            .field("format", &self.format)
            .finish()
    }
}

impl StringSession {
    /// Parses a Telethon or Pyrogram string. `dc_addr` overrides the address of the home DC
    /// (required in practice for Pyrogram strings of test servers).
    pub fn parse(input: &str, dc_addr: Option<SocketAddr>) -> Result<Self, SessionStringError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(SessionStringError::Empty);
        }
        let telethon = input.strip_prefix('1').and_then(decode_base64);
        let mut session = match (telethon, decode_base64(input)) {
            (Some(bytes), _) if bytes.len() == 263 || bytes.len() == 275 => parse_telethon(&bytes)?,
            (_, Some(bytes)) => parse_pyrogram(&bytes)?,
            (Some(bytes), None) => return Err(SessionStringError::UnknownLayout(bytes.len())),
            (None, None) => return Err(SessionStringError::NotBase64),
        };
        if let Some(addr) = dc_addr {
            session.addr = addr;
        }
        if session.addr.port() == 0 {
            return Err(SessionStringError::BadPort);
        }
        Ok(session)
    }

    /// Encodes as a Telethon `StringSession` (with padding, as Telethon writes it).
    pub fn to_telethon_string(&self) -> String {
        let mut bytes = Vec::with_capacity(275);
        bytes.push(self.dc_id as u8);
        match self.addr.ip() {
            IpAddr::V4(ip) => bytes.extend_from_slice(&ip.octets()),
            IpAddr::V6(ip) => bytes.extend_from_slice(&ip.octets()),
        }
        bytes.extend_from_slice(&self.addr.port().to_be_bytes());
        bytes.extend_from_slice(&self.auth_key);
        format!("1{}", URL_SAFE.encode(bytes))
    }

    /// Whether the pool must be told to dial IPv6 (`ConnectionParams::use_ipv6`).
    pub fn is_ipv6(&self) -> bool {
        self.addr.is_ipv6()
    }

    /// Whether every DC is pinned to this session's one address: true for any address outside
    /// Telegram's own networks (loopback, a sandbox, a test server given by `TG_DC_ADDR`).
    pub fn is_pinned(&self) -> bool {
        !dcs::is_telegram(self.addr.ip())
    }

    /// Whether the session belongs to Telegram's test DCs.
    pub fn is_test_mode(&self) -> bool {
        matches!(self.format, SessionFormat::Pyrogram { test_mode: true })
            || dcs::is_test_dc(self.addr.ip())
    }

    /// Builds grammers session data: the key installed on the home DC, reached at this
    /// session's address; the other DCs at the same address when [pinned](Self::is_pinned),
    /// else at Telegram's published addresses.
    pub fn to_session_data(&self) -> SessionData {
        SessionData {
            home_dc: self.dc_id,
            dc_options: dcs::table(
                self.dc_id,
                self.addr,
                self.auth_key,
                self.is_pinned(),
                self.is_test_mode(),
            ),
            ..SessionData::default()
        }
    }
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    URL_SAFE
        .decode(text)
        .or_else(|_| URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')))
        .ok()
}

fn check_dc(dc_id: i32) -> Result<i32, SessionStringError> {
    if (1..=5).contains(&dc_id) {
        Ok(dc_id)
    } else {
        Err(SessionStringError::BadDcId(dc_id))
    }
}

fn key_at(bytes: &[u8], at: usize) -> [u8; AUTH_KEY_LEN] {
    let mut key = [0u8; AUTH_KEY_LEN];
    key.copy_from_slice(&bytes[at..at + AUTH_KEY_LEN]);
    key
}

fn parse_telethon(bytes: &[u8]) -> Result<StringSession, SessionStringError> {
    let dc_id = check_dc(i32::from(bytes[0]))?;
    let ip_len = if bytes.len() == 263 { 4 } else { 16 };
    let ip_bytes = &bytes[1..1 + ip_len];
    let ip = if ip_len == 4 {
        IpAddr::V4(Ipv4Addr::new(
            ip_bytes[0],
            ip_bytes[1],
            ip_bytes[2],
            ip_bytes[3],
        ))
    } else {
        let octets: [u8; 16] = ip_bytes.try_into().expect("16 bytes");
        IpAddr::V6(Ipv6Addr::from(octets))
    };
    let port = u16::from_be_bytes([bytes[1 + ip_len], bytes[2 + ip_len]]);
    Ok(StringSession {
        dc_id,
        addr: SocketAddr::new(ip, port),
        auth_key: key_at(bytes, 3 + ip_len),
        format: SessionFormat::Telethon,
    })
}

fn parse_pyrogram(bytes: &[u8]) -> Result<StringSession, SessionStringError> {
    // Layouts, newest first: ">BI?256sQ?" (271), ">B?256sQ?" (267), ">B?256sI?" (263).
    let (test_mode_at, key_at_offset) = match bytes.len() {
        271 => (5, 6),
        267 | 263 => (1, 2),
        n => return Err(SessionStringError::UnknownLayout(n)),
    };
    check_pyrogram_fields(bytes, test_mode_at, key_at_offset + AUTH_KEY_LEN)?;
    let dc_id = check_dc(i32::from(bytes[0]))?;
    let test_mode = bytes[test_mode_at] == 1;
    Ok(StringSession {
        dc_id,
        addr: known_dc_addr(dc_id, test_mode),
        auth_key: key_at(bytes, key_at_offset),
        format: SessionFormat::Pyrogram { test_mode },
    })
}

/// Pyrogram packs `test_mode` and `is_bot` with Python's `?` (exactly 0 or 1) and always has
/// a user id; anything else is some other string of the same length.
fn check_pyrogram_fields(
    bytes: &[u8],
    test_mode_at: usize,
    user_id_at: usize,
) -> Result<(), SessionStringError> {
    let is_bool = |b: u8| b <= 1;
    if !is_bool(bytes[test_mode_at]) {
        return Err(SessionStringError::NotPyrogram(
            "its test-mode flag is not 0 or 1",
        ));
    }
    let is_bot = bytes[bytes.len() - 1];
    if !is_bool(is_bot) {
        return Err(SessionStringError::NotPyrogram(
            "its is-bot flag is not 0 or 1",
        ));
    }
    if bytes[user_id_at..bytes.len() - 1].iter().all(|&b| b == 0) {
        return Err(SessionStringError::NotPyrogram("it has no user id"));
    }
    Ok(())
}

/// Telegram's published DC addresses (port 443), used only when a Pyrogram string names no
/// address and `TG_DC_ADDR` is unset.
fn known_dc_addr(dc_id: i32, test_mode: bool) -> SocketAddr {
    let ip = match (test_mode, dc_id) {
        (false, 1) => [149, 154, 175, 53],
        (false, 2) => [149, 154, 167, 51],
        (false, 3) => [149, 154, 175, 100],
        (false, 4) => [149, 154, 167, 91],
        (false, _) => [91, 108, 56, 130],
        (true, 1) => [149, 154, 175, 10],
        (true, 2) => [149, 154, 167, 40],
        (true, _) => [149, 154, 175, 117],
    };
    SocketAddr::new(IpAddr::V4(Ipv4Addr::from(ip)), 443)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> [u8; AUTH_KEY_LEN] {
        std::array::from_fn(|i| (i as u8).wrapping_mul(7).wrapping_add(seed))
    }

    fn sample(addr: &str) -> StringSession {
        StringSession {
            dc_id: 2,
            addr: addr.parse().unwrap(),
            auth_key: key(3),
            format: SessionFormat::Telethon,
        }
    }

    #[test]
    fn telethon_ipv4_round_trips() {
        let s = sample("127.0.0.1:4567");
        let text = s.to_telethon_string();
        assert!(text.starts_with('1'));
        assert_eq!(StringSession::parse(&text, None).unwrap(), s);
    }

    #[test]
    fn telethon_ipv6_round_trips() {
        let s = sample("[::1]:4567");
        let parsed = StringSession::parse(&s.to_telethon_string(), None).unwrap();
        assert_eq!(parsed, s);
        assert!(parsed.is_ipv6());
    }

    #[test]
    fn telethon_without_padding_is_accepted() {
        let s = sample("10.1.2.3:443");
        let text = s.to_telethon_string();
        let parsed = StringSession::parse(text.trim_end_matches('='), None).unwrap();
        assert_eq!(parsed, s);
    }

    #[test]
    fn pyrogram_current_layout_uses_known_address_or_override() {
        let mut bytes = vec![4u8];
        bytes.extend_from_slice(&12345u32.to_be_bytes());
        bytes.push(0);
        bytes.extend_from_slice(&key(9));
        bytes.extend_from_slice(&777u64.to_be_bytes());
        bytes.push(0);
        let text = URL_SAFE_NO_PAD.encode(&bytes);
        let parsed = StringSession::parse(&text, None).unwrap();
        assert_eq!(parsed.dc_id, 4);
        assert_eq!(parsed.auth_key, key(9));
        assert_eq!(parsed.addr, "149.154.167.91:443".parse().unwrap());
        let overridden = StringSession::parse(&text, Some("127.0.0.1:9".parse().unwrap())).unwrap();
        assert_eq!(overridden.addr, "127.0.0.1:9".parse().unwrap());
        assert_eq!(
            overridden.format,
            SessionFormat::Pyrogram { test_mode: false }
        );
    }

    #[test]
    fn pyrogram_old_layout_with_test_mode_is_accepted() {
        let mut bytes = vec![2u8, 1];
        bytes.extend_from_slice(&key(1));
        bytes.extend_from_slice(&5u32.to_be_bytes());
        bytes.push(0);
        let parsed = StringSession::parse(&URL_SAFE_NO_PAD.encode(&bytes), None).unwrap();
        assert_eq!(parsed.format, SessionFormat::Pyrogram { test_mode: true });
        assert_eq!(parsed.addr, "149.154.167.40:443".parse().unwrap());
    }

    /// Pyrogram's current layout with the given flag bytes and user id.
    fn pyrogram(test_mode: u8, user_id: u64, is_bot: u8) -> String {
        let mut bytes = vec![2u8];
        bytes.extend_from_slice(&12345u32.to_be_bytes());
        bytes.push(test_mode);
        bytes.extend_from_slice(&key(5));
        bytes.extend_from_slice(&user_id.to_be_bytes());
        bytes.push(is_bot);
        URL_SAFE_NO_PAD.encode(&bytes)
    }

    #[test]
    fn a_telethon_string_without_its_leading_1_is_not_taken_for_pyrogram() {
        // IPv4 strings have a Pyrogram layout's length: their content gives them away.
        for addr in ["127.0.0.1:4567", "10.0.0.2:443", "149.154.167.51:443"] {
            let text = sample(addr).to_telethon_string();
            let error = StringSession::parse(&text[1..], None).unwrap_err();
            assert!(
                matches!(error, SessionStringError::NotPyrogram(_)),
                "{addr}: {error:?}"
            );
            assert!(error.to_string().contains("starts with `1`"), "{error}");
        }
        // IPv6 ones have no Pyrogram length at all.
        let text = sample("[::1]:4567").to_telethon_string();
        assert_eq!(
            StringSession::parse(&text[1..], None),
            Err(SessionStringError::UnknownLayout(275))
        );
    }

    #[test]
    fn pyrogram_flags_must_be_booleans_and_the_user_id_present() {
        assert!(StringSession::parse(&pyrogram(0, 42, 0), None).is_ok());
        assert!(StringSession::parse(&pyrogram(1, 42, 1), None).is_ok());
        for (text, why) in [
            (pyrogram(2, 42, 0), "test-mode"),
            (pyrogram(0, 42, 7), "is-bot"),
            (pyrogram(0, 0, 0), "user id"),
        ] {
            let error = StringSession::parse(&text, None).unwrap_err();
            assert!(
                matches!(error, SessionStringError::NotPyrogram(_)),
                "{error:?}"
            );
            assert!(error.to_string().contains(why), "{error}");
        }
    }

    #[test]
    fn garbage_is_rejected_with_a_reason() {
        assert_eq!(
            StringSession::parse("  ", None),
            Err(SessionStringError::Empty)
        );
        assert_eq!(
            StringSession::parse("not base64!", None),
            Err(SessionStringError::NotBase64)
        );
        assert_eq!(
            StringSession::parse("1AAAA", None),
            Err(SessionStringError::UnknownLayout(3))
        );
    }

    #[test]
    fn dc_id_out_of_range_is_rejected() {
        let mut s = sample("127.0.0.1:1");
        s.dc_id = 9;
        assert_eq!(
            StringSession::parse(&s.to_telethon_string(), None),
            Err(SessionStringError::BadDcId(9))
        );
    }

    #[test]
    fn debug_output_hides_the_key() {
        let text = format!("{:?}", sample("127.0.0.1:1"));
        assert!(text.contains("redacted"));
        assert!(!text.contains(&format!("{:?}", &key(3)[..4])));
    }

    #[test]
    fn a_loopback_session_is_pinned_every_dc_at_its_address() {
        let s = sample("127.0.0.1:4567");
        assert!(s.is_pinned());
        let data = s.to_session_data();
        assert_eq!(data.home_dc, 2);
        assert_eq!(data.dc_options.len(), 5);
        for (id, dc) in &data.dc_options {
            assert_eq!(dc.ipv4, "127.0.0.1:4567".parse().unwrap());
            assert_eq!(dc.auth_key.is_some(), *id == 2);
        }
    }

    #[test]
    fn a_session_of_a_real_telegram_dc_is_not_pinned() {
        let s = sample("149.154.167.51:443");
        assert!(!s.is_pinned());
        let data = s.to_session_data();
        assert_eq!(data.home_dc, 2);
        assert_eq!(
            data.dc_options[&2].ipv4,
            "149.154.167.51:443".parse().unwrap()
        );
        assert_eq!(
            data.dc_options[&1].ipv4,
            "149.154.175.53:443".parse().unwrap()
        );
        assert_eq!(
            data.dc_options[&4].ipv4,
            "149.154.167.91:443".parse().unwrap()
        );
        assert!(data.dc_options[&4].auth_key.is_none());
    }

    #[test]
    fn a_pyrogram_string_given_a_loopback_tg_dc_addr_is_pinned() {
        let mut bytes = vec![2u8];
        bytes.extend_from_slice(&12345u32.to_be_bytes());
        bytes.push(0);
        bytes.extend_from_slice(&key(9));
        bytes.extend_from_slice(&777u64.to_be_bytes());
        bytes.push(0);
        let text = URL_SAFE_NO_PAD.encode(&bytes);
        assert!(!StringSession::parse(&text, None).unwrap().is_pinned());
        let pinned = StringSession::parse(&text, Some("127.0.0.1:9".parse().unwrap())).unwrap();
        assert!(pinned.is_pinned());
        let data = pinned.to_session_data();
        assert!(
            data.dc_options
                .values()
                .all(|dc| dc.ipv4 == "127.0.0.1:9".parse().unwrap())
        );
    }
}
