//! One function per API method, grouped by TL namespace, and the table that routes a
//! constructor id to it.

mod account;
mod auth;
mod channels;
mod contacts;
mod dialogs;
mod files;
mod forward;
mod help;
mod history;
mod media;
mod messages;
mod others;
mod pins;
mod read;
mod updates;
mod users;

use grammers_tl_types::{self as tl, Deserializable, Identifiable, Serializable};

use super::error::RpcErr;
use super::log::CallFacts;
use super::model::ChatKey;
use super::secrets::Secrets;
use super::state::State;
use crate::rpc::{Push, UpdateBus};

pub use messages::{IncomingError, deliver_incoming};
pub use others::{delete_by_other, edit_by_other};

/// The DC the sandbox says it is (and the one session strings name).
pub const SANDBOX_DC: i32 = 2;

/// A serialized result (with constructor id) or an rpc_error.
pub type Reply = Result<Vec<u8>, RpcErr>;

/// Everything a handler may touch while the world is locked for one call.
pub struct Ctx<'a> {
    pub state: &'a mut State,
    pub secrets: &'a Secrets,
    pub bus: &'a UpdateBus,
    /// The calling auth key.
    pub key_id: i64,
    pub now: i32,
    /// Filled in by the handler for the request log.
    pub facts: CallFacts,
}

impl Ctx<'_> {
    /// Records the chat a call is about, for the request log.
    pub fn about(&mut self, chat: ChatKey) {
        self.facts.peer = Some(chat.bot_api_id());
    }

    /// Whether another key is logged in as the caller's user (and so must hear of changes).
    pub fn has_other_sessions(&self) -> bool {
        self.state
            .keys_of(self.state.viewer)
            .iter()
            .any(|&key| key != self.key_id)
    }

    /// Sends `updates` to every key logged in as the caller's user except the caller's, as
    /// Telegram informs a user's other sessions.
    pub fn push_to_other_sessions(&self, updates: &tl::enums::Updates) {
        push_to_account(self.state, self.bus, updates, Some(self.key_id));
    }
}

/// Publishes `updates` to the keys logged in as the viewer (but `except`).
pub fn push_to_account(
    state: &State,
    bus: &UpdateBus,
    updates: &tl::enums::Updates,
    except: Option<i64>,
) {
    let bytes = updates.to_bytes();
    for key in state.keys_of(state.viewer) {
        if Some(key) != except {
            bus.publish(Push {
                auth_key_id: key,
                updates: bytes.clone(),
            });
        }
    }
}

/// Methods an auth key that is not logged in may call (everything needed to log in).
pub fn allowed_without_login(method: &str) -> bool {
    method.starts_with("auth.")
        || method.starts_with("langpack.")
        || matches!(
            method,
            "help.getConfig" | "help.getNearestDc" | "account.getPassword"
        )
}

fn run<R: Deserializable>(ctx: &mut Ctx, body: &[u8], handler: fn(&mut Ctx, R) -> Reply) -> Reply {
    let request = R::from_bytes(&body[4..]).map_err(|_| RpcErr::bad("INPUT_REQUEST_INVALID"))?;
    handler(ctx, request)
}

