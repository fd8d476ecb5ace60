//! Turning what a client or the control API names into a chat of the world, checking access
//! hashes the way Telegram does.

use grammers_tl_types as tl;

use super::error::RpcErr;
use super::model::ChatKey;
use super::state::State;

impl State {
    /// An `InputPeer` as a chat; a wrong access hash is `PEER_ID_INVALID` (users) or
    /// `CHANNEL_INVALID` (channels).
    pub fn input_peer(&self, peer: &tl::enums::InputPeer) -> Result<ChatKey, RpcErr> {
        use tl::enums::InputPeer as P;
        match peer {
            P::PeerSelf => Ok(ChatKey::User(self.viewer)),
            P::User(user) => self.checked_user(user.user_id, user.access_hash),
            P::Channel(channel) => self
                .checked_channel(channel.channel_id, channel.access_hash)
                .map(ChatKey::Channel),
            P::Empty | P::Chat(_) | P::UserFromMessage(_) | P::ChannelFromMessage(_) => {
                Err(RpcErr::bad("PEER_ID_INVALID"))
            }
        }
    }

    pub fn input_user(&self, user: &tl::enums::InputUser) -> Result<i64, RpcErr> {
        use tl::enums::InputUser as U;
        match user {
            U::UserSelf => Ok(self.viewer),
            U::User(user) => match self.checked_user(user.user_id, user.access_hash)? {
                ChatKey::User(id) => Ok(id),
                ChatKey::Channel(_) => unreachable!("checked_user returns users"),
            },
            U::Empty | U::FromMessage(_) => Err(RpcErr::bad("PEER_ID_INVALID")),
        }
    }

    pub fn input_channel(&self, channel: &tl::enums::InputChannel) -> Result<i64, RpcErr> {
        match channel {
            tl::enums::InputChannel::Channel(c) => {
                self.checked_channel(c.channel_id, c.access_hash)
            }
            _ => Err(RpcErr::bad("CHANNEL_INVALID")),
        }
    }

    fn checked_user(&self, id: i64, access_hash: i64) -> Result<ChatKey, RpcErr> {
        match self.users.get(&id) {
            Some(user) if user.access_hash == access_hash => Ok(ChatKey::User(id)),
            _ => Err(RpcErr::bad("PEER_ID_INVALID")),
        }
    }

    fn checked_channel(&self, id: i64, access_hash: i64) -> Result<i64, RpcErr> {
        match self.channels.get(&id) {
            Some(channel) if channel.access_hash == access_hash => Ok(id),
            _ => Err(RpcErr::bad("CHANNEL_INVALID")),
        }
    }

    /// A username (case-insensitive, without `@`) as a chat.
    pub fn by_username(&self, username: &str) -> Option<ChatKey> {
        let wanted = username.to_ascii_lowercase();
        self.users
            .values()
            .find(|u| u.username.to_ascii_lowercase() == wanted)
            .map(|u| ChatKey::User(u.id))
            .or_else(|| {
                self.channels
                    .values()
                    .find(|c| c.username.to_ascii_lowercase() == wanted)
                    .map(|c| ChatKey::Channel(c.id))
            })
    }

    /// A peer as the control API (and the HTTP API) writes it: `@username`, `username`,
    /// `t.me/username`, a Bot-API-style id (`123`, `-100123`) or `me`.
    pub fn parse_peer(&self, text: &str) -> Option<ChatKey> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("me") || text.eq_ignore_ascii_case("self") {
            return Some(ChatKey::User(self.viewer));
        }
        if let Ok(number) = text.parse::<i64>() {
            let chat = if number > 0 {
                ChatKey::User(number)
            } else {
                ChatKey::Channel(-number - 1_000_000_000_000)
            };
            return self.exists(chat).then_some(chat);
        }
        let name = text
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .trim_start_matches("t.me/")
            .trim_start_matches('@');
        self.by_username(name)
    }

    pub fn exists(&self, chat: ChatKey) -> bool {
        match chat {
            ChatKey::User(id) => self.users.contains_key(&id),
            ChatKey::Channel(id) => self.channels.contains_key(&id),
        }
    }
}

/// Telegram's username syntax: 4–32 characters of `[A-Za-z0-9_]`, starting with a letter.
pub fn is_valid_username(name: &str) -> bool {
    (4..=32).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn username_syntax_follows_telegram() {
        assert!(is_valid_username("alice_sandbox"));
        assert!(is_valid_username("abcd"));
        assert!(!is_valid_username("abc"));
        assert!(!is_valid_username("1alice"));
        assert!(!is_valid_username("al ice"));
        assert!(!is_valid_username(&"a".repeat(33)));
    }
}
