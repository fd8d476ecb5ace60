//! The world: what Telegram does with each call.
//!
//! [`World`] implements the wire's [`Backend`]: it peels wrappers, checks that the key may
//! call the method, applies injected faults, runs the method's handler against the locked
//! state and records the call in the request log. The same struct offers the
//! control operations (ground truth, incoming messages, faults, reset, QR acceptance) that the
//! control API and the in-process handle expose.

mod dispatch;
mod entities;
pub mod error;
pub mod faults;
pub mod fixture;
mod full_info;
mod handlers;
mod lenient;
pub mod limits;
pub mod log;
pub mod model;
mod peers;
pub mod population;
mod pts;
mod secrets;
mod srp;
mod state;
mod to_tl;
mod views;

use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use grammers_tl_types::{self as tl, Serializable};

use crate::rpc::{AUTH_KEY_LEN, Backend, CallOrigin, RpcOutcome, UpdateBus};
use error::RpcErr;
use faults::InjectedError;
pub use fixture::WorldNames;
use handlers::Ctx;
pub use handlers::{IncomingError, SANDBOX_DC};
use log::CallFacts;
pub use log::RequestLogEntry;
use secrets::Secrets;
use state::State;
pub use views::{MessageView, PeerView};

/// Telegram's behaviour over a fixed starting world. One per sandbox; no global state.
pub struct World {
    secrets: Secrets,
    bus: UpdateBus,
    state: Mutex<State>,
}

fn now() -> i32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i32)
        .unwrap_or(0)
}

/// Why a control operation could not be done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    #[error("unknown peer {0}")]
    UnknownPeer(String),
    #[error(transparent)]
    Incoming(#[from] IncomingError),
    #[error("no QR login token is waiting to be accepted")]
    NoPendingLoginToken,
}

