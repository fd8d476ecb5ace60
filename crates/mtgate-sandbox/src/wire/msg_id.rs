//! Server message ids: `unix_time << 32 | sub-second bits`, odd, strictly increasing per
//! connection. Responses are 1 mod 4, messages the server starts (updates) 3 mod 4.

use std::time::{SystemTime, UNIX_EPOCH};

/// What a server message is, which fixes its msg_id's two low bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MsgKind {
    Response = 1,
    Initiated = 3,
}

/// Generates one connection's server msg_ids.
#[derive(Debug, Default)]
pub struct MsgIdGen {
    last: i64,
}

impl MsgIdGen {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn next(&mut self, kind: MsgKind) -> i64 {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let base = ((now.as_secs() << 32) | (u64::from(now.subsec_nanos()) << 2)) as i64;
        let mut id = (base & !3) | kind as i64;
        if id <= self.last {
            id = ((self.last & !3) + 4) | kind as i64;
        }
        self.last = id;
        id
    }
}

/// The server's current unix time in seconds (as MTProto's `int`).
pub fn unix_now() -> i32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs() as i32
}

/// The unix time a client msg_id claims (its upper 32 bits).
pub fn msg_id_time(msg_id: i64) -> i64 {
    msg_id >> 32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_odd_strictly_increasing_and_typed_by_their_low_bits() {
        let mut ids = MsgIdGen::new();
        let mut last = 0;
        for i in 0..10_000 {
            let kind = if i % 3 == 0 {
                MsgKind::Initiated
            } else {
                MsgKind::Response
            };
            let id = ids.next(kind);
            assert!(id > last, "{id} after {last}");
            assert_eq!(id % 4, kind as i64);
            last = id;
        }
    }

    #[test]
    fn ids_carry_the_current_unix_time() {
        let id = MsgIdGen::new().next(MsgKind::Response);
        assert!((msg_id_time(id) - i64::from(unix_now())).abs() <= 1);
    }
}
