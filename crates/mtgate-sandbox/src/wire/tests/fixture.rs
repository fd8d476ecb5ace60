//! The test-only backend: knows one auth key, answers help.getConfig (no dc_options) and
//! users.getUsers (one user per requested id), panics on help.getNearestDc, and gives
//! rpc_error 400 for everything else.

use std::sync::{Arc, Mutex};

use grammers_tl_types::{self as tl, Cursor, Deserializable, Identifiable, Serializable};
use rand::RngCore;

use super::SELF_ID;
use crate::rpc::{AUTH_KEY_LEN, Backend, CallOrigin, RpcOutcome};
use crate::wire::auth_key_id;

/// Knows one auth key; records every call (peeled of wrappers) it sees.
pub(super) struct Fixture {
    pub(super) key: [u8; AUTH_KEY_LEN],
    calls: Mutex<Vec<Vec<u8>>>,
}

impl Fixture {
    pub(super) fn new() -> Arc<Self> {
        let mut key = [0u8; AUTH_KEY_LEN];
        rand::thread_rng().fill_bytes(&mut key);
        Arc::new(Self {
            key,
            calls: Mutex::new(Vec::new()),
        })
    }

    pub(super) fn calls(&self) -> Vec<Vec<u8>> {
        self.calls.lock().unwrap().clone()
    }

    pub(super) fn call_ids(&self) -> Vec<u32> {
        self.calls()
            .iter()
            .map(|c| u32::from_le_bytes(c[..4].try_into().unwrap()))
            .collect()
    }
}

impl Backend for Fixture {
    fn auth_key(&self, id: i64) -> Option<[u8; AUTH_KEY_LEN]> {
        (id == auth_key_id(&self.key)).then_some(self.key)
    }

    fn key_duplicated(&self, _auth_key_id: i64) {}

    fn call(&self, _origin: CallOrigin, body: &[u8]) -> RpcOutcome {
        self.calls.lock().unwrap().push(body.to_vec());
        let inner = peel(body);
        match u32::from_le_bytes(inner[..4].try_into().unwrap()) {
            tl::functions::help::GetConfig::CONSTRUCTOR_ID => {
                RpcOutcome::Result(config().to_bytes())
            }
            tl::functions::users::GetUsers::CONSTRUCTOR_ID => {
                let Ok(request) = tl::functions::users::GetUsers::from_bytes(&inner[4..]) else {
                    return RpcOutcome::Error {
                        code: 400,
                        message: "INPUT_REQUEST_INVALID".into(),
                    };
                };
                // One user per requested id, so concurrent replies can be told apart.
                let users: Vec<tl::enums::User> = request
                    .id
                    .iter()
                    .map(|input| match input {
                        tl::enums::InputUser::User(u) => user(u.user_id),
                        _ => user(SELF_ID),
                    })
                    .collect();
                RpcOutcome::Result(users.to_bytes())
            }
            tl::functions::help::GetNearestDc::CONSTRUCTOR_ID => {
                panic!("the fixture's deliberate bug")
            }
            _ => RpcOutcome::Error {
                code: 400,
                message: "METHOD_INVALID".into(),
            },
        }
    }
}

/// Everything after a wrapper's fields: the wrapped query, unparsed.
pub(super) struct Rest(pub(super) Vec<u8>);

impl Deserializable for Rest {
    fn deserialize(buf: &mut Cursor) -> tl::deserialize::Result<Self> {
        let mut rest = Vec::new();
        buf.read_to_end(&mut rest)?;
        Ok(Rest(rest))
    }
}

