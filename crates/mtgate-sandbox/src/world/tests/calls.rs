//! Wrappers, unknown methods, injected faults, peers and users.

use grammers_tl_types as tl;

use super::*;

#[test]
fn get_config_through_init_connection_has_no_dc_options() {
    let h = harness();
    let wrapped = tl::functions::InvokeWithLayer {
        layer: tl::LAYER,
        query: tl::functions::InitConnection {
            api_id: 1,
            device_model: "test".into(),
            system_version: "1".into(),
            app_version: "1".into(),
            system_lang_code: "en".into(),
            lang_pack: "".into(),
            lang_code: "en".into(),
            proxy: None,
            params: None,
            query: tl::functions::help::GetConfig {},
        },
    };
    let tl::enums::Config::Config(config) = h.ok(&wrapped);
    assert!(config.dc_options.is_empty());
    assert_eq!(config.this_dc, SANDBOX_DC);
    assert_eq!(h.world.requests()[0].method, "help.getConfig");
}

#[test]
fn get_me_returns_exactly_the_account_with_its_access_hash() {
    let h = harness();
    let users = h.ok(&tl::functions::users::GetUsers {
        id: vec![tl::enums::InputUser::UserSelf],
    });
    assert_eq!(users.len(), 1);
    let tl::enums::User::User(me) = &users[0] else {
        panic!("empty user")
    };
    assert!(me.is_self && !me.min);
    assert_eq!(me.id, fixture::ME_ID);
    assert_eq!(me.username.as_deref(), Some(fixture::ME_USERNAME));
    assert_eq!(me.phone.as_deref(), Some(fixture::ME_PHONE));
    assert!(me.access_hash.is_some());
}

#[test]
fn usernames_resolve_and_unknown_or_malformed_ones_fail_like_telegram() {
    let h = harness();
    let peer = h.input_peer("@alice_sandbox");
    assert!(matches!(peer, tl::enums::InputPeer::User(_)));
    assert!(matches!(
        h.input_peer("SANDBOX_NEWS"),
        tl::enums::InputPeer::Channel(_)
    ));
    let resolve = |name: &str| {
        h.call(&tl::functions::contacts::ResolveUsername {
            username: name.into(),
            referer: None,
        })
        .map(|_| ())
    };
    assert_eq!(resolve("nobody_here"), bad("USERNAME_NOT_OCCUPIED"));
    assert_eq!(resolve("1bad name"), bad("USERNAME_INVALID"));
}

#[test]
fn a_wrong_access_hash_is_rejected() {
    let h = harness();
    let tl::enums::InputPeer::User(alice) = h.input_peer("alice_sandbox") else {
        unreachable!()
    };
    let forged: tl::enums::InputPeer = tl::types::InputPeerUser {
        user_id: alice.user_id,
        access_hash: alice.access_hash ^ 1,
    }
    .into();
    assert_eq!(h.send(&forged, "hi", 1).map(|_| ()), bad("PEER_ID_INVALID"));
    let tl::enums::InputPeer::Channel(news) = h.input_peer("sandbox_news") else {
        unreachable!()
    };
    let seeded = h.world.chat_messages("@sandbox_news").unwrap().len();
    let forged: tl::enums::InputPeer = tl::types::InputPeerChannel {
        channel_id: news.channel_id,
        access_hash: news.access_hash.wrapping_add(1),
    }
    .into();
    assert_eq!(h.send(&forged, "hi", 2).map(|_| ()), bad("CHANNEL_INVALID"));
    assert_eq!(
        h.world.chat_messages("@sandbox_news").unwrap().len(),
        seeded
    );
}

#[test]
fn an_injected_error_is_answered_once_and_logged() {
    let h = harness();
    h.world.inject_rpc_error(faults::InjectedError {
        method: "users.getUsers".into(),
        code: 420,
        message: "FLOOD_WAIT_1".into(),
        times: 1,
    });
    let get_me = tl::functions::users::GetUsers {
        id: vec![tl::enums::InputUser::UserSelf],
    };
    assert_eq!(
        h.call(&get_me).map(|_| ()),
        Err((420, "FLOOD_WAIT_1".into()))
    );
    assert!(h.call(&get_me).is_ok());
    let log = h.world.requests();
    assert_eq!(log.len(), 2);
    assert_eq!(
        (log[0].ok, log[0].error.as_deref()),
        (false, Some("FLOOD_WAIT_1"))
    );
    assert!(log[1].ok);
}

#[test]
fn unknown_and_unmodelled_methods_get_an_error_not_silence() {
    let h = harness();
    assert_eq!(
        h.raw(h.key(), vec![0x0d, 0xf0, 0xad, 0x0b, 1, 2, 3, 4])
            .map(|_| ()),
        Err((400, "INPUT_METHOD_INVALID".into()))
    );
    assert_eq!(
        h.call(&tl::functions::messages::GetDialogFilters {})
            .map(|_| ()),
        Err((400, "METHOD_NOT_SUPPORTED_BY_SANDBOX".into()))
    );
    assert_eq!(
        h.raw(h.key(), vec![1]).map(|_| ()),
        Err((400, "INPUT_REQUEST_INVALID".into()))
    );
}

#[test]
fn dialogs_list_every_channel_and_each_private_chat_with_messages() {
    let h = harness();
    let tl::enums::messages::Dialogs::Dialogs(dialogs) =
        h.ok(&tl::functions::messages::GetDialogs {
            exclude_pinned: false,
            folder_id: None,
            offset_date: 0,
            offset_id: 0,
            offset_peer: tl::enums::InputPeer::Empty,
            limit: 100,
            hash: 0,
        })
    else {
        panic!("the whole list fits one answer")
    };
    // Three channels and the seeded chat with Alice.
    assert_eq!(dialogs.dialogs.len(), 4);
    assert_eq!(dialogs.chats.len(), 3);
    assert!(dialogs.users.iter().any(|u| u.id() == 5_000_002));
    let tops: Vec<i32> = dialogs
        .dialogs
        .iter()
        .map(|d| match d {
            tl::enums::Dialog::Dialog(d) => d.top_message,
            _ => panic!("plain dialogs"),
        })
        .collect();
    assert_eq!(
        dialogs.messages.len(),
        tops.iter().filter(|&&t| t > 0).count()
    );
}

#[test]
fn basic_groups_are_chats_this_world_does_not_have() {
    let h = harness();
    assert_eq!(
        h.call(&tl::functions::messages::GetChats { id: vec![123] })
            .map(|_| ()),
        Err((400, "CHAT_ID_INVALID".into()))
    );
}
