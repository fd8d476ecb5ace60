//! The mutable world: peers, messages per chat, id and pts sequences, per-key login state,
//! the request log and pending faults. Built from the fixture by [`State::initial`].
//!
//! Private chats are per user, as on Telegram: the account's own (`fixture::ME_ID`) live in
//! `chats` with its `account_box`, every other user's in its [`Mailbox`]. Which user's copy a
//! method sees is [`State::viewer`]: the user the calling key is logged in as, set for the
//! length of one call (the account itself the rest of the time, e.g. for the control API).
//! Channels are shared by everyone.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use super::faults::Faults;
use super::fixture::{self, ChannelKind, SeedChat};
use super::limits::Limits;
use super::log::RequestLogEntry;
use super::media::{Blob, Media, Uploads};
use super::model::{ChannelRecord, ChatKey, StoredMessage, UserRecord};
use super::pts::PtsBox;
use super::secrets::Secrets;
use super::srp::SrpChallenge;

/// Login progress and authorization of one auth key.
#[derive(Clone, Debug, Default)]
pub struct KeyState {
    /// The user this key is logged in as.
    pub user: Option<i64>,
    /// `auth.sendCode` was answered with this `phone_code_hash`.
    pub pending_code: Option<String>,
    /// The code was right and the account has 2FA: `auth.checkPassword` is next.
    pub awaiting_password: bool,
    /// The last `account.getPassword` challenge.
    pub srp: Option<SrpChallenge>,
    /// The last QR login token exported by this key.
    pub qr_token: Option<QrToken>,
    /// What the client said about itself in its last `initConnection`.
    pub client: Option<super::dispatch::ClientInfo>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QrToken {
    pub token: Vec<u8>,
    pub expires: i32,
    /// Accepted through the control API: the next export completes the login.
    pub accepted: bool,
}

/// Another user's private chats, message id sequence and pts box.
pub struct Mailbox {
    /// By the other side's user id.
    pub chats: HashMap<i64, BTreeMap<i32, StoredMessage>>,
    pub pts: PtsBox,
    pub next_id: i32,
}

impl Mailbox {
    fn new(pts: i32) -> Self {
        Self {
            chats: HashMap::new(),
            pts: PtsBox::starting_at(pts),
            next_id: 1,
        }
    }
}

pub struct State {
    /// Whose eyes the current call sees through (see the module docs).
    pub viewer: i64,
    /// Every user's but the account's private chats.
    pub mailboxes: HashMap<i64, Mailbox>,
    pub users: BTreeMap<i64, UserRecord>,
    pub channels: BTreeMap<i64, ChannelRecord>,
    pub chats: HashMap<ChatKey, BTreeMap<i32, StoredMessage>>,
    /// The account's common pts box (its private chats).
    pub account_box: PtsBox,
    pub channel_boxes: HashMap<i64, PtsBox>,
    /// Private chats share the account's message id sequence; channels count their own.
    pub next_private_id: i32,
    pub next_channel_id: HashMap<i64, i32>,
    /// `random_id` → the serialized reply of the send that used it, so a re-sent request
    /// answers the same message instead of creating a second one.
    pub sent_by_random_id: HashMap<i64, Vec<u8>>,
    pub keys: HashMap<i64, KeyState>,
    /// The highest incoming message id the account has read, per chat (0 when absent).
    pub read_inbox: HashMap<ChatKey, i32>,
    /// Connections that announced a layer older than the sandbox speaks: every call on them
    /// is refused, as their objects cannot be decoded.
    pub old_layer_connections: HashSet<u64>,
    pub log: Vec<RequestLogEntry>,
    pub faults: Faults,
    /// Sending limits (off unless configured); their configuration survives a reset.
    pub limits: Limits,
    /// Files being uploaded, part by part.
    pub uploads: Uploads,
    /// Photos and documents by id (what `upload.getFile` and `inputMediaPhoto` name).
    pub media: HashMap<i64, Arc<Media>>,
    /// Assembled files by SHA-256: the same content uploaded twice is held once.
    pub blobs: HashMap<String, Arc<Blob>>,
}

/// Seeded messages are spaced this far apart, ending shortly before start.
const SEED_SPACING_SECS: i32 = 60;

impl State {
    /// The starting world. `previous` keeps pts monotonic across a reset so live clients
    /// never see their sequence go backwards.
    pub fn initial(secrets: &Secrets, now: i32, previous: Option<&State>) -> Self {
        let mut users = BTreeMap::new();
        users.insert(
            fixture::ME_ID,
            UserRecord {
                id: fixture::ME_ID,
                access_hash: secrets.access_hash(fixture::ME_ID),
                first_name: fixture::ME_FIRST_NAME.into(),
                last_name: Some(fixture::ME_LAST_NAME.into()),
                username: fixture::ME_USERNAME.into(),
                phone: Some(fixture::ME_PHONE.into()),
            },
        );
        for &(id, username, first_name) in fixture::OTHERS {
            users.insert(
                id,
                UserRecord {
                    id,
                    access_hash: secrets.access_hash(id),
                    first_name: first_name.into(),
                    last_name: None,
                    username: username.into(),
                    phone: None,
                },
            );
        }
        let channels = fixture::CHANNELS
            .iter()
            .map(|&(id, username, title, kind)| {
                let record = ChannelRecord {
                    id,
                    access_hash: secrets.access_hash(id),
                    title: title.into(),
                    username: username.into(),
                    kind,
                    date: now - 86_400,
                };
                (id, record)
            })
            .collect::<BTreeMap<_, _>>();

        let mut state = State {
            viewer: fixture::ME_ID,
            mailboxes: fixture::OTHERS
                .iter()
                .map(|&(id, _, _)| (id, Mailbox::new(1)))
                .collect(),
            users,
            account_box: PtsBox::starting_at(1),
            channel_boxes: channels
                .keys()
                .map(|&id| (id, PtsBox::starting_at(1)))
                .collect(),
            channels,
            chats: HashMap::new(),
            next_private_id: 1,
            next_channel_id: HashMap::new(),
            sent_by_random_id: HashMap::new(),
            keys: secrets
                .keys()
                .iter()
                .map(|k| {
                    let user = k.starts_as;
                    (
                        k.id,
                        KeyState {
                            user,
                            ..KeyState::default()
                        },
                    )
                })
                .collect(),
            read_inbox: HashMap::new(),
            old_layer_connections: HashSet::new(),
            log: Vec::new(),
            faults: Faults::default(),
            limits: previous.map(|p| p.limits.fresh()).unwrap_or_default(),
            uploads: Uploads::default(),
            media: HashMap::new(),
            blobs: HashMap::new(),
        };

        let seeds = fixture::SEED_MESSAGES.len() as i32;
        for (i, &(chat, from, text)) in fixture::SEED_MESSAGES.iter().enumerate() {
            let date = now - (seeds - i as i32) * SEED_SPACING_SECS;
            let seed = |chat, out| StoredMessage {
                id: 0,
                chat,
                from,
                out,
                date,
                text: text.into(),
                entities: Vec::new(),
                edit_date: None,
                reply_to: None,
                silent: false,
                link_preview: true,
                pinned: false,
                fwd_from: None,
                media: None,
                grouped_id: None,
            };
            match chat {
                SeedChat::Channel(id) => {
                    // A post in a broadcast channel the account owns was written by it.
                    let chat = ChatKey::Channel(id);
                    let own_post = from.is_none()
                        && state.channel_kind(chat) == Some(fixture::ChannelKind::OwnedBroadcast);
                    state.seed(seed(chat, from == Some(fixture::ME_ID) || own_post));
                }
                SeedChat::User(peer) => {
                    state.seed(seed(ChatKey::User(peer), from == Some(fixture::ME_ID)));
                    // The other side holds its own copy.
                    state.with_viewer(peer, |state| {
                        state.seed(seed(ChatKey::User(fixture::ME_ID), from == Some(peer)))
                    });
                }
            }
        }
        // The account has read everything that happened before the sandbox started.
        state.read_inbox = state
            .chats
            .iter()
            .filter_map(|(chat, messages)| Some((*chat, *messages.keys().next_back()?)))
            .collect();
        for pts_box in std::iter::once(&mut state.account_box)
            .chain(state.channel_boxes.values_mut())
            .chain(state.mailboxes.values_mut().map(|m| &mut m.pts))
        {
            pts_box.clear_log();
        }
        if let Some(previous) = previous {
            state.account_box = keep_ahead(&state.account_box, &previous.account_box);
            for (id, mailbox) in state.mailboxes.iter_mut() {
                if let Some(old) = previous.mailboxes.get(id) {
                    mailbox.pts = keep_ahead(&mailbox.pts, &old.pts);
                }
            }
            for (id, pts_box) in state.channel_boxes.iter_mut() {
                if let Some(old) = previous.channel_boxes.get(id) {
                    *pts_box = keep_ahead(pts_box, old);
                }
            }
        }
        state
    }

