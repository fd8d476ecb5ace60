//! Bot-API-style peer ids (`123` user, `-123` basic group, `-100…` channel or supergroup),
//! checked against the ranges Telegram documents for them, so an id that cannot exist is
//! refused before any Telegram call. mtgate's own type: the domain names no grammers type.

/// What kind of chat an id names, from its sign and range alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PeerKind {
    User,
    /// A basic (small) group.
    Chat,
    /// A broadcast channel, supergroup, gigagroup or monoforum.
    Channel,
}

/// A valid Bot-API dialog id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PeerId(i64);

/// Channel ids are written `-100` followed by the bare id: `-(10^12 + bare)`.
const CHANNEL_OFFSET: i64 = 1_000_000_000_000;

impl PeerId {
    /// The id, when it lies in one of Telegram's ranges.
    pub fn from_bot_api_dialog_id(id: i64) -> Option<Self> {
        let valid = (1..=0xff_ffff_ffff).contains(&id)
            || (-999_999_999_999..=-1).contains(&id)
            || (-1_997_852_516_352..=-1_000_000_000_001).contains(&id)
            || (-4_000_000_000_000..=-2_002_147_483_649).contains(&id);
        valid.then_some(Self(id))
    }

    /// The id of a user (its bare id), when valid.
    pub fn user(id: i64) -> Option<Self> {
        (id > 0).then(|| Self::from_bot_api_dialog_id(id)).flatten()
    }

    /// The id as callers write it.
    pub fn value(self) -> i64 {
        self.0
    }

    /// [`Self::value`], in the shape grammers' `PeerId` has it (always `Some`).
    pub fn bot_api_dialog_id(self) -> Option<i64> {
        Some(self.0)
    }

    pub fn kind(self) -> PeerKind {
        match self.0 {
            id if id > 0 => PeerKind::User,
            id if id > -CHANNEL_OFFSET => PeerKind::Chat,
            _ => PeerKind::Channel,
        }
    }

    /// The id Telegram's own objects carry (`user_id`, `chat_id`, `channel_id`); always
    /// `Some` (the shape of grammers' `PeerId::bare_id`).
    pub fn bare_id(self) -> Option<i64> {
        Some(match self.kind() {
            PeerKind::User => self.0,
            PeerKind::Chat => -self.0,
            PeerKind::Channel => -self.0 - CHANNEL_OFFSET,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(value: i64) -> PeerId {
        PeerId::from_bot_api_dialog_id(value).unwrap()
    }

    #[test]
    fn each_range_has_its_kind_and_bare_id() {
        assert_eq!(
            (id(123).kind(), id(123).bare_id()),
            (PeerKind::User, Some(123))
        );
        assert_eq!(
            (id(-123).kind(), id(-123).bare_id()),
            (PeerKind::Chat, Some(123))
        );
        let channel = id(-1001234567890);
        assert_eq!(
            (channel.kind(), channel.bare_id()),
            (PeerKind::Channel, Some(1234567890))
        );
        assert_eq!(channel.value(), -1001234567890);
    }

    #[test]
    fn ids_outside_every_range_are_refused() {
        for value in [
            0,
            0x100_0000_0000,
            -1_000_000_000_000,
            -2_000_000_000_000,
            i64::MIN,
        ] {
            assert_eq!(PeerId::from_bot_api_dialog_id(value), None, "{value}");
        }
        assert_eq!(PeerId::user(-5), None);
        assert_eq!(PeerId::user(5), Some(id(5)));
    }
}
