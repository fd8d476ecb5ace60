//! Accounts: each Telegram account mtgate serves is one [`Account`] — its name, its client
//! manager (one connection, reconnecting with backoff), its peer knowledge and health — and
//! the [`AccountRegistry`] is the one place that says which account a request means.
//!
//! Today the registry holds only `default` (the `TG_SESSION` account); more accounts plug in
//! through [`AccountRegistry::insert`], and handlers reach theirs through one extractor
//! (`api::account::CurrentAccount`), so "which account" is decided in a single seam.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use mtgate_session::StringSession;

use crate::config::Config;
use crate::domain::{
    ChatAction, ChatPage, DialogCursor, ForwardOptions, HistoryPage, MessageView, Peer, PeerSpec,
    SendOptions, SessionInfo,
};
use crate::events::Events;
use crate::store::{AccountStore, Store, StoreError, legacy};
use crate::telegram::health::HealthSnapshot;
use crate::telegram::invoke::Waits;
use crate::telegram::lease::LeaseGate;
use crate::telegram::metrics::Metrics;
use crate::telegram::resolver::PeerResolver;
use crate::telegram::session_store::{PersistentSession, auth_key_id};
use crate::telegram::text::FormattedText;
use crate::telegram::{ClientManager, ManagerOptions, TelegramAccount, TelegramError};

mod typing;
pub use typing::MAX_DURATION as MAX_ACTION_DURATION;

/// The name of the `TG_SESSION` account (`/v1/…` ≡ `/v1/accounts/default/…`).
pub const DEFAULT_ACCOUNT: &str = "default";

/// Time a request may take beyond the longest flood wait mtgate sleeps through itself.
const REQUEST_TIME_BUDGET: Duration = Duration::from_secs(30);

/// What one account is made of, before it starts.
#[derive(Debug)]
pub struct AccountSpec {
    /// `[a-z0-9_-]{1,32}`; also the `account` label of its metrics and logs.
    pub name: String,
    /// Its session, with any pinned DC address already applied.
    pub session: StringSession,
    /// The chat used when a request names none.
    pub default_peer: Option<PeerSpec>,
    /// A directory of the JSON state files written before the store, imported once into
    /// this account (only the `TG_SESSION` account has one).
    pub legacy_state_dir: Option<PathBuf>,
    /// With replicas: the gate the cluster opens while this replica holds the account's
    /// lease; the account connects only then. `None`: always connected.
    pub lease: Option<Arc<LeaseGate>>,
}

impl AccountSpec {
    /// The `TG_SESSION` account of `config`.
    pub fn default_of(config: &Config) -> Self {
        Self {
            name: DEFAULT_ACCOUNT.into(),
            session: config.session.clone(),
            default_peer: config.default_peer.clone(),
            legacy_state_dir: Some(config.state_dir.clone()),
            lease: None,
        }
    }
}

/// One Telegram account and everything mtgate keeps for it.
pub struct Account {
    name: String,
    telegram: Arc<TelegramAccount>,
    default_peer: Option<PeerSpec>,
    request_timeout: Duration,
    typing: typing::TypingKeeper,
}

