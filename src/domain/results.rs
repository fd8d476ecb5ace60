//! What account operations answer with: plain data, free of Telegram's wire types, so the HTTP
//! layer (and later the outbox and events) render them without knowing about MTProto.

use super::message::MessageView;
use super::peer::PeerType;

/// A peer as mtgate describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    /// Bot-API-style id: `123` user, `-123` group, `-100…` channel or supergroup.
    pub id: i64,
    pub kind: PeerType,
    /// The primary public username, without `@`, if it has one.
    pub username: Option<String>,
    /// The chat's title, or the user's full name.
    pub title: Option<String>,
}

/// One page of a chat's history, newest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryPage {
    pub messages: Vec<MessageView>,
    /// The `before_id` of the next (older) page; `None` when there are no older messages.
    pub next_before_id: Option<i32>,
}

/// The options of a send besides its text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SendOptions {
    pub reply_to: Option<i32>,
    pub silent: bool,
    pub link_preview: bool,
}

/// The logged-in account, as last seen by a successful `users.getUsers(self)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelfUser {
    pub id: i64,
    pub username: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// Unmasked; only ever leaves the process masked.
    pub phone: Option<String>,
    pub is_bot: bool,
}

/// Who the session is logged in as, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionInfo {
    pub me: SelfUser,
    /// The session's home data centre.
    pub dc_id: i32,
}