    /// Stores a message present at start, counting it towards pts as Telegram would have.
    fn seed(&mut self, mut message: StoredMessage) {
        message.id = self.next_message_id(message.chat);
        let chat = message.chat;
        self.store(message);
        self.pts_box(chat).advance(1);
    }

    /// The viewer's own record.
    pub fn me(&self) -> &UserRecord {
        &self.users[&self.viewer]
    }

    /// Runs `f` seeing through `user`'s eyes, then back to the current viewer.
    pub fn with_viewer<R>(&mut self, user: i64, f: impl FnOnce(&mut Self) -> R) -> R {
        let previous = std::mem::replace(&mut self.viewer, user);
        let result = f(self);
        self.viewer = previous;
        result
    }

    fn is_account(&self) -> bool {
        self.viewer == fixture::ME_ID
    }

    /// The viewer's mailbox (never the account's: it has `chats` and `account_box`).
    fn mailbox(&mut self) -> &mut Mailbox {
        self.mailboxes
            .entry(self.viewer)
            .or_insert_with(|| Mailbox::new(1))
    }

    /// Takes the next message id of `chat`'s sequence.
    pub fn next_message_id(&mut self, chat: ChatKey) -> i32 {
        let counter = match chat {
            ChatKey::User(_) if self.is_account() => &mut self.next_private_id,
            ChatKey::User(_) => &mut self.mailbox().next_id,
            ChatKey::Channel(id) => self.next_channel_id.entry(id).or_insert(1),
        };
        let id = *counter;
        *counter += 1;
        id
    }