impl Account {
    /// Opens the account's view of `store` (keyed by its name), bound to its session key,
    /// and starts connecting in the background; returns once the stored state is loaded.
    /// Fails only when the store cannot be used. Must run inside a Tokio runtime.
    pub async fn start(
        spec: AccountSpec,
        store: &Store,
        config: &Config,
        options: ManagerOptions,
        events: &Arc<Events>,
    ) -> Result<Self, StoreError> {
        let state = open_state(store, &spec).await?;
        let peers = PeerResolver::open(state.clone()).await?;
        let session = PersistentSession::open(state, &spec.session).await?;
        let manager = ClientManager::start_gated(
            config,
            &spec.session,
            Arc::new(session),
            Arc::new(Metrics::new()),
            options,
            spec.lease.clone(),
            events.sink(&spec.name),
        );
        Ok(Self {
            name: spec.name,
            telegram: Arc::new(TelegramAccount::new(manager, Arc::new(peers))),
            default_peer: spec.default_peer,
            request_timeout: config.flood_sleep_max + REQUEST_TIME_BUDGET,
            typing: typing::TypingKeeper::default(),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The chat used when a request names none.
    pub fn default_peer(&self) -> Option<&PeerSpec> {
        self.default_peer.as_ref()
    }

    /// How long one request may take before it is answered `504 TIMEOUT`: the longest flood
    /// wait mtgate sleeps through plus a working budget.
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    /// The connection's health, from memory (never waits on Telegram).
    pub fn health(&self) -> HealthSnapshot {
        self.telegram.manager().health()
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        self.telegram.manager().metrics()
    }

    /// The Telegram side (client manager, peer cache), for the runtime and tests.
    pub fn telegram(&self) -> &TelegramAccount {
        &self.telegram
    }

    pub async fn send(
        &self,
        peer: &PeerSpec,
        text: &FormattedText,
        options: SendOptions,
        random_id: i64,
    ) -> Result<MessageView, TelegramError> {
        self.telegram.send(peer, text, options, random_id).await
    }

    /// [`Self::send`] for the outbox: every flood wait comes back at once (none is slept
    /// through), so the scheduler parks the chat instead of a send holding on.
    pub async fn send_queued(
        &self,
        peer: &PeerSpec,
        text: &FormattedText,
        options: SendOptions,
        random_id: i64,
    ) -> Result<MessageView, TelegramError> {
        self.telegram
            .send_with(peer, text, options, random_id, Waits::Return)
            .await
    }

    pub async fn edit(
        &self,
        peer: &PeerSpec,
        id: i32,
        text: &FormattedText,
        link_preview: bool,
    ) -> Result<MessageView, TelegramError> {
        self.telegram.edit(peer, id, text, link_preview).await
    }

    pub async fn delete(
        &self,
        peer: &PeerSpec,
        ids: &[i32],
        revoke: bool,
    ) -> Result<usize, TelegramError> {
        self.telegram.delete(peer, ids, revoke).await
    }

    pub async fn history(
        &self,
        peer: &PeerSpec,
        limit: usize,
        before_id: Option<i32>,
    ) -> Result<HistoryPage, TelegramError> {
        self.telegram.history(peer, limit, before_id).await
    }

    pub async fn describe(&self, peer: &PeerSpec) -> Result<Peer, TelegramError> {
        self.telegram.describe(peer).await
    }

    /// Every form this account already knows `peer`'s chat by (no Telegram call).
    pub fn known_forms(&self, peer: &PeerSpec) -> Vec<PeerSpec> {
        self.telegram.known_forms(peer)
    }

    pub async fn session_info(&self) -> Result<SessionInfo, TelegramError> {
        self.telegram.session_info().await
    }

    /// Disconnects (after the HTTP server drained). What it learned is queued to the store,
    /// which the app flushes and closes after every account stopped.
    pub async fn shutdown(&self) {
        self.telegram.manager().shutdown().await;
    }
}

/// The account's view of the store: bound to its session key (a new key resets what was
/// learned under the old one), with the previous layout's files imported once.
async fn open_state(store: &Store, spec: &AccountSpec) -> Result<AccountStore, StoreError> {
    let state = store.account(&spec.name);
    let key_id = auth_key_id(&spec.session.auth_key);
    if state.bind_session(key_id).await? {
        tracing::warn!(
            account = %spec.name,
            "the session has a new key: the state learned under the old one was reset"
        );
    }
    if let Some(dir) = &spec.legacy_state_dir {
        legacy::import(dir, &state, key_id).await?;
    }
    Ok(state)
}

/// Every account of this process, by name; `default` always exists.
pub struct AccountRegistry {
    default: Arc<Account>,
    others: BTreeMap<String, Arc<Account>>,
}

impl AccountRegistry {
    pub fn new(default: Account) -> Self {
        Self {
            default: Arc::new(default),
            others: BTreeMap::new(),
        }
    }

    /// Adds an account under its name (replacing one of the same name; never `default`).
    pub fn insert(&mut self, account: Account) {
        if account.name() != DEFAULT_ACCOUNT {
            self.others.insert(account.name.clone(), Arc::new(account));
        }
    }

    /// The `TG_SESSION` account.
    pub fn default(&self) -> &Arc<Account> {
        &self.default
    }

    /// The account called `name`, if there is one.
    pub fn get(&self, name: &str) -> Option<&Arc<Account>> {
        if name == DEFAULT_ACCOUNT {
            Some(&self.default)
        } else {
            self.others.get(name)
        }
    }

    /// Every account, `default` first, the others by name.
    pub fn all(&self) -> impl Iterator<Item = &Arc<Account>> {
        std::iter::once(&self.default).chain(self.others.values())
    }

    /// Shuts every account down, one after the other.
    pub async fn shutdown(&self) {
        for account in self.all() {
            account.shutdown().await;
        }
    }
}

/// The chat actions (forward, pin, read, typing) and the chat list.
impl Account {
    pub async fn forward(
        &self,
        from: &PeerSpec,
        id: i32,
        to: &PeerSpec,
        options: ForwardOptions,
        random_id: i64,
    ) -> Result<MessageView, TelegramError> {
        self.telegram
            .forward(from, id, to, options, random_id)
            .await
    }

    pub async fn set_pinned(
        &self,
        peer: &PeerSpec,
        id: i32,
        pinned: bool,
        silent: bool,
    ) -> Result<(), TelegramError> {
        self.telegram.set_pinned(peer, id, pinned, silent).await
    }

    pub async fn mark_read(
        &self,
        peer: &PeerSpec,
        max_id: Option<i32>,
    ) -> Result<(), TelegramError> {
        self.telegram.mark_read(peer, max_id).await
    }

    /// Shows `action` in `peer`'s chat now and, with a `duration`, keeps it showing until
    /// then (a later action for the chat, or `cancel`, replaces it).
    pub async fn send_action(
        &self,
        peer: &PeerSpec,
        action: ChatAction,
        duration: Option<Duration>,
    ) -> Result<(), TelegramError> {
        let until = duration.map(|d| tokio::time::Instant::now() + d);
        let sent = self.telegram.send_action(peer, action).await;
        let until = until.filter(|_| sent.is_ok());
        self.typing.keep(&self.telegram, peer, action, until);
        sent
    }

    pub async fn chats(
        &self,
        limit: usize,
        cursor: Option<DialogCursor>,
    ) -> Result<ChatPage, TelegramError> {
        self.telegram.chats(limit, cursor).await
    }
}