impl World {
    /// A fresh world with new random auth keys and access hashes; updates for live
    /// connections go out through `bus`.
    pub fn new(bus: UpdateBus) -> Self {
        let secrets = Secrets::generate();
        let state = State::initial(&secrets, now(), None);
        World {
            secrets,
            bus,
            state: Mutex::new(state),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A handler that panicked left a consistent-enough world; keep serving.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The key logged in as the account at start (and after every reset).
    pub fn session_key(&self) -> [u8; AUTH_KEY_LEN] {
        self.secrets.authorized.key
    }

    /// A known key with no user, for login flows.
    pub fn unauthorized_key(&self) -> [u8; AUTH_KEY_LEN] {
        self.secrets.unauthorized.key
    }

    /// `(@username, key)` of the keys logged in as each other user at start.
    pub fn other_keys(&self) -> Vec<(String, [u8; AUTH_KEY_LEN])> {
        fixture::OTHERS
            .iter()
            .zip(&self.secrets.others)
            .map(|(&(_, username, _), key)| (format!("@{username}"), key.key))
            .collect()
    }

    pub fn names(&self) -> WorldNames {
        WorldNames::fixed()
    }

    /// Every handled call so far, in order.
    pub fn requests(&self) -> Vec<RequestLogEntry> {
        self.lock().log.clone()
    }

    /// What the sandbox holds for a chat, newest first (`peer` as the control API writes it).
    pub fn chat_messages(&self, peer: &str) -> Result<Vec<MessageView>, ControlError> {
        self.chat_messages_as(None, peer)
    }

    /// Like [`World::chat_messages`], seen by another user of the world (`@username` or id;
    /// `None`: the account): private chats are per user, channels the same for everyone.
    pub fn chat_messages_as(
        &self,
        viewer: Option<&str>,
        peer: &str,
    ) -> Result<Vec<MessageView>, ControlError> {
        let mut state = self.lock();
        let viewer = match viewer {
            None => fixture::ME_ID,
            Some(name) => match state.parse_peer(name) {
                Some(model::ChatKey::User(id)) => id,
                _ => return Err(ControlError::UnknownPeer(name.to_string())),
            },
        };
        state.with_viewer(viewer, |state| Self::view_chat(state, peer))
    }

    fn view_chat(state: &mut State, peer: &str) -> Result<Vec<MessageView>, ControlError> {
        let chat = state
            .parse_peer(peer)
            .ok_or_else(|| ControlError::UnknownPeer(peer.to_string()))?;
        Ok(state
            .history(chat)
            .into_iter()
            .map(|m| MessageView::of(m, state.channel_kind(chat), state.is_read(m)))
            .collect())
    }

    /// Fails the next `times` calls of `method` with the given rpc_error.
    pub fn inject_rpc_error(&self, error: InjectedError) {
        self.lock().faults.add(error);
    }

    /// Sets the sending limits (`chat=1/s,group=20/m,account=30/s`, or `off`).
    pub fn set_limits(&self, rates: limits::Rates) {
        self.lock().limits.set_rates(rates);
    }

    /// Slow mode of `seconds` (0: off) on the supergroup `peer`.
    pub fn set_slow_mode(&self, peer: &str, seconds: u32) -> Result<(), ControlError> {
        let mut state = self.lock();
        let chat = match state.parse_peer(peer) {
            Some(chat @ model::ChatKey::Channel(_))
                if state.channel_kind(chat).is_some_and(|k| !k.is_broadcast()) =>
            {
                chat
            }
            _ => return Err(ControlError::UnknownPeer(peer.to_string())),
        };
        state.limits.set_slow_mode(chat, seconds);
        Ok(())
    }

    /// `@username` of the user a known key was issued for (`None` for the unauthorized key).
    pub fn key_owner(&self, auth_key_id: i64) -> Option<String> {
        let user = self
            .secrets
            .keys()
            .into_iter()
            .find(|k| k.id == auth_key_id)?
            .starts_as?;
        let state = self.lock();
        state.users.get(&user).map(|u| format!("@{}", u.username))
    }

    /// Logs every key out, as "terminate all sessions" does: calls get AUTH_KEY_UNREGISTERED.
    pub fn revoke_sessions(&self) {
        for key in self.lock().keys.values_mut() {
            *key = state::KeyState::default();
        }
    }

    /// Logs out every key logged in as `user` (`@username` or id), as that user's "terminate
    /// all sessions" does; other users' keys keep working.
    pub fn revoke_user(&self, user: &str) -> Result<(), ControlError> {
        let mut state = self.lock();
        let Some(model::ChatKey::User(id)) = state.parse_peer(user) else {
            return Err(ControlError::UnknownPeer(user.to_string()));
        };
        for key in state.keys.values_mut().filter(|k| k.user == Some(id)) {
            *key = state::KeyState::default();
        }
        Ok(())
    }

    /// Back to the starting world: same keys and hashes, initial messages and logins, empty
    /// request log, no pending faults. Pts only move forward, so live clients stay sane.
    pub fn reset(&self) {
        let mut state = self.lock();
        *state = State::initial(&self.secrets, now(), Some(&state));
    }

    /// Delivers `text` from user `from` to the account, in the private chat with `from`, or
    /// in `peer` (a channel or supergroup) when given, pushed live to the account's sessions.
    pub fn incoming(
        &self,
        from: &str,
        peer: Option<&str>,
        text: &str,
    ) -> Result<MessageView, ControlError> {
        let mut state = self.lock();
        let sender = match state.parse_peer(from) {
            Some(model::ChatKey::User(id)) => id,
            _ => return Err(IncomingError::UnknownSender(from.to_string()).into()),
        };
        let chat = match peer {
            None => model::ChatKey::User(sender),
            Some(peer) => match state.parse_peer(peer) {
                // A private chat is always the one with the sender, whichever side is named.
                Some(model::ChatKey::User(_)) => model::ChatKey::User(sender),
                Some(chat) => chat,
                None => return Err(IncomingError::UnknownPeer(peer.to_string()).into()),
            },
        };
        let message = handlers::deliver_incoming(&mut state, &self.bus, sender, chat, text, now())?;
        Ok(MessageView::of(
            &message,
            state.channel_kind(chat),
            state.is_read(&message),
        ))
    }

    /// Accepts a pending QR login token (the one given, or the most recently exported one)
    /// as if the account scanned it: the exporting key is told with `updateLoginToken`, and
    /// its next `auth.exportLoginToken` completes the login.
    pub fn accept_login_token(&self, token: Option<&[u8]>) -> Result<(), ControlError> {
        let mut state = self.lock();
        let mut candidates: Vec<(i64, &mut state::QrToken)> = state
            .keys
            .iter_mut()
            .filter_map(|(id, key)| key.qr_token.as_mut().map(|t| (*id, t)))
            .filter(|(_, t)| !t.accepted && token.is_none_or(|wanted| t.token == wanted))
            .collect();
        candidates.sort_by_key(|(_, t)| std::cmp::Reverse(t.expires));
        let (key_id, pending) = candidates
            .into_iter()
            .next()
            .ok_or(ControlError::NoPendingLoginToken)?;
        pending.accepted = true;
        let update: tl::enums::Updates = tl::types::UpdateShort {
            update: tl::enums::Update::LoginToken,
            date: now(),
        }
        .into();
        self.bus.publish(crate::rpc::Push {
            auth_key_id: key_id,
            updates: update.to_bytes(),
        });
        Ok(())
    }

    /// Runs one peeled call against the locked state: faults first, then the login check,
    /// then the method.
    fn handle(
        &self,
        state: &mut State,
        origin: CallOrigin,
        body: Option<Vec<u8>>,
    ) -> (String, Result<Vec<u8>, RpcErr>, CallFacts) {
        let Some(body) = body else {
            return (
                "(malformed)".into(),
                Err(RpcErr::bad("INPUT_REQUEST_INVALID")),
                CallFacts::default(),
            );
        };
        let constructor_id = u32::from_le_bytes(body[..4].try_into().expect("peel checks 4 bytes"));
        let method = dispatch::method_name(constructor_id);
        if state.old_layer_connections.contains(&origin.connection_id) {
            // grammers and others read the trailing number as the error's value.
            let name = format!("CONNECTION_LAYER_INVALID_{}", tl::LAYER);
            return (method, Err(RpcErr::bad(&name)), CallFacts::default());
        }
        if let Some((code, message)) = state.faults.take(&method) {
            return (
                method,
                Err(RpcErr {
                    code,
                    name: message,
                }),
                CallFacts::default(),
            );
        }
        let user = match state.keys.get(&origin.auth_key_id) {
            None => {
                return (
                    method,
                    Err(RpcErr::unauthorized("AUTH_KEY_UNREGISTERED")),
                    CallFacts::default(),
                );
            }
            Some(key) => key.user,
        };
        if user.is_none() && !handlers::allowed_without_login(&method) {
            return (
                method,
                Err(RpcErr::unauthorized("AUTH_KEY_UNREGISTERED")),
                CallFacts::default(),
            );
        }
        // The call sees the world as its key's user does (a key not logged in: as the
        // account it is logging in to).
        let viewer = user.unwrap_or(fixture::ME_ID);
        state.with_viewer(viewer, |state| {
            let mut ctx = Ctx {
                state,
                secrets: &self.secrets,
                bus: &self.bus,
                key_id: origin.auth_key_id,
                now: now(),
                facts: CallFacts::default(),
            };
            let result = handlers::route(&mut ctx, constructor_id, &body);
            (method, result, ctx.facts)
        })
    }
}

impl Backend for World {
    fn auth_key(&self, auth_key_id: i64) -> Option<[u8; AUTH_KEY_LEN]> {
        self.secrets
            .keys()
            .into_iter()
            .find(|k| k.id == auth_key_id)
            .map(|k| k.key)
    }

    fn key_duplicated(&self, auth_key_id: i64) {
        if let Some(key) = self.lock().keys.get_mut(&auth_key_id) {
            *key = state::KeyState::default();
        }
    }

    fn call(&self, origin: CallOrigin, body: &[u8]) -> RpcOutcome {
        let layer = dispatch::announced_layer(body);
        let client = dispatch::client_info(body);
        let body = dispatch::peel(body).map(|mut body| {
            lenient::normalize(&mut body);
            body
        });
        let mut state = self.lock();
        if let (Some(client), Some(key)) = (client, state.keys.get_mut(&origin.auth_key_id)) {
            key.client = Some(client);
        }
        match layer {
            // Older layers name other constructors: refuse them by name rather than misread.
            Some(layer) if layer < tl::LAYER => {
                state.old_layer_connections.insert(origin.connection_id)
            }
            Some(_) => state.old_layer_connections.remove(&origin.connection_id),
            None => false,
        };
        let (method, result, facts) = self.handle(&mut state, origin, body);
        let entry = RequestLogEntry {
            method,
            peer: facts.peer,
            text: facts.text,
            action: facts.action,
            ok: result.is_ok(),
            error: result.as_ref().err().map(|e| e.name.clone()),
        };
        state.log.push(entry);
        drop(state);
        match result {
            Ok(bytes) => RpcOutcome::Result(bytes),
            Err(RpcErr { code, name }) => RpcOutcome::Error {
                code,
                message: name,
            },
        }
    }
}

#[cfg(test)]
mod tests;
