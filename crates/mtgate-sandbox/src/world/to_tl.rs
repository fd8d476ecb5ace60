//! World records as TL objects. TL structs have no `Default`, so every field is spelled out
//! once here and nowhere else.

use grammers_tl_types as tl;

use super::fixture::ME_ID;
use super::model::{ChannelRecord, ChatKey, FwdFrom, StoredMessage, UserRecord};

/// A full (non-min) user with its access hash; `is_self` marks the account itself.
pub fn user(record: &UserRecord, is_self: bool) -> tl::enums::User {
    tl::types::User {
        is_self,
        contact: !is_self,
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
        stories_unavailable: true,
        contact_require_premium: false,
        bot_business: false,
        bot_has_main_app: false,
        bot_forum_view: false,
        bot_forum_can_manage_topics: false,
        bot_can_manage_bots: false,
        bot_guestchat: false,
        bot_guard: false,
        id: record.id,
        access_hash: Some(record.access_hash),
        first_name: Some(record.first_name.clone()),
        last_name: record.last_name.clone(),
        username: Some(record.username.clone()),
        phone: if is_self { record.phone.clone() } else { None },
        photo: None,
        status: Some(tl::enums::UserStatus::Recently(
            tl::types::UserStatusRecently { by_me: false },
        )),
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
    }
    .into()
}

/// A channel or supergroup as its member sees it.
pub fn channel(record: &ChannelRecord) -> tl::enums::Chat {
    tl::types::Channel {
        creator: record.kind.is_owner(),
        left: false,
        broadcast: record.kind.is_broadcast(),
        verified: false,
        megagroup: !record.kind.is_broadcast(),
        restricted: false,
        signatures: false,
        min: false,
        scam: false,
        has_link: false,
        has_geo: false,
        slowmode_enabled: false,
        call_active: false,
        call_not_empty: false,
        fake: false,
        gigagroup: false,
        noforwards: false,
        join_to_send: false,
        join_request: false,
        forum: false,
        stories_hidden: false,
        stories_hidden_min: false,
        stories_unavailable: true,
        signature_profiles: false,
        autotranslation: false,
        broadcast_messages_allowed: false,
        monoforum: false,
        forum_tabs: false,
        id: record.id,
        access_hash: Some(record.access_hash),
        title: record.title.clone(),
        username: Some(record.username.clone()),
        photo: tl::enums::ChatPhoto::Empty,
        date: record.date,
        restriction_reason: None,
        admin_rights: None,
        banned_rights: None,
        default_banned_rights: None,
        participants_count: None,
        usernames: None,
        stories_max_id: None,
        color: None,
        profile_color: None,
        emoji_status: None,
        level: None,
        subscription_until_date: None,
        bot_verification_icon: None,
        send_paid_messages_stars: None,
        linked_monoforum_id: None,
        linked_community_id: None,
    }
    .into()
}

/// A stored message as the logged-in account sees it.
pub fn message(stored: &StoredMessage) -> tl::enums::Message {
    let post = stored.from.is_none();
    tl::types::Message {
        out: stored.out,
        mentioned: false,
        media_unread: false,
        silent: stored.silent,
        post,
        from_scheduled: false,
        legacy: false,
        edit_hide: false,
        pinned: stored.pinned,
        noforwards: false,
        invert_media: false,
        offline: false,
        video_processing_pending: false,
        paid_suggested_post_stars: false,
        paid_suggested_post_ton: false,
        id: stored.id,
        // Private chats name the sender only when it is not the account's own outgoing
        // message in the chat's peer; Telegram fills from_id for groups and incoming users.
        from_id: match (stored.chat, stored.from) {
            (_, None) => None,
            (ChatKey::User(_), Some(_)) if stored.out => None,
            (_, Some(user_id)) => Some(tl::types::PeerUser { user_id }.into()),
        },
        from_boosts_applied: None,
        from_rank: None,
        peer_id: stored.chat.tl_peer(),
        // Saved Messages name the dialog a message is filed under: itself unless forwarded.
        saved_peer_id: (stored.chat == ChatKey::User(ME_ID)).then(|| {
            stored
                .fwd_from
                .map_or(ChatKey::User(ME_ID), |f| f.from)
                .tl_peer()
        }),
        fwd_from: stored.fwd_from.map(fwd_header),
        via_bot_id: None,
        via_business_bot_id: None,
        guestchat_via_from: None,
        reply_to: stored.reply_to.map(reply_header),
        date: stored.date,
        message: stored.text.clone(),
        media: stored.media.as_deref().map(super::media_tl::message_media),
        reply_markup: None,
        entities: (!stored.entities.is_empty()).then(|| stored.entities.clone()),
        views: post.then_some(1),
        // views and forwards share one flag bit: both or neither.
        forwards: post.then_some(0),
        replies: None,
        edit_date: stored.edit_date,
        post_author: None,
        grouped_id: stored.grouped_id,
        reactions: None,
        restriction_reason: None,
        ttl_period: None,
        quick_reply_shortcut_id: None,
        effect: None,
        factcheck: None,
        report_delivery_until_date: None,
        paid_message_stars: None,
        suggested_post: None,
        schedule_repeat_period: None,
        summary_from_language: None,
        rich_message: None,
    }
    .into()
}

