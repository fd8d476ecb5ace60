//! Bot-API-style dialog ids (`123` user, `-123` basic group, `-100…` channel or supergroup),
//! checked against the ranges Telegram documents for them, so an id that cannot exist is
//! refused before any Telegram call.

/// What kind of chat an id names, from its sign and range alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DialogKind {
    User,
    /// A basic (small) group.
    Group,
    /// A broadcast channel, supergroup, gigagroup or monoforum.
    Channel,
}

/// A valid Bot-API dialog id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DialogId(i64);

/// Channel ids are written `-100` followed by the bare id: `-(10^12 + bare)`.
const CHANNEL_OFFSET: i64 = 1_000_000_000_000;

impl DialogId {
    /// The id, when it lies in one of Telegram's ranges.
    pub fn new(id: i64) -> Option<Self> {
        let valid = (1..=0xff_ffff_ffff).contains(&id)
            || (-999_999_999_999..=-1).contains(&id)
            || (-1_997_852_516_352..=-1_000_000_000_001).contains(&id)
            || (-4_000_000_000_000..=-2_002_147_483_649).contains(&id);
        valid.then_some(Self(id))
    }

    /// The id as callers write it.
    pub fn value(self) -> i64 {
        self.0
    }

    pub fn kind(self) -> DialogKind {
        match self.0 {
            id if id > 0 => DialogKind::User,
            id if id > -CHANNEL_OFFSET => DialogKind::Group,
            _ => DialogKind::Channel,
        }
    }

    /// The id Telegram's own objects carry (`user_id`, `chat_id`, `channel_id`).
    pub fn bare_id(self) -> i64 {
        match self.kind() {
            DialogKind::User => self.0,
            DialogKind::Group => -self.0,
            DialogKind::Channel => -self.0 - CHANNEL_OFFSET,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_range_has_its_kind_and_bare_id() {
        let user = DialogId::new(123).unwrap();
        assert_eq!((user.kind(), user.bare_id()), (DialogKind::User, 123));
        let group = DialogId::new(-123).unwrap();
        assert_eq!((group.kind(), group.bare_id()), (DialogKind::Group, 123));
        let channel = DialogId::new(-1001234567890).unwrap();
        assert_eq!(
            (channel.kind(), channel.bare_id()),
            (DialogKind::Channel, 1234567890)
        );
        assert_eq!(channel.value(), -1001234567890);
    }

    #[test]
    fn ids_outside_every_range_are_refused() {
        for id in [
            0,
            0x100_0000_0000,
            -1_000_000_000_000,
            -2_000_000_000_000,
            i64::MIN,
        ] {
            assert_eq!(DialogId::new(id), None, "{id}");
        }
    }
}