/// Runs the method `body` (constructor id first, wrappers already peeled) names.
pub fn route(ctx: &mut Ctx, constructor_id: u32, body: &[u8]) -> Reply {
    use tl::functions as f;
    match constructor_id {
        f::help::GetConfig::CONSTRUCTOR_ID => run(ctx, body, help::get_config),
        f::help::GetNearestDc::CONSTRUCTOR_ID => run(ctx, body, help::get_nearest_dc),
        f::updates::GetState::CONSTRUCTOR_ID => run(ctx, body, updates::get_state),
        f::updates::GetDifference::CONSTRUCTOR_ID => run(ctx, body, updates::get_difference),
        f::updates::GetChannelDifference::CONSTRUCTOR_ID => {
            run(ctx, body, updates::get_channel_difference)
        }
        f::users::GetUsers::CONSTRUCTOR_ID => run(ctx, body, users::get_users),
        f::users::GetFullUser::CONSTRUCTOR_ID => run(ctx, body, users::get_full_user),
        f::contacts::ResolveUsername::CONSTRUCTOR_ID => run(ctx, body, contacts::resolve_username),
        f::channels::GetChannels::CONSTRUCTOR_ID => run(ctx, body, channels::get_channels),
        f::messages::GetChats::CONSTRUCTOR_ID => run(ctx, body, channels::get_chats),
        f::channels::GetMessages::CONSTRUCTOR_ID => run(ctx, body, history::get_channel_messages),
        f::channels::DeleteMessages::CONSTRUCTOR_ID => run(ctx, body, messages::delete_channel),
        f::messages::GetMessages::CONSTRUCTOR_ID => run(ctx, body, history::get_messages),
        f::messages::GetHistory::CONSTRUCTOR_ID => run(ctx, body, history::get_history),
        f::messages::GetDialogs::CONSTRUCTOR_ID => run(ctx, body, dialogs::get_dialogs),
        f::messages::SendMessage::CONSTRUCTOR_ID => run(ctx, body, messages::send),
        f::messages::SendMedia::CONSTRUCTOR_ID => run(ctx, body, media::send_media),
        f::messages::SendMultiMedia::CONSTRUCTOR_ID => run(ctx, body, media::send_multi_media),
        f::messages::UploadMedia::CONSTRUCTOR_ID => run(ctx, body, media::upload_media),
        f::upload::SaveFilePart::CONSTRUCTOR_ID => run(ctx, body, files::save_file_part),
        f::upload::SaveBigFilePart::CONSTRUCTOR_ID => run(ctx, body, files::save_big_file_part),
        f::upload::GetFile::CONSTRUCTOR_ID => run(ctx, body, files::get_file),
        f::messages::EditMessage::CONSTRUCTOR_ID => run(ctx, body, messages::edit),
        f::messages::DeleteMessages::CONSTRUCTOR_ID => run(ctx, body, messages::delete_private),
        f::messages::ReadHistory::CONSTRUCTOR_ID => run(ctx, body, read::read_history),
        f::channels::ReadHistory::CONSTRUCTOR_ID => run(ctx, body, read::read_channel_history),
        f::messages::SetTyping::CONSTRUCTOR_ID => run(ctx, body, read::set_typing),
        f::messages::ForwardMessages::CONSTRUCTOR_ID => run(ctx, body, forward::forward),
        f::messages::UpdatePinnedMessage::CONSTRUCTOR_ID => run(ctx, body, pins::update_pinned),
        f::messages::GetPeerDialogs::CONSTRUCTOR_ID => run(ctx, body, dialogs::get_peer_dialogs),
        f::channels::GetFullChannel::CONSTRUCTOR_ID => run(ctx, body, channels::get_full_channel),
        f::account::GetAuthorizations::CONSTRUCTOR_ID => {
            run(ctx, body, account::get_authorizations)
        }
        f::auth::SendCode::CONSTRUCTOR_ID => run(ctx, body, auth::send_code),
        f::auth::SignIn::CONSTRUCTOR_ID => run(ctx, body, auth::sign_in),
        f::account::GetPassword::CONSTRUCTOR_ID => run(ctx, body, auth::get_password),
        f::auth::CheckPassword::CONSTRUCTOR_ID => run(ctx, body, auth::check_password),
        f::auth::LogOut::CONSTRUCTOR_ID => run(ctx, body, auth::log_out),
        f::auth::ExportLoginToken::CONSTRUCTOR_ID => run(ctx, body, auth::export_login_token),
        f::auth::ImportLoginToken::CONSTRUCTOR_ID => run(ctx, body, auth::import_login_token),
        other if tl::name_for_id(other) == "(unknown)" => Err(RpcErr::bad("INPUT_METHOD_INVALID")),
        // A real method the sandbox does not model: say so by name instead of guessing.
        _ => Err(RpcErr::bad("METHOD_NOT_SUPPORTED_BY_SANDBOX")),
    }
}

/// Telegram counts message length in UTF-16 code units.
pub const MAX_MESSAGE_UTF16: usize = 4096;

/// `MESSAGE_EMPTY` / `MESSAGE_TOO_LONG` checks shared by send and edit.
pub fn check_text(text: &str) -> Result<(), RpcErr> {
    if text.trim().is_empty() {
        Err(RpcErr::bad("MESSAGE_EMPTY"))
    } else if text.encode_utf16().count() > MAX_MESSAGE_UTF16 {
        Err(RpcErr::bad("MESSAGE_TOO_LONG"))
    } else {
        Ok(())
    }
}

/// The users and chats a reply about `chats` (and messages from `senders`) must carry so the
/// client can build its peers.
pub fn peers_for(
    state: &State,
    chats: impl IntoIterator<Item = ChatKey>,
    senders: impl IntoIterator<Item = i64>,
) -> (Vec<tl::enums::User>, Vec<tl::enums::Chat>) {
    let mut user_ids = std::collections::BTreeSet::new();
    let mut channel_ids = std::collections::BTreeSet::new();
    for chat in chats {
        match chat {
            ChatKey::User(id) => user_ids.insert(id),
            ChatKey::Channel(id) => channel_ids.insert(id),
        };
    }
    user_ids.extend(senders);
    user_ids.insert(state.viewer);
    let users = user_ids
        .iter()
        .filter_map(|id| state.users.get(id))
        .map(|u| super::to_tl::user(u, u.id == state.viewer))
        .collect();
    let chats = channel_ids
        .iter()
        .filter_map(|id| state.channels.get(id))
        .map(super::to_tl::channel)
        .collect();
    (users, chats)
}