    /// The viewer's messages of `chat` (shared ones for a channel).
    fn chat_mut(&mut self, chat: ChatKey) -> &mut BTreeMap<i32, StoredMessage> {
        match chat {
            ChatKey::User(peer) if !self.is_account() => {
                self.mailbox().chats.entry(peer).or_default()
            }
            _ => self.chats.entry(chat).or_default(),
        }
    }

    fn chat(&self, chat: ChatKey) -> Option<&BTreeMap<i32, StoredMessage>> {
        match chat {
            ChatKey::User(peer) if !self.is_account() => self
                .mailboxes
                .get(&self.viewer)
                .and_then(|m| m.chats.get(&peer)),
            _ => self.chats.get(&chat),
        }
    }

    pub fn store(&mut self, message: StoredMessage) {
        self.chat_mut(message.chat).insert(message.id, message);
    }

    /// Removes a message; whether it was there.
    pub fn remove_message(&mut self, chat: ChatKey, id: i32) -> bool {
        self.chat_mut(chat).remove(&id).is_some()
    }

    /// The pts box updates about `chat` advance.
    pub fn pts_box(&mut self, chat: ChatKey) -> &mut PtsBox {
        match chat {
            ChatKey::User(_) => self.private_box(),
            ChatKey::Channel(id) => self
                .channel_boxes
                .get_mut(&id)
                .expect("every channel has a pts box"),
        }
    }

