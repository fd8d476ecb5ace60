//! Where the store's plain peer records meet Telegram's types: grammers' `PeerInfo` (what
//! the session caches) and the resolver's [`KnownPeer`] both map to one [`PeerRecord`], so
//! a peer is stored once whichever of them learned it.

use grammers_session::types::{
    ChannelKind as GrammersChannelKind, PeerAuth, PeerId, PeerInfo, PeerKind,
};

use super::resolver::KnownPeer;
use crate::domain::{self, PeerType};
use crate::store::{ChannelKind, PeerRecord};

/// The record of what the grammers session learned (`None` for ids out of Bot-API range).
pub fn from_peer_info(info: &PeerInfo) -> Option<PeerRecord> {
    let id = info.id().bot_api_dialog_id()?;
    Some(match *info {
        PeerInfo::User {
            auth, bot, is_self, ..
        } => PeerRecord {
            id,
            access_hash: auth.map(PeerAuth::hash),
            bot,
            is_self,
            ..PeerRecord::default()
        },
        PeerInfo::Chat { .. } => PeerRecord {
            id,
            ..PeerRecord::default()
        },
        PeerInfo::Channel { auth, kind, .. } => PeerRecord {
            id,
            access_hash: auth.map(PeerAuth::hash),
            channel_kind: kind.map(|kind| match kind {
                GrammersChannelKind::Broadcast => ChannelKind::Broadcast,
                GrammersChannelKind::Megagroup => ChannelKind::Megagroup,
                GrammersChannelKind::Gigagroup => ChannelKind::Gigagroup,
                GrammersChannelKind::Community => ChannelKind::Community,
            }),
            ..PeerRecord::default()
        },
    })
}

/// The grammers session's view of a stored peer.
pub fn to_peer_info(record: &PeerRecord) -> Option<PeerInfo> {
    let peer = PeerId::from_bot_api_dialog_id(record.id)?;
    let bare = peer.bare_id()?;
    let auth = record.access_hash.map(PeerAuth::from_hash);
    Some(match peer.kind() {
        PeerKind::User => PeerInfo::User {
            id: bare,
            auth,
            bot: record.bot,
            is_self: record.is_self,
        },
        PeerKind::Chat => PeerInfo::Chat { id: bare },
        PeerKind::Channel => PeerInfo::Channel {
            id: bare,
            auth,
            kind: record.channel_kind.map(|kind| match kind {
                ChannelKind::Broadcast => GrammersChannelKind::Broadcast,
                ChannelKind::Megagroup => GrammersChannelKind::Megagroup,
                ChannelKind::Gigagroup => GrammersChannelKind::Gigagroup,
                ChannelKind::Community => GrammersChannelKind::Community,
            }),
        },
    })
}

/// The record of what the resolver learned. A zero hash means "none needed or none known"
/// (basic groups, the self user) and is stored as unknown, so it never hides a real one.
pub fn from_known(peer: &KnownPeer) -> PeerRecord {
    let channel = peer.is_channel();
    PeerRecord {
        id: peer.id,
        access_hash: (peer.hash != 0).then_some(peer.hash),
        bot: None,
        is_self: Some(peer.is_self),
        channel_kind: channel.then_some(match peer.kind {
            PeerType::Channel => ChannelKind::Broadcast,
            PeerType::Group | PeerType::User => ChannelKind::Megagroup,
        }),
        title: peer.title.clone(),
        usernames: Some(peer.usernames.clone()),
    }
}

/// The resolver's view of a stored peer; `None` when it cannot be addressed (a user or
/// channel without an access hash).
pub fn to_known(record: &PeerRecord) -> Option<KnownPeer> {
    let peer = PeerId::from_bot_api_dialog_id(record.id)?;
    let is_self = record.is_self == Some(true);
    let (hash, kind) = match peer.kind() {
        PeerKind::User => (record.access_hash.or(is_self.then_some(0))?, PeerType::User),
        PeerKind::Chat => (0, PeerType::Group),
        PeerKind::Channel => (
            record.access_hash?,
            match record.channel_kind {
                Some(ChannelKind::Broadcast) => PeerType::Channel,
                Some(_) => PeerType::Group,
                None => PeerType::from_id(domain::PeerId::from_bot_api_dialog_id(record.id)?),
            },
        ),
    };
    Some(KnownPeer {
        id: record.id,
        hash,
        kind,
        usernames: record.usernames.clone().unwrap_or_default(),
        title: record.title.clone(),
        is_self,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammers_peers_round_trip_through_records() {
        for info in [
            PeerInfo::User {
                id: 42,
                auth: Some(PeerAuth::from_hash(99)),
                bot: Some(true),
                is_self: Some(false),
            },
            PeerInfo::Chat { id: 9 },
            PeerInfo::Channel {
                id: 5,
                auth: Some(PeerAuth::from_hash(55)),
                kind: Some(GrammersChannelKind::Gigagroup),
            },
        ] {
            let record = from_peer_info(&info).unwrap();
            assert_eq!(to_peer_info(&record), Some(info));
        }
    }

    #[test]
    fn resolver_peers_round_trip_through_records() {
        let channel = KnownPeer {
            id: -1000000000005,
            hash: 77,
            kind: PeerType::Channel,
            usernames: vec!["news".into()],
            title: Some("News".into()),
            is_self: false,
        };
        let group = KnownPeer {
            id: -9,
            hash: 0,
            kind: PeerType::Group,
            usernames: vec![],
            title: Some("Friends".into()),
            is_self: false,
        };
        for peer in [channel, group] {
            assert_eq!(to_known(&from_known(&peer)), Some(peer));
        }
    }

    #[test]
    fn users_without_a_hash_are_not_addressable_unless_they_are_self() {
        let record = PeerRecord {
            id: 42,
            ..PeerRecord::default()
        };
        assert_eq!(to_known(&record), None);
        let me = PeerRecord {
            is_self: Some(true),
            ..record
        };
        assert_eq!(to_known(&me).map(|p| p.hash), Some(0));
    }
}