/// Peels invokeWithLayer / initConnection / invokeWithoutUpdates off a call body.
pub(super) fn peel(body: &[u8]) -> Vec<u8> {
    let mut body = body.to_vec();
    loop {
        let mut cursor = Cursor::from_slice(&body);
        let inner = match u32::deserialize(&mut cursor) {
            Ok(tl::functions::InvokeWithLayer::<Rest>::CONSTRUCTOR_ID) => {
                tl::functions::InvokeWithLayer::<Rest>::deserialize(&mut cursor).map(|f| f.query.0)
            }
            Ok(tl::functions::InitConnection::<Rest>::CONSTRUCTOR_ID) => {
                tl::functions::InitConnection::<Rest>::deserialize(&mut cursor).map(|f| f.query.0)
            }
            Ok(tl::functions::InvokeWithoutUpdates::<Rest>::CONSTRUCTOR_ID) => {
                tl::functions::InvokeWithoutUpdates::<Rest>::deserialize(&mut cursor)
                    .map(|f| f.query.0)
            }
            _ => return body,
        };
        match inner {
            Ok(inner) => body = inner,
            Err(_) => return body,
        }
    }
}

pub(super) fn config() -> tl::enums::Config {
    tl::enums::Config::Config(tl::types::Config {
        default_p2p_contacts: false,
        preload_featured_stickers: false,
        revoke_pm_inbox: false,
        blocked_mode: false,
        force_try_ipv6: false,
        date: 1_700_000_000,
        expires: 1_700_003_600,
        test_mode: false,
        this_dc: 2,
        dc_options: Vec::new(),
        dc_txt_domain_name: String::new(),
        chat_size_max: 200,
        megagroup_size_max: 200_000,
        forwarded_count_max: 100,
        online_update_period_ms: 210_000,
        offline_blur_timeout_ms: 5_000,
        offline_idle_timeout_ms: 30_000,
        online_cloud_timeout_ms: 300_000,
        notify_cloud_delay_ms: 30_000,
        notify_default_delay_ms: 1_500,
        push_chat_period_ms: 60_000,
        push_chat_limit: 2,
        edit_time_limit: 172_800,
        revoke_time_limit: i32::MAX,
        revoke_pm_time_limit: i32::MAX,
        rating_e_decay: 2_419_200,
        stickers_recent_limit: 200,
        channels_read_media_period: 604_800,
        tmp_sessions: None,
        call_receive_timeout_ms: 20_000,
        call_ring_timeout_ms: 90_000,
        call_connect_timeout_ms: 30_000,
        call_packet_timeout_ms: 10_000,
        me_url_prefix: "https://t.me/".into(),
        autoupdate_url_prefix: None,
        gif_search_username: None,
        venue_search_username: None,
        img_search_username: None,
        static_maps_provider: None,
        caption_length_max: 1024,
        message_length_max: 4096,
        webfile_dc_id: 4,
        suggested_lang_code: None,
        lang_pack_version: None,
        base_lang_pack_version: None,
        reactions_default: None,
        autologin_token: None,
    })
}

pub(super) fn user(id: i64) -> tl::enums::User {
    tl::enums::User::User(tl::types::User {
        is_self: id == SELF_ID,
        contact: false,
        mutual_contact: false,
        deleted: false,
        bot: false,
        bot_chat_history: false,
        bot_nochats: false,
        verified: false,
        restricted: false,
        min: false,
        bot_inline_geo: false,
        support: false,
        scam: false,
        apply_min_photo: false,
        fake: false,
        bot_attach_menu: false,
        premium: false,
        attach_menu_enabled: false,
        bot_can_edit: false,
        close_friend: false,
        stories_hidden: false,
        stories_unavailable: false,
        contact_require_premium: false,
        bot_business: false,
        bot_has_main_app: false,
        bot_forum_view: false,
        bot_forum_can_manage_topics: false,
        bot_can_manage_bots: false,
        bot_guestchat: false,
        bot_guard: false,
        id,
        access_hash: Some(77),
        first_name: Some("Wire".into()),
        last_name: None,
        username: Some("wire_test".into()),
        phone: None,
        photo: None,
        status: None,
        bot_info_version: None,
        restriction_reason: None,
        bot_inline_placeholder: None,
        lang_code: None,
        emoji_status: None,
        usernames: None,
        stories_max_id: None,
        color: None,
        profile_color: None,
        bot_active_users: None,
        bot_verification_icon: None,
        send_paid_messages_stars: None,
        linked_community_id: None,
    })
}