    /// The viewer's common pts box (its private chats).
    pub fn private_box(&mut self) -> &mut PtsBox {
        if self.is_account() {
            &mut self.account_box
        } else {
            &mut self.mailbox().pts
        }
    }

    /// The viewer's current common pts.
    pub fn private_pts(&self) -> i32 {
        match self.mailboxes.get(&self.viewer) {
            Some(mailbox) if !self.is_account() => mailbox.pts.pts(),
            _ => self.account_box.pts(),
        }
    }

    pub fn message(&self, chat: ChatKey, id: i32) -> Option<&StoredMessage> {
        self.chat(chat).and_then(|messages| messages.get(&id))
    }

    /// A private-chat message by id, whichever of the viewer's private chats holds it (ids
    /// are per user).
    pub fn private_message(&self, id: i32) -> Option<&StoredMessage> {
        if self.is_account() {
            self.chats
                .iter()
                .filter(|(chat, _)| matches!(chat, ChatKey::User(_)))
                .find_map(|(_, messages)| messages.get(&id))
        } else {
            self.mailboxes
                .get(&self.viewer)?
                .chats
                .values()
                .find_map(|messages| messages.get(&id))
        }
    }

    /// A chat's messages, newest first.
    pub fn history(&self, chat: ChatKey) -> Vec<&StoredMessage> {
        self.chat(chat)
            .map(|messages| messages.values().rev().collect())
            .unwrap_or_default()
    }

    /// The highest incoming message id the account has read in `chat`.
    pub fn read_max(&self, chat: ChatKey) -> i32 {
        self.read_inbox.get(&chat).copied().unwrap_or(0)
    }

    /// Whether the account has read `message` (its own messages always count as read).
    pub fn is_read(&self, message: &StoredMessage) -> bool {
        message.out || message.id <= self.read_max(message.chat)
    }

    /// Incoming messages in `chat` the account has not read yet.
    pub fn unread_count(&self, chat: ChatKey) -> i32 {
        let read = self.read_max(chat);
        self.chats.get(&chat).map_or(0, |messages| {
            messages.range(read + 1..).filter(|(_, m)| !m.out).count() as i32
        })
    }

    /// The newest pinned message of `chat`, as `pinned_msg_id` names it.
    pub fn pinned_id(&self, chat: ChatKey) -> Option<i32> {
        self.history(chat)
            .into_iter()
            .find(|m| m.pinned)
            .map(|m| m.id)
    }

    /// The keys currently logged in as `user_id`.
    pub fn keys_of(&self, user_id: i64) -> Vec<i64> {
        let mut keys: Vec<i64> = self
            .keys
            .iter()
            .filter(|(_, state)| state.user == Some(user_id))
            .map(|(id, _)| *id)
            .collect();
        keys.sort_unstable();
        keys
    }

    /// The stored copy of `bytes` (an existing one when the same content is already held).
    pub fn intern_blob(&mut self, bytes: Vec<u8>) -> Arc<Blob> {
        let blob = Blob::new(bytes);
        self.blobs
            .entry(blob.sha256.clone())
            .or_insert_with(|| Arc::new(blob))
            .clone()
    }

    pub fn channel_kind(&self, chat: ChatKey) -> Option<ChannelKind> {
        match chat {
            ChatKey::Channel(id) => self.channels.get(&id).map(|c| c.kind),
            ChatKey::User(_) => None,
        }
    }
}

fn keep_ahead(fresh: &PtsBox, old: &PtsBox) -> PtsBox {
    PtsBox::starting_at(fresh.pts().max(old.pts()))
}
