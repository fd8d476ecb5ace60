//! The one path every operation's Telegram call takes: invoke, then learn every usable peer
//! the answer carries (access hashes arrive only in answers, so none is wasted).

use grammers_tl_types as tl;

use super::TelegramAccount;
use super::answers::{MessagesPage, updates_peers};
use super::dialogs::DialogsAnswer;
use crate::telegram::TelegramError;
use crate::telegram::invoke::Waits;

type Peers<'a> = (&'a [tl::enums::User], &'a [tl::enums::Chat]);

/// A Telegram answer, with the users and chats it mentions.
pub trait CarriesPeers {
    fn peers(&self) -> Peers<'_>;
}

impl CarriesPeers for tl::enums::Updates {
    fn peers(&self) -> Peers<'_> {
        updates_peers(self)
    }
}

impl CarriesPeers for tl::enums::messages::Messages {
    fn peers(&self) -> Peers<'_> {
        let page = MessagesPage::of(self);
        (page.users, page.chats)
    }
}

impl CarriesPeers for Vec<tl::enums::User> {
    fn peers(&self) -> Peers<'_> {
        (self, &[])
    }
}

impl CarriesPeers for tl::enums::messages::Chats {
    fn peers(&self) -> Peers<'_> {
        match self {
            tl::enums::messages::Chats::Chats(c) => (&[], &c.chats),
            tl::enums::messages::Chats::Slice(c) => (&[], &c.chats),
        }
    }
}

impl CarriesPeers for tl::enums::contacts::ResolvedPeer {
    fn peers(&self) -> Peers<'_> {
        let tl::enums::contacts::ResolvedPeer::Peer(resolved) = self;
        (&resolved.users, &resolved.chats)
    }
}

impl CarriesPeers for tl::enums::messages::Dialogs {
    fn peers(&self) -> Peers<'_> {
        let answer = DialogsAnswer::of(self);
        (answer.users, answer.chats)
    }
}

impl CarriesPeers for tl::enums::messages::AffectedMessages {
    fn peers(&self) -> Peers<'_> {
        (&[], &[])
    }
}

/// `Bool` answers (`channels.readHistory`, `messages.setTyping`) name no one.
impl CarriesPeers for bool {
    fn peers(&self) -> Peers<'_> {
        (&[], &[])
    }
}

impl TelegramAccount {
    /// Sends `request` through the client manager and learns the peers of its answer.
    pub(super) async fn call<R>(&self, request: R) -> Result<R::Return, TelegramError>
    where
        R: tl::RemoteCall + tl::Identifiable + Send + Sync + 'static,
        R::Return: CarriesPeers,
    {
        self.call_in_chat(None, request).await
    }

    /// [`Self::call`] for a call that acts on `chat` (Bot-API id), so a flood wait learned
    /// there is remembered for that chat only.
    pub(super) async fn call_in_chat<R>(
        &self,
        chat: Option<i64>,
        request: R,
    ) -> Result<R::Return, TelegramError>
    where
        R: tl::RemoteCall + tl::Identifiable + Send + Sync + 'static,
        R::Return: CarriesPeers,
    {
        let answer = self.call_with(chat, request, Waits::Sleep).await?;
        Ok(*answer)
    }

    /// [`Self::call_in_chat`], choosing what happens to short flood waits; the answer stays
    /// boxed (see [`crate::telegram::ClientManager::invoke_boxed`]).
    pub(super) async fn call_with<R>(
        &self,
        chat: Option<i64>,
        request: R,
        waits: Waits,
    ) -> Result<Box<R::Return>, TelegramError>
    where
        R: tl::RemoteCall + tl::Identifiable + Send + Sync + 'static,
        R::Return: CarriesPeers,
    {
        let answer = self.manager.invoke_boxed(chat, request, waits).await?;
        let (users, chats) = answer.peers();
        self.peers.learn(users, chats);
        Ok(answer)
    }
}
