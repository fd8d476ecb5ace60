//! The world driven exactly as the wire drives it: serialized requests through
//! [`Backend::call`], results decoded with grammers' own TL types.

use grammers_tl_types::{self as tl, Deserializable, RemoteCall};

use super::*;
use crate::sandbox::rpc::{CallOrigin, RpcOutcome};

struct Harness {
    world: World,
    bus: UpdateBus,
}

fn harness() -> Harness {
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
    fn key(&self) -> i64 {
        secrets::auth_key_id(&self.world.session_key())
    }

    fn unauthorized(&self) -> i64 {
        secrets::auth_key_id(&self.world.unauthorized_key())
    }

    fn raw(&self, key: i64, body: Vec<u8>) -> Result<Vec<u8>, (i32, String)> {
        match self.world.call(origin(key), &body) {
            RpcOutcome::Result(bytes) => Ok(bytes),
            RpcOutcome::Error { code, message } => Err((code, message)),
        }
    }

    fn call_as<R: RemoteCall>(&self, key: i64, request: &R) -> Result<R::Return, (i32, String)> {
        self.raw(key, request.to_bytes()).map(|bytes| {
            R::Return::from_bytes(&bytes).expect("reply decodes as the method's return type")
        })
    }

    fn call<R: RemoteCall>(&self, request: &R) -> Result<R::Return, (i32, String)> {
        self.call_as(self.key(), request)
    }

    fn ok<R: RemoteCall>(&self, request: &R) -> R::Return {
        self.call(request).expect("call succeeds")
    }

    fn input_peer(&self, username: &str) -> tl::enums::InputPeer {
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

    fn send(
        &self,
        peer: &tl::enums::InputPeer,
        text: &str,
        random_id: i64,
    ) -> Result<tl::enums::Updates, (i32, String)> {
        self.call(&send_request(peer, text, random_id))
    }
}

fn send_request(
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

fn edit_request(
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

fn history_request(
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

fn short_sent(updates: tl::enums::Updates) -> tl::types::UpdateShortSentMessage {
    match updates {
        tl::enums::Updates::UpdateShortSentMessage(u) => u,
        other => panic!("expected updateShortSentMessage, got {other:?}"),
    }
}

fn bad(name: &str) -> Result<(), (i32, String)> {
    Err((400, name.to_string()))
}

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
    let forged: tl::enums::InputPeer = tl::types::InputPeerChannel {
        channel_id: news.channel_id,
        access_hash: news.access_hash.wrapping_add(1),
    }
    .into();
    assert_eq!(h.send(&forged, "hi", 2).map(|_| ()), bad("CHANNEL_INVALID"));
    assert_eq!(h.world.chat_messages("@sandbox_news").unwrap().len(), 0);
}

#[test]
fn sending_to_a_user_answers_short_sent_messages_with_consecutive_pts() {
    let h = harness();
    let alice = h.input_peer("alice_sandbox");
    let tl::enums::updates::State::State(before) = h.ok(&tl::functions::updates::GetState {});
    let first = short_sent(h.send(&alice, "one", 11).unwrap());
    let second = short_sent(h.send(&alice, "two", 12).unwrap());
    assert_eq!((first.pts, first.pts_count), (before.pts + 1, 1));
    assert_eq!((second.pts, second.pts_count), (before.pts + 2, 1));
    assert_eq!(second.id, first.id + 1);
    let truth = h.world.chat_messages("@alice_sandbox").unwrap();
    assert_eq!(truth[0].text, "two");
    assert_eq!(truth[0].id, second.id);
    assert!(truth[0].outgoing);
    let log = h.world.requests();
    let sent = log.last().unwrap();
    assert_eq!(sent.method, "messages.sendMessage");
    assert_eq!(sent.peer, Some(5_000_002));
    assert_eq!(sent.text.as_deref(), Some("two"));
    assert!(sent.ok);
}

#[test]
fn sending_to_a_channel_answers_message_id_and_new_channel_message() {
    let h = harness();
    {
        let name = "sandbox_news";
        let channel = h.input_peer(name);
        let tl::enums::Updates::Updates(updates) = h.send(&channel, "post", 99).unwrap() else {
            panic!("channels answer updates")
        };
        assert_eq!(updates.updates.len(), 2);
        let tl::enums::Update::MessageId(id) = &updates.updates[0] else {
            panic!("updateMessageID first")
        };
        assert_eq!(id.random_id, 99);
        let tl::enums::Update::NewChannelMessage(new) = &updates.updates[1] else {
            panic!("then updateNewChannelMessage")
        };
        assert_eq!(new.message.id(), id.id);
        assert_eq!(new.pts_count, 1);
        assert_eq!(updates.chats.len(), 1);
        assert_eq!(
            h.world.chat_messages(&format!("@{name}")).unwrap()[0].text,
            "post"
        );
    }
    let group = h.input_peer("sandbox_chat");
    let tl::enums::Updates::Updates(updates) = h.send(&group, "hello group", 100).unwrap() else {
        panic!("supergroups answer updates")
    };
    let tl::enums::Update::NewChannelMessage(new) = &updates.updates[1] else {
        panic!()
    };
    let tl::enums::Message::Message(message) = &new.message else {
        panic!()
    };
    assert_eq!(
        message.from_id,
        Some(
            tl::types::PeerUser {
                user_id: fixture::ME_ID
            }
            .into()
        )
    );
}

#[test]
fn a_resent_random_id_returns_the_same_message_and_creates_none() {
    let h = harness();
    let bob = h.input_peer("bob_sandbox");
    let first = short_sent(h.send(&bob, "once", 4242).unwrap());
    let again = short_sent(h.send(&bob, "once", 4242).unwrap());
    assert_eq!(first, again);
    assert_eq!(h.world.chat_messages("bob_sandbox").unwrap().len(), 1);
}

#[test]
fn the_read_only_channel_can_be_read_but_not_written() {
    let h = harness();
    let ro = h.input_peer("sandbox_announcements");
    assert_eq!(
        h.send(&ro, "hi", 5).map(|_| ()),
        Err((403, "CHAT_WRITE_FORBIDDEN".into()))
    );
    let tl::enums::messages::Messages::ChannelMessages(history) =
        h.ok(&history_request(&ro, 0, 10))
    else {
        panic!("channels answer channelMessages")
    };
    assert_eq!(history.messages.len(), 2);
    let tl::enums::InputPeer::Channel(c) = ro.clone() else {
        unreachable!()
    };
    let delete = tl::functions::channels::DeleteMessages {
        channel: tl::types::InputChannel {
            channel_id: c.channel_id,
            access_hash: c.access_hash,
        }
        .into(),
        id: vec![history.messages[0].id()],
    };
    assert_eq!(
        h.call(&delete).map(|_| ()),
        Err((403, "MESSAGE_DELETE_FORBIDDEN".into()))
    );
    let edit = edit_request(&ro, history.messages[0].id(), "mine now");
    assert_eq!(
        h.call(&edit).map(|_| ()),
        Err((403, "MESSAGE_AUTHOR_REQUIRED".into()))
    );
}

#[test]
fn text_errors_match_telegram() {
    let h = harness();
    let alice = h.input_peer("alice_sandbox");
    assert_eq!(h.send(&alice, "  ", 1).map(|_| ()), bad("MESSAGE_EMPTY"));
    // 2049 astral characters are 4098 UTF-16 code units, although only 2049 chars.
    assert_eq!(
        h.send(&alice, &"😀".repeat(2049), 2).map(|_| ()),
        bad("MESSAGE_TOO_LONG")
    );
    assert!(h.send(&alice, &"a".repeat(4096), 3).is_ok());
    let sent = short_sent(h.send(&alice, "original", 4).unwrap());
    assert_eq!(
        h.call(&edit_request(&alice, sent.id, "original"))
            .map(|_| ()),
        bad("MESSAGE_NOT_MODIFIED")
    );
    assert_eq!(
        h.call(&edit_request(&alice, 999_999, "x")).map(|_| ()),
        bad("MESSAGE_ID_INVALID")
    );
    let tl::enums::Updates::Updates(edited) = h.ok(&edit_request(&alice, sent.id, "changed"))
    else {
        panic!("edits answer updates")
    };
    assert!(matches!(
        edited.updates[0],
        tl::enums::Update::EditMessage(_)
    ));
    let truth = h.world.chat_messages("@alice_sandbox").unwrap();
    assert_eq!(truth[0].text, "changed");
    assert!(truth[0].edit_date.is_some());
}

#[test]
fn entities_are_kept_on_stored_messages() {
    let h = harness();
    let alice = h.input_peer("alice_sandbox");
    let mut request = send_request(&alice, "bold link", 8);
    request.entities = Some(vec![
        tl::types::MessageEntityBold {
            offset: 0,
            length: 4,
        }
        .into(),
        tl::types::MessageEntityTextUrl {
            offset: 5,
            length: 4,
            url: "https://example.com".into(),
        }
        .into(),
    ]);
    h.call(&request).unwrap();
    let truth = h.world.chat_messages("alice_sandbox").unwrap();
    assert_eq!(truth[0].entities[0]["type"], "bold");
    assert_eq!(truth[0].entities[1]["url"], "https://example.com");
}

#[test]
fn deleting_answers_affected_messages_and_removes_them() {
    let h = harness();
    let alice = h.input_peer("alice_sandbox");
    let a = short_sent(h.send(&alice, "a", 1).unwrap());
    let b = short_sent(h.send(&alice, "b", 2).unwrap());
    let tl::enums::messages::AffectedMessages::Messages(affected) =
        h.ok(&tl::functions::messages::DeleteMessages {
            revoke: true,
            id: vec![a.id, b.id, 999_999],
        });
    assert_eq!((affected.pts, affected.pts_count), (b.pts + 2, 2));
    assert!(
        h.world
            .chat_messages("alice_sandbox")
            .unwrap()
            .iter()
            .all(|m| m.id != a.id && m.id != b.id)
    );

    let news = h.input_peer("sandbox_news");
    let tl::enums::Updates::Updates(sent) = h.send(&news, "post", 3).unwrap() else {
        panic!()
    };
    let tl::enums::Update::NewChannelMessage(new) = &sent.updates[1] else {
        panic!()
    };
    let tl::enums::InputPeer::Channel(c) = news else {
        unreachable!()
    };
    let tl::enums::messages::AffectedMessages::Messages(affected) =
        h.ok(&tl::functions::channels::DeleteMessages {
            channel: tl::types::InputChannel {
                channel_id: c.channel_id,
                access_hash: c.access_hash,
            }
            .into(),
            id: vec![new.message.id()],
        });
    assert_eq!((affected.pts, affected.pts_count), (new.pts + 1, 1));
    assert!(h.world.chat_messages("sandbox_news").unwrap().is_empty());
}

#[test]
fn history_pages_newest_first_across_more_than_a_hundred_messages() {
    let h = harness();
    let carol = h.input_peer("carol_sandbox");
    for i in 0..150 {
        h.send(&carol, &format!("m{i}"), 1000 + i).unwrap();
    }
    let tl::enums::messages::Messages::Slice(first) = h.ok(&history_request(&carol, 0, 100)) else {
        panic!("a partial page is a slice")
    };
    assert_eq!(first.count, 150);
    assert_eq!(first.messages.len(), 100);
    let last_id = first.messages[99].id();
    assert!(first.messages.windows(2).all(|w| w[0].id() > w[1].id()));
    let tl::enums::messages::Messages::Slice(second) = h.ok(&history_request(&carol, last_id, 100))
    else {
        panic!()
    };
    assert_eq!(second.messages.len(), 50);
    assert!(second.messages[0].id() < last_id);
    let texts: Vec<String> = second
        .messages
        .iter()
        .map(|m| match m {
            tl::enums::Message::Message(m) => m.message.clone(),
            _ => panic!(),
        })
        .collect();
    assert_eq!(texts.last().unwrap(), "m0");
}

#[test]
fn get_difference_replays_what_a_client_missed() {
    let h = harness();
    let tl::enums::updates::State::State(state) = h.ok(&tl::functions::updates::GetState {});
    let diff = |pts| {
        h.ok(&tl::functions::updates::GetDifference {
            pts,
            pts_limit: None,
            pts_total_limit: None,
            date: state.date,
            qts: 0,
            qts_limit: None,
        })
    };
    assert!(matches!(
        diff(state.pts),
        tl::enums::updates::Difference::Empty(_)
    ));
    h.world
        .incoming("@alice_sandbox", None, "are you there?")
        .unwrap();
    let tl::enums::updates::Difference::Difference(d) = diff(state.pts) else {
        panic!("a full difference")
    };
    assert_eq!(d.new_messages.len(), 1);
    let tl::enums::updates::State::State(after) = d.state;
    assert_eq!(after.pts, state.pts + 1);
    assert!(matches!(
        diff(state.pts - 100),
        tl::enums::updates::Difference::TooLong(_)
    ));
}

#[test]
fn an_incoming_message_is_pushed_to_the_account_with_the_next_pts() {
    let h = harness();
    let mut updates = h.bus.subscribe();
    let tl::enums::updates::State::State(state) = h.ok(&tl::functions::updates::GetState {});
    let view = h.world.incoming("bob_sandbox", None, "ping").unwrap();
    assert!(!view.outgoing);
    assert_eq!(view.from, Some(5_000_003));
    let push = updates.try_recv().expect("an update was pushed");
    assert_eq!(push.auth_key_id, h.key());
    let tl::enums::Updates::Updates(pushed) =
        tl::enums::Updates::from_bytes(&push.updates).unwrap()
    else {
        panic!()
    };
    let tl::enums::Update::NewMessage(new) = &pushed.updates[0] else {
        panic!()
    };
    assert_eq!((new.pts, new.pts_count), (state.pts + 1, 1));
    assert!(
        updates.try_recv().is_err(),
        "the unauthorized key gets nothing"
    );
    assert_eq!(
        h.world.incoming("@nobody_here", None, "x"),
        Err(ControlError::Incoming(IncomingError::UnknownSender(
            "@nobody_here".into()
        )))
    );
}

#[test]
fn an_unauthorized_key_may_only_log_in() {
    let h = harness();
    let key = h.unauthorized();
    assert_eq!(
        h.call_as(key, &tl::functions::updates::GetState {})
            .map(|_| ()),
        Err((401, "AUTH_KEY_UNREGISTERED".into()))
    );
    assert!(h.call_as(key, &tl::functions::help::GetConfig {}).is_ok());
    assert_eq!(
        h.call_as(12345, &tl::functions::help::GetConfig {})
            .map(|_| ()),
        Err((401, "AUTH_KEY_UNREGISTERED".into()))
    );
    assert_eq!(h.world.auth_key(12345), None);
    assert_eq!(h.world.auth_key(key), Some(h.world.unauthorized_key()));
}

fn password_check(
    password: &tl::types::account::Password,
    text: &str,
) -> tl::functions::auth::CheckPassword {
    let Some(tl::enums::PasswordKdfAlgo::Sha256Sha256Pbkdf2Hmacsha512iter100000Sha256ModPow(algo)) =
        &password.current_algo
    else {
        panic!("SRP algorithm")
    };
    assert!(grammers_crypto::two_factor_auth::check_p_and_g(
        &algo.p, &algo.g
    ));
    let (m1, g_a) = grammers_crypto::two_factor_auth::calculate_2fa(
        &algo.salt1,
        &algo.salt2,
        &algo.p,
        &algo.g,
        password.srp_b.clone().unwrap(),
        password.secure_random.clone(),
        text,
    );
    tl::functions::auth::CheckPassword {
        password: tl::types::InputCheckPasswordSrp {
            srp_id: password.srp_id.unwrap(),
            a: g_a.to_vec(),
            m1: m1.to_vec(),
        }
        .into(),
    }
}

#[test]
fn phone_login_with_2fa_rejects_a_wrong_code_and_a_wrong_password() {
    let h = harness();
    let key = h.unauthorized();
    let tl::enums::auth::SentCode::Code(sent) = h
        .call_as(
            key,
            &tl::functions::auth::SendCode {
                phone_number: fixture::phone_international(),
                api_id: 1,
                api_hash: "x".into(),
                settings: tl::types::CodeSettings {
                    allow_flashcall: false,
                    current_number: false,
                    allow_app_hash: false,
                    allow_missed_call: false,
                    allow_firebase: false,
                    unknown_number: false,
                    logout_tokens: None,
                    token: None,
                    app_sandbox: None,
                }
                .into(),
            },
        )
        .unwrap()
    else {
        panic!("sentCode")
    };
    let sign_in = |code: &str| {
        h.call_as(
            key,
            &tl::functions::auth::SignIn {
                phone_number: fixture::phone_international(),
                phone_code_hash: sent.phone_code_hash.clone(),
                phone_code: Some(code.into()),
                email_verification: None,
            },
        )
        .map(|_| ())
    };
    assert_eq!(sign_in("00000"), bad("PHONE_CODE_INVALID"));
    assert_eq!(
        sign_in(fixture::LOGIN_CODE),
        Err((401, "SESSION_PASSWORD_NEEDED".into()))
    );
    let tl::enums::account::Password::Password(password) = h
        .call_as(key, &tl::functions::account::GetPassword {})
        .unwrap();
    assert_eq!(
        h.call_as(key, &password_check(&password, "not it"))
            .map(|_| ()),
        bad("PASSWORD_HASH_INVALID")
    );
    let tl::enums::auth::Authorization::Authorization(auth) = h
        .call_as(key, &password_check(&password, fixture::PASSWORD))
        .unwrap()
    else {
        panic!("authorization")
    };
    assert_eq!(auth.user.id(), fixture::ME_ID);
    assert!(h.call_as(key, &tl::functions::updates::GetState {}).is_ok());
}

#[test]
fn qr_login_completes_once_the_control_api_accepts_the_token() {
    let h = harness();
    let key = h.unauthorized();
    let mut pushes = h.bus.subscribe();
    let export = tl::functions::auth::ExportLoginToken {
        api_id: 1,
        api_hash: "x".into(),
        except_ids: vec![],
    };
    assert_eq!(
        h.world.accept_login_token(None),
        Err(ControlError::NoPendingLoginToken)
    );
    let tl::enums::auth::LoginToken::Token(token) = h.call_as(key, &export).unwrap() else {
        panic!("a token first")
    };
    assert!(
        h.call_as(key, &tl::functions::updates::GetState {})
            .is_err()
    );
    h.world.accept_login_token(Some(&token.token)).unwrap();
    let push = pushes.try_recv().expect("updateLoginToken pushed");
    assert_eq!(push.auth_key_id, key);
    let tl::enums::Updates::UpdateShort(short) =
        tl::enums::Updates::from_bytes(&push.updates).unwrap()
    else {
        panic!()
    };
    assert_eq!(short.update, tl::enums::Update::LoginToken);
    assert!(matches!(
        h.call_as(key, &export).unwrap(),
        tl::enums::auth::LoginToken::Success(_)
    ));
    assert!(h.call_as(key, &tl::functions::updates::GetState {}).is_ok());
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
fn revoking_sessions_and_reset_restore_the_starting_world() {
    let h = harness();
    let alice = h.input_peer("alice_sandbox");
    let sent = short_sent(h.send(&alice, "before reset", 1).unwrap());
    h.world.revoke_sessions();
    assert_eq!(
        h.call(&tl::functions::updates::GetState {}).map(|_| ()),
        Err((401, "AUTH_KEY_UNREGISTERED".into()))
    );
    h.world.reset();
    let tl::enums::updates::State::State(state) = h.ok(&tl::functions::updates::GetState {});
    assert!(state.pts >= sent.pts, "pts never goes backwards");
    assert!(
        h.world
            .chat_messages("alice_sandbox")
            .unwrap()
            .iter()
            .all(|m| m.text != "before reset")
    );
    assert_eq!(h.world.requests().len(), 1, "the log restarts too");
    // The same access hash still works after a reset.
    assert!(h.send(&alice, "after reset", 2).is_ok());
}

#[test]
fn ground_truth_accepts_every_peer_spelling() {
    let h = harness();
    for peer in [
        "@sandbox_announcements",
        "sandbox_announcements",
        "t.me/sandbox_announcements",
        "-1001500000003",
    ] {
        assert_eq!(h.world.chat_messages(peer).unwrap().len(), 2, "{peer}");
    }
    assert_eq!(h.world.chat_messages("me").unwrap().len(), 0);
    assert_eq!(h.world.chat_messages("5000002").unwrap().len(), 2);
    assert!(matches!(
        h.world.chat_messages("@ghost_user"),
        Err(ControlError::UnknownPeer(_))
    ));
}

#[test]
fn replies_silence_and_link_previews_are_kept_and_a_missing_reply_target_is_refused() {
    let h = harness();
    let alice = h.input_peer("alice_sandbox");
    let first = short_sent(h.send(&alice, "first", 1).unwrap());
    let reply_to = |id| {
        Some(tl::enums::InputReplyTo::Message(
            tl::types::InputReplyToMessage {
                reply_to_msg_id: id,
                top_msg_id: None,
                reply_to_peer_id: None,
                quote_text: None,
                quote_entities: None,
                quote_offset: None,
                monoforum_peer_id: None,
                todo_item_id: None,
                poll_option: None,
            },
        ))
    };
    let mut request = send_request(&alice, "second", 2);
    request.reply_to = reply_to(999_999);
    assert_eq!(
        h.call(&request).map(|_| ()),
        bad("REPLY_MESSAGE_ID_INVALID")
    );
    request.reply_to = reply_to(first.id);
    request.silent = true;
    request.no_webpage = true;
    h.call(&request).unwrap();
    let truth = h.world.chat_messages("alice_sandbox").unwrap();
    assert_eq!(truth[0].reply_to, Some(first.id));
    assert!(truth[0].silent);
    assert!(!truth[0].link_preview);
    assert!(truth[1].reply_to.is_none() && !truth[1].silent);
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
