//! What mtgate knows about one peer: id, access hash, type, names — read from Telegram's user
//! and chat objects (min objects carry no usable hash and teach nothing).

use grammers_session::types::{PeerAuth, PeerId, PeerKind, PeerRef};
use grammers_tl_types as tl;
use serde::{Deserialize, Serialize};

use crate::domain::PeerType;

/// A peer mtgate can address: its id, access hash and what it is called.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownPeer {
    /// Bot-API dialog id (`123`, `-123`, `-100123`).
    pub id: i64,
    /// The access hash (0 for basic groups, which need none).
    pub hash: i64,
    #[serde(rename = "type")]
    pub kind: PeerType,
    /// Active usernames, the primary one first.
    #[serde(default)]
    pub usernames: Vec<String>,
    /// Chat title, or a user's full name.
    pub title: Option<String>,
    /// The logged-in account itself.
    #[serde(default)]
    pub is_self: bool,
}

impl KnownPeer {
    pub fn peer_id(&self) -> PeerId {
        // Ids only enter through `PeerId`s, so this always holds; fall back to self otherwise.
        PeerId::from_bot_api_dialog_id(self.id).unwrap_or_else(PeerId::self_user)
    }

    pub fn username(&self) -> Option<&str> {
        self.usernames.first().map(String::as_str)
    }

    /// The reference grammers converts into `InputPeer` / `InputChannel` / `InputUser`.
    pub fn peer_ref(&self) -> PeerRef {
        PeerRef {
            id: self.peer_id(),
            auth: PeerAuth::from_hash(self.hash),
        }
    }

    pub fn input_peer(&self) -> tl::enums::InputPeer {
        if self.is_self {
            return tl::enums::InputPeer::PeerSelf;
        }
        self.peer_ref().into()
    }

    pub fn is_channel(&self) -> bool {
        self.peer_id().kind() == PeerKind::Channel
    }

    /// What a user object tells; `None` for objects without a usable hash (min users).
    pub fn from_user(user: &tl::enums::User) -> Option<Self> {
        let tl::enums::User::User(u) = user else {
            return None;
        };
        let hash = match (u.min, u.access_hash) {
            (false, Some(hash)) => hash,
            (false, None) if u.is_self => 0,
            _ => return None,
        };
        let id = PeerId::user(u.id)?.bot_api_dialog_id()?;
        let name = [u.first_name.as_deref(), u.last_name.as_deref()]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        Some(Self {
            id,
            hash,
            kind: PeerType::User,
            usernames: usernames(u.username.as_deref(), u.usernames.as_deref()),
            title: (!name.is_empty()).then_some(name),
            is_self: u.is_self,
        })
    }

    /// What a chat or channel object tells; `None` for min or empty ones.
    pub fn from_chat(chat: &tl::enums::Chat) -> Option<Self> {
        use tl::enums::Chat;
        let (id, hash, kind, names, title) = match chat {
            Chat::Chat(c) => (PeerId::chat(c.id)?, 0, PeerType::Group, vec![], &c.title),
            Chat::Forbidden(c) => (PeerId::chat(c.id)?, 0, PeerType::Group, vec![], &c.title),
            Chat::Channel(c) if !c.min => (
                PeerId::channel(c.id)?,
                c.access_hash?,
                channel_type(c.broadcast),
                usernames(c.username.as_deref(), c.usernames.as_deref()),
                &c.title,
            ),
            Chat::ChannelForbidden(c) => (
                PeerId::channel(c.id)?,
                c.access_hash,
                channel_type(c.broadcast),
                vec![],
                &c.title,
            ),
            _ => return None,
        };
        Some(Self {
            id: id.bot_api_dialog_id()?,
            hash,
            kind,
            usernames: names,
            title: Some(title.clone()),
            is_self: false,
        })
    }
}

/// Supergroups are channels in MTProto but groups to the people in them.
fn channel_type(broadcast: bool) -> PeerType {
    if broadcast {
        PeerType::Channel
    } else {
        PeerType::Group
    }
}

fn usernames(primary: Option<&str>, all: Option<&[tl::enums::Username]>) -> Vec<String> {
    let mut names: Vec<String> = primary.map(str::to_owned).into_iter().collect();
    for tl::enums::Username::Username(u) in all.unwrap_or_default() {
        if u.active && !names.iter().any(|n| n.eq_ignore_ascii_case(&u.username)) {
            names.push(u.username.clone());
        }
    }
    names
}

/// Telegram objects for tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    pub(crate) fn user(
        id: i64,
        hash: Option<i64>,
        username: Option<&str>,
        min: bool,
    ) -> tl::enums::User {
        tl::types::User {
            is_self: false,
            contact: false,
            mutual_contact: false,
            deleted: false,
            bot: false,
            bot_chat_history: false,
            bot_nochats: false,
            verified: false,
            restricted: false,
            min,
            bot_inline_geo: false,
            support: false,
            scam: false,
            apply_min_photo: false,
            fake: false,
            bot_attach_menu: false,
            premium: false,
            attach_menu_enabled: false,
            bot_can_edit: false,
            close_friend: false,
            stories_hidden: false,
            stories_unavailable: false,
            contact_require_premium: false,
            bot_business: false,
            bot_has_main_app: false,
            bot_forum_view: false,
            bot_forum_can_manage_topics: false,
            bot_can_manage_bots: false,
            bot_guestchat: false,
            bot_guard: false,
            id,
            access_hash: hash,
            first_name: Some("Ada".into()),
            last_name: Some("Lovelace".into()),
            username: username.map(Into::into),
            phone: None,
            photo: None,
            status: None,
            bot_info_version: None,
            restriction_reason: None,
            bot_inline_placeholder: None,
            lang_code: None,
            emoji_status: None,
            usernames: None,
            stories_max_id: None,
            color: None,
            profile_color: None,
            bot_active_users: None,
            bot_verification_icon: None,
            send_paid_messages_stars: None,
            linked_community_id: None,
        }
        .into()
    }

    pub(crate) fn forbidden_channel(id: i64, broadcast: bool) -> tl::enums::Chat {
        tl::types::ChannelForbidden {
            broadcast,
            megagroup: !broadcast,
            monoforum: false,
            id,
            access_hash: 77,
            title: "News".into(),
            until_date: None,
        }
        .into()
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;

    #[test]
    fn users_are_learned_with_hash_name_and_username() {
        let peer = KnownPeer::from_user(&user(42, Some(99), Some("Ada_L"), false)).unwrap();
        assert_eq!(peer.id, 42);
        assert_eq!(peer.hash, 99);
        assert_eq!(peer.kind, PeerType::User);
        assert_eq!(peer.username(), Some("Ada_L"));
        assert_eq!(peer.title.as_deref(), Some("Ada Lovelace"));
    }

    #[test]
    fn min_users_teach_nothing() {
        assert!(KnownPeer::from_user(&user(42, Some(99), None, true)).is_none());
        assert!(KnownPeer::from_user(&user(42, None, None, false)).is_none());
    }

    #[test]
    fn channels_and_supergroups_get_bot_api_ids_and_types() {
        let channel = KnownPeer::from_chat(&forbidden_channel(5, true)).unwrap();
        assert_eq!(channel.id, -1000000000005);
        assert_eq!(channel.kind, PeerType::Channel);
        assert!(channel.is_channel());
        let group = KnownPeer::from_chat(&forbidden_channel(6, false)).unwrap();
        assert_eq!(group.kind, PeerType::Group);
        assert!(matches!(
            group.input_peer(),
            tl::enums::InputPeer::Channel(c) if c.channel_id == 6 && c.access_hash == 77
        ));
    }
}
