//! The world driven exactly as the wire drives it: serialized requests through
//! [`Backend::call`], results decoded with grammers' own TL types.

use grammers_tl_types::{self as tl, Deserializable, RemoteCall};

use super::*;

mod actions;
mod calls;
mod control;
mod login;
mod messages;
mod updates;
use crate::rpc::{CallOrigin, RpcOutcome};

pub(super) struct Harness {
    pub(super) world: World,
    pub(super) bus: UpdateBus,
}

pub(super) fn harness() -> Harness {
    let bus = UpdateBus::new();
    Harness {
        world: World::new(bus.clone()),
        bus,
    }
}

fn origin(key_id: i64) -> CallOrigin {
    CallOrigin {
        auth_key_id: key_id,
        connection_id: 1,
        session_id: 7,
    }
}

impl Harness {
    pub(super) fn key(&self) -> i64 {
        secrets::auth_key_id(&self.world.session_key())
    }

    pub(super) fn unauthorized(&self) -> i64 {
        secrets::auth_key_id(&self.world.unauthorized_key())
    }

    pub(super) fn raw(&self, key: i64, body: Vec<u8>) -> Result<Vec<u8>, (i32, String)> {
        match self.world.call(origin(key), &body) {
            RpcOutcome::Result(bytes) => Ok(bytes),
            RpcOutcome::Error { code, message } => Err((code, message)),
        }
    }

    pub(super) fn call_as<R: RemoteCall>(
        &self,
        key: i64,
        request: &R,
    ) -> Result<R::Return, (i32, String)> {
        self.raw(key, request.to_bytes()).map(|bytes| {
            R::Return::from_bytes(&bytes).expect("reply decodes as the method's return type")
        })
    }

    pub(super) fn call<R: RemoteCall>(&self, request: &R) -> Result<R::Return, (i32, String)> {
        self.call_as(self.key(), request)
    }

    pub(super) fn ok<R: RemoteCall>(&self, request: &R) -> R::Return {
        self.call(request).expect("call succeeds")
    }

    pub(super) fn input_peer(&self, username: &str) -> tl::enums::InputPeer {
        let resolved = self.ok(&tl::functions::contacts::ResolveUsername {
            username: username.into(),
            referer: None,
        });
        let tl::enums::contacts::ResolvedPeer::Peer(resolved) = resolved;
        match resolved.peer {
            tl::enums::Peer::User(u) => {
                let hash = resolved
                    .users
                    .iter()
                    .find_map(|user| match user {
                        tl::enums::User::User(x) if x.id == u.user_id => x.access_hash,
                        _ => None,
                    })
                    .expect("resolved user carries its hash");
                tl::types::InputPeerUser {
                    user_id: u.user_id,
                    access_hash: hash,
                }
                .into()
            }
            tl::enums::Peer::Channel(c) => {
                let hash = resolved
                    .chats
                    .iter()
                    .find_map(|chat| match chat {
                        tl::enums::Chat::Channel(x) if x.id == c.channel_id => x.access_hash,
                        _ => None,
                    })
                    .expect("resolved channel carries its hash");
                tl::types::InputPeerChannel {
                    channel_id: c.channel_id,
                    access_hash: hash,
                }
                .into()
            }
            tl::enums::Peer::Chat(_) => panic!("no basic groups in the sandbox"),
        }
    }

    pub(super) fn send(
        &self,
        peer: &tl::enums::InputPeer,
        text: &str,
        random_id: i64,
    ) -> Result<tl::enums::Updates, (i32, String)> {
        self.call(&send_request(peer, text, random_id))
    }
}

pub(super) fn send_request(
    peer: &tl::enums::InputPeer,
    text: &str,
    random_id: i64,
) -> tl::functions::messages::SendMessage {
    tl::functions::messages::SendMessage {
        no_webpage: true,
        silent: false,
        background: false,
        clear_draft: false,
        noforwards: false,
        update_stickersets_order: false,
        invert_media: false,
        allow_paid_floodskip: false,
        peer: peer.clone(),
        reply_to: None,
        message: text.into(),
        random_id,
        reply_markup: None,
        entities: None,
        schedule_date: None,
        schedule_repeat_period: None,
        send_as: None,
        quick_reply_shortcut: None,
        effect: None,
        allow_paid_stars: None,
        suggested_post: None,
        rich_message: None,
    }
}

pub(super) fn edit_request(
    peer: &tl::enums::InputPeer,
    id: i32,
    text: &str,
) -> tl::functions::messages::EditMessage {
    tl::functions::messages::EditMessage {
        no_webpage: true,
        invert_media: false,
        peer: peer.clone(),
        id,
        message: Some(text.into()),
        media: None,
        reply_markup: None,
        entities: None,
        schedule_date: None,
        schedule_repeat_period: None,
        quick_reply_shortcut_id: None,
        rich_message: None,
    }
}

pub(super) fn history_request(
    peer: &tl::enums::InputPeer,
    offset_id: i32,
    limit: i32,
) -> tl::functions::messages::GetHistory {
    tl::functions::messages::GetHistory {
        peer: peer.clone(),
        offset_id,
        offset_date: 0,
        add_offset: 0,
        limit,
        max_id: 0,
        min_id: 0,
        hash: 0,
    }
}

pub(super) fn short_sent(updates: tl::enums::Updates) -> tl::types::UpdateShortSentMessage {
    match updates {
        tl::enums::Updates::UpdateShortSentMessage(u) => u,
        other => panic!("expected updateShortSentMessage, got {other:?}"),
    }
}

pub(super) fn bad(name: &str) -> Result<(), (i32, String)> {
    Err((400, name.to_string()))
}
