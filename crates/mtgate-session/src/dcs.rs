//! Telegram's data centres: their published addresses, the address ranges Telegram owns, and
//! the DC table a session starts with.
//!
//! A session whose address lies in Telegram's ranges talks to real Telegram: its home DC keeps
//! the string's address and the other DCs get Telegram's published ones, so a `*_MIGRATE` or
//! another-DC call reaches the right server. Any other address (loopback, a sandbox, a test
//! server behind `TG_DC_ADDR`) is *pinned*: every DC points at it, so such a session can never
//! wander off to Telegram.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use grammers_session::types::DcOption;

/// Telegram's published production DC IPv6 addresses, by DC id 1..=5, port 443 (the IPv4
/// ones are the crate's `known_dc_addr`).
const PRODUCTION_V6: [[u16; 8]; 5] = [
    [0x2001, 0xb28, 0xf23d, 0xf001, 0, 0, 0, 0xa],
    [0x2001, 0x67c, 0x4e8, 0xf002, 0, 0, 0, 0xa],
    [0x2001, 0xb28, 0xf23d, 0xf003, 0, 0, 0, 0xa],
    [0x2001, 0x67c, 0x4e8, 0xf004, 0, 0, 0, 0xa],
    [0x2001, 0xb28, 0xf23f, 0xf005, 0, 0, 0, 0xa],
];

/// Telegram's test DCs (1..=3) over IPv6.
const TEST_V6: [[u16; 8]; 3] = [
    [0x2001, 0xb28, 0xf23d, 0xf001, 0, 0, 0, 0xe],
    [0x2001, 0x67c, 0x4e8, 0xf002, 0, 0, 0, 0xe],
    [0x2001, 0xb28, 0xf23d, 0xf003, 0, 0, 0, 0xe],
];

/// Address ranges Telegram announces for its DCs (IPv4 prefix, length).
const TELEGRAM_V4: &[([u8; 4], u32)] = &[
    ([149, 154, 160, 0], 20),
    ([91, 108, 4, 0], 22),
    ([91, 108, 8, 0], 22),
    ([91, 108, 12, 0], 22),
    ([91, 108, 16, 0], 22),
    ([91, 108, 20, 0], 22),
    ([91, 108, 56, 0], 22),
    ([91, 105, 192, 0], 23),
    ([95, 161, 64, 0], 20),
    ([185, 76, 151, 0], 24),
];

/// The same for IPv6.
const TELEGRAM_V6: &[([u16; 8], u32)] = &[
    ([0x2001, 0xb28, 0xf23d, 0, 0, 0, 0, 0], 48),
    ([0x2001, 0xb28, 0xf23f, 0, 0, 0, 0, 0], 48),
    ([0x2001, 0xb28, 0xf23c, 0, 0, 0, 0, 0], 48),
    ([0x2001, 0x67c, 0x4e8, 0, 0, 0, 0, 0], 48),
    ([0x2a0a, 0xf280, 0, 0, 0, 0, 0, 0], 32),
];

/// Whether `ip` belongs to Telegram's own DC networks.
pub fn is_telegram(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => TELEGRAM_V4.iter().any(|(net, len)| {
            let mask = u32::MAX << (32 - len);
            u32::from(v4) & mask == u32::from(Ipv4Addr::from(*net)) & mask
        }),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_telegram(IpAddr::V4(v4));
            }
            TELEGRAM_V6.iter().any(|(net, len)| {
                let mask = u128::MAX << (128 - len);
                u128::from(v6) & mask == u128::from(Ipv6Addr::from(*net)) & mask
            })
        }
    }
}

/// Whether `ip` is one of Telegram's test DCs.
pub fn is_test_dc(ip: IpAddr) -> bool {
    (1..=TEST_V6.len() as i32).any(|id| {
        let (v4, v6) = published(id, true);
        ip == IpAddr::V4(*v4.ip()) || ip == IpAddr::V6(*v6.ip())
    })
}

/// Telegram's published addresses of DC `dc_id` (ids past the last DC get the last one's).
fn published(dc_id: i32, test_mode: bool) -> (SocketAddrV4, SocketAddrV6) {
    let v4 = match crate::known_dc_addr(dc_id, test_mode) {
        SocketAddr::V4(v4) => v4,
        SocketAddr::V6(v6) => SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, v6.port()),
    };
    let table: &[[u16; 8]] = if test_mode { &TEST_V6 } else { &PRODUCTION_V6 };
    let index = usize::try_from(dc_id - 1).unwrap_or(0).min(table.len() - 1);
    (
        v4,
        SocketAddrV6::new(Ipv6Addr::from(table[index]), 443, 0, 0),
    )
}

/// Both address families for one address (the pool dials the family of the home DC's).
fn both(addr: SocketAddr) -> (SocketAddrV4, SocketAddrV6) {
    match addr {
        SocketAddr::V4(v4) => (
            v4,
            SocketAddrV6::new(v4.ip().to_ipv6_mapped(), v4.port(), 0, 0),
        ),
        SocketAddr::V6(v6) => (SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, v6.port()), v6),
    }
}

/// The DC table a session starts with: its key on the home DC, reached at `home_addr`; every
/// other DC at `home_addr` too when `pinned`, else at Telegram's published address.
pub fn table(
    home_dc: i32,
    home_addr: SocketAddr,
    auth_key: [u8; 256],
    pinned: bool,
    test_mode: bool,
) -> HashMap<i32, DcOption> {
    let dc_count = if test_mode && !pinned {
        TEST_V6.len()
    } else {
        PRODUCTION_V6.len()
    };
    (1..=dc_count as i32)
        .chain(std::iter::once(home_dc))
        .map(|id| {
            let (ipv4, ipv6) = if pinned || id == home_dc {
                both(home_addr)
            } else {
                published(id, test_mode)
            };
            let auth_key = (id == home_dc).then_some(auth_key);
            (
                id,
                DcOption {
                    id,
                    ipv4,
                    ipv6,
                    auth_key,
                },
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn telegram_addresses_are_recognised_and_others_are_not() {
        for ip in [
            "149.154.167.51",
            "149.154.175.53",
            "91.108.56.130",
            "149.154.167.40",
            "2001:67c:4e8:f002::a",
            "::ffff:149.154.167.91",
        ] {
            assert!(is_telegram(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["127.0.0.1", "10.0.0.9", "192.168.1.2", "::1", "8.8.8.8"] {
            assert!(!is_telegram(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn a_real_dc_table_reaches_every_dc_at_its_own_address() {
        let home: SocketAddr = "149.154.167.50:443".parse().unwrap();
        let dcs = table(2, home, [7; 256], false, false);
        assert_eq!(dcs.len(), 5);
        assert_eq!(SocketAddr::V4(dcs[&2].ipv4), home);
        assert_eq!(dcs[&4].ipv4, "149.154.167.91:443".parse().unwrap());
        assert_eq!(dcs[&5].ipv6, "[2001:b28:f23f:f005::a]:443".parse().unwrap());
        assert!(dcs[&2].auth_key.is_some());
        assert!(dcs.values().filter(|dc| dc.auth_key.is_some()).count() == 1);
    }

    #[test]
    fn a_pinned_table_points_every_dc_at_one_address() {
        let home: SocketAddr = "127.0.0.1:4567".parse().unwrap();
        let dcs = table(2, home, [7; 256], true, false);
        assert_eq!(dcs.len(), 5);
        assert!(dcs.values().all(|dc| SocketAddr::V4(dc.ipv4) == home));
    }
}
