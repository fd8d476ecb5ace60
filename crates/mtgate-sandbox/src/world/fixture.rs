//! The fixed starting world: who exists, what they are called, what the chats hold.
//!
//! Names, ids, the phone, the login code and the password are constants so tests and docs can
//! rely on them; access hashes and auth keys are random per sandbox (see [`super::World::new`]).

/// The logged-in account.
pub const ME_ID: i64 = 5_000_001;
pub const ME_USERNAME: &str = "sandy";
pub const ME_FIRST_NAME: &str = "Sandy";
pub const ME_LAST_NAME: &str = "Box";
/// Without the `+`, as Telegram stores it in `user.phone`.
pub const ME_PHONE: &str = "15550100001";
/// The code `auth.signIn` accepts (Telegram's test-DC style: fixed digits).
pub const LOGIN_CODE: &str = "12345";
/// The account's 2FA password (SRP, checked by `auth.checkPassword`).
pub const PASSWORD: &str = "sandbox-2fa-password";
pub const PASSWORD_HINT: &str = "the sandbox default";

/// Other users the account can talk to: (id, username, first name).
pub const OTHERS: &[(i64, &str, &str)] = &[
    (5_000_002, "alice_sandbox", "Alice"),
    (5_000_003, "bob_sandbox", "Bob"),
    (5_000_004, "carol_sandbox", "Carol"),
];

/// Channels: (bare id, username, title, kind).
pub const CHANNEL_ID: i64 = 1_500_000_001;
pub const SUPERGROUP_ID: i64 = 1_500_000_002;
pub const READONLY_CHANNEL_ID: i64 = 1_500_000_003;

/// What a channel is and what the account may do in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelKind {
    /// A broadcast channel the account owns: it may post, edit and delete.
    OwnedBroadcast,
    /// A supergroup (megagroup) the account owns.
    OwnedSupergroup,
    /// A broadcast channel the account joined but may not post in.
    ReadOnlyBroadcast,
}

impl ChannelKind {
    pub fn is_broadcast(self) -> bool {
        !matches!(self, ChannelKind::OwnedSupergroup)
    }

    pub fn is_owner(self) -> bool {
        !matches!(self, ChannelKind::ReadOnlyBroadcast)
    }
}

pub const CHANNELS: &[(i64, &str, &str, ChannelKind)] = &[
    (
        CHANNEL_ID,
        "sandbox_news",
        "Sandbox News",
        ChannelKind::OwnedBroadcast,
    ),
    (
        SUPERGROUP_ID,
        "sandbox_chat",
        "Sandbox Chat",
        ChannelKind::OwnedSupergroup,
    ),
    (
        READONLY_CHANNEL_ID,
        "sandbox_announcements",
        "Sandbox Announcements",
        ChannelKind::ReadOnlyBroadcast,
    ),
];

/// Where a seeded message lives.
#[derive(Clone, Copy, Debug)]
pub enum SeedChat {
    /// The private chat with this user.
    User(i64),
    Channel(i64),
}

/// Messages present at start: (chat, sender user id or None for a channel post, text).
/// Oldest first; dates count back from "now" one minute apart. Every chat the examples use
/// has some, so reading, editing and deleting show real output from the first request;
/// posts in the account's own broadcast channel are its own (outgoing, editable).
pub const SEED_MESSAGES: &[(SeedChat, Option<i64>, &str)] = &[
    (
        SeedChat::Channel(CHANNEL_ID),
        None,
        "Welcome to Sandbox News, the sandbox account's own channel.",
    ),
    (
        SeedChat::Channel(CHANNEL_ID),
        None,
        "Posts here can be edited and deleted through mtgate.",
    ),
    (
        SeedChat::Channel(CHANNEL_ID),
        None,
        "Read them back with GET /v1/messages/@sandbox_news.",
    ),
    (
        SeedChat::User(5_000_002),
        Some(5_000_002),
        "Hi Sandy, welcome to the sandbox!",
    ),
    (SeedChat::User(5_000_002), Some(ME_ID), "Thanks Alice."),
    (
        SeedChat::Channel(READONLY_CHANNEL_ID),
        None,
        "Sandbox maintenance is scheduled for never.",
    ),
    (
        SeedChat::Channel(READONLY_CHANNEL_ID),
        None,
        "Read-only channels can be read but not written.",
    ),
    (
        SeedChat::Channel(SUPERGROUP_ID),
        Some(5_000_003),
        "Hello group!",
    ),
];

/// The usernames of the starting peers, as printed by `mtgate sandbox` under `"world"`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct WorldNames {
    /// `@username` of the logged-in account.
    pub user: String,
    /// An owned broadcast channel.
    pub channel: String,
    /// An owned supergroup.
    pub supergroup: String,
    /// A channel the account reads but may not post in.
    pub readonly_channel: String,
    /// Other users.
    pub others: Vec<String>,
}

impl WorldNames {
    pub fn fixed() -> Self {
        let at = |name: &str| format!("@{name}");
        let channel_name = |id: i64| {
            CHANNELS
                .iter()
                .find(|c| c.0 == id)
                .map(|c| at(c.1))
                .expect("fixture channel")
        };
        WorldNames {
            user: at(ME_USERNAME),
            channel: channel_name(CHANNEL_ID),
            supergroup: channel_name(SUPERGROUP_ID),
            readonly_channel: channel_name(READONLY_CHANNEL_ID),
            others: OTHERS.iter().map(|o| at(o.1)).collect(),
        }
    }
}

/// The phone in international format, as a login prompt wants it.
pub fn phone_international() -> String {
    format!("+{ME_PHONE}")
}