fn fwd_header(fwd: FwdFrom) -> tl::enums::MessageFwdHeader {
    tl::types::MessageFwdHeader {
        imported: false,
        saved_out: false,
        from_id: Some(fwd.from.tl_peer()),
        from_name: None,
        date: fwd.date,
        channel_post: fwd.channel_post,
        post_author: None,
        saved_from_peer: None,
        saved_from_msg_id: None,
        saved_from_id: None,
        saved_from_name: None,
        saved_date: None,
        psa_type: None,
    }
    .into()
}

fn reply_header(reply_to_msg_id: i32) -> tl::enums::MessageReplyHeader {
    tl::types::MessageReplyHeader {
        reply_to_scheduled: false,
        forum_topic: false,
        quote: false,
        reply_to_ephemeral: false,
        reply_to_msg_id: Some(reply_to_msg_id),
        reply_to_peer_id: None,
        reply_from: None,
        reply_media: None,
        reply_to_top_id: None,
        quote_text: None,
        quote_entities: None,
        quote_offset: None,
        todo_item_id: None,
        poll_option: None,
    }
    .into()
}

/// `messageEmpty` for an id that holds nothing (Telegram's answer to a missing id).
pub fn empty_message(id: i32) -> tl::enums::Message {
    tl::types::MessageEmpty { id, peer_id: None }.into()
}

/// `help.getConfig`'s answer. `dc_options` stays empty on purpose: static options would
/// overwrite the session's addresses (and the grammers client panics on unparsable ones).
pub fn config(now: i32, this_dc: i32) -> tl::enums::Config {
    tl::types::Config {
        default_p2p_contacts: false,
        preload_featured_stickers: false,
        revoke_pm_inbox: true,
        blocked_mode: false,
        force_try_ipv6: false,
        date: now,
        expires: now + 3600,
        test_mode: false,
        this_dc,
        dc_options: Vec::new(),
        dc_txt_domain_name: "sandbox.invalid".into(),
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
        webfile_dc_id: this_dc,
        suggested_lang_code: None,
        lang_pack_version: None,
        base_lang_pack_version: None,
        reactions_default: None,
        autologin_token: None,
    }
    .into()
}

pub fn notify_settings() -> tl::enums::PeerNotifySettings {
    tl::types::PeerNotifySettings {
        show_previews: None,
        silent: None,
        mute_until: None,
        ios_sound: None,
        android_sound: None,
        other_sound: None,
        stories_muted: None,
        stories_hide_sender: None,
        stories_ios_sound: None,
        stories_android_sound: None,
        stories_other_sound: None,
    }
    .into()
}

/// `auth.authorization` for a completed login.
pub fn authorization(me: &UserRecord) -> tl::enums::auth::Authorization {
    tl::types::auth::Authorization {
        setup_password_required: false,
        otherwise_relogin_days: None,
        tmp_sessions: None,
        future_auth_token: None,
        user: user(me, true),
    }
    .into()
}
