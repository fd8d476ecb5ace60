//! The world's records: users, channels, stored messages and the chat they belong to.

use grammers_tl_types as tl;

use super::fixture::ChannelKind;

/// A chat as seen from the logged-in account: a private chat with a user (including
/// "Saved Messages" with itself) or a channel / supergroup.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChatKey {
    User(i64),
    Channel(i64),
}

impl ChatKey {
    /// The Bot-API-style id: `123` for a user, `-100123` for a channel.
    pub fn bot_api_id(self) -> i64 {
        match self {
            ChatKey::User(id) => id,
            ChatKey::Channel(id) => -1_000_000_000_000 - id,
        }
    }

    /// `"user"` or `"channel"`, as the HTTP API names peer types.
    pub fn kind_name(self, channel_kind: Option<ChannelKind>) -> &'static str {
        match (self, channel_kind) {
            (ChatKey::User(_), _) => "user",
            (ChatKey::Channel(_), Some(ChannelKind::OwnedSupergroup)) => "group",
            (ChatKey::Channel(_), _) => "channel",
        }
    }

    pub fn tl_peer(self) -> tl::enums::Peer {
        match self {
            ChatKey::User(user_id) => tl::types::PeerUser { user_id }.into(),
            ChatKey::Channel(channel_id) => tl::types::PeerChannel { channel_id }.into(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct UserRecord {
    pub id: i64,
    pub access_hash: i64,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: String,
    /// Only the account's own phone is known.
    pub phone: Option<String>,
}

#[derive(Clone, Debug)]
pub struct ChannelRecord {
    pub id: i64,
    pub access_hash: i64,
    pub title: String,
    pub username: String,
    pub kind: ChannelKind,
    pub date: i32,
}

/// One message as the sandbox holds it (the ground truth).
#[derive(Clone, Debug)]
pub struct StoredMessage {
    pub id: i32,
    pub chat: ChatKey,
    /// The sending user; `None` for a broadcast channel post.
    pub from: Option<i64>,
    /// Sent by the logged-in account.
    pub out: bool,
    pub date: i32,
    pub text: String,
    pub entities: Vec<tl::enums::MessageEntity>,
    pub edit_date: Option<i32>,
    /// The message this one replies to (same chat).
    pub reply_to: Option<i32>,
    /// Sent without notification.
    pub silent: bool,
    /// Whether the sender allowed a link preview (`!no_webpage`).
    pub link_preview: bool,
    /// Pinned in its chat.
    pub pinned: bool,
    /// Where a forwarded message came from (absent when sent or forwarded without author).
    pub fwd_from: Option<FwdFrom>,
    /// The attached photo or document (shared, never copied: a recipient's copy and a
    /// forward point at the same file).
    pub media: Option<std::sync::Arc<super::media::Media>>,
    /// The album a message belongs to (`messages.sendMultiMedia`).
    pub grouped_id: Option<i64>,
}

/// The original of a forwarded message, as Telegram's `messageFwdHeader` names it: the
/// first author is kept when a forward is forwarded again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FwdFrom {
    /// The original author: a user, or the channel of a broadcast post.
    pub from: ChatKey,
    /// When the original was sent.
    pub date: i32,
    /// The original post's id when it was a channel post.
    pub channel_post: Option<i32>,
}
