//! Where the sandbox must look like Telegram to an unmodified client: lenient argument types,
//! the Saved Messages send shape, server-side entities, older layers refused by name.

use crate::support::*;
use grammers_client::tl::{Deserializable, Identifiable, RemoteCall, Serializable};

/// A call serialized under another method's constructor id with a first argument of a
/// different (lenient) type, as some widely used clients send them.
struct Lenient<R> {
    constructor_id: u32,
    first: tl::enums::InputPeer,
    rest: Vec<u8>,
    _returns: std::marker::PhantomData<R>,
}

impl<R> Serializable for Lenient<R> {
    fn serialize(&self, buf: &mut impl Extend<u8>) {
        self.constructor_id.serialize(buf);
        self.first.serialize(buf);
        buf.extend(self.rest.iter().copied());
    }
}

impl<R: Deserializable> RemoteCall for Lenient<R> {
    type Return = R;
}

fn lenient<R>(constructor_id: u32, first: tl::enums::InputPeer, rest: Vec<u8>) -> Lenient<R> {
    Lenient {
        constructor_id,
        first,
        rest,
        _returns: std::marker::PhantomData,
    }
}

#[tokio::test]
async fn input_peers_are_accepted_where_input_channels_and_input_users_are_expected() {
    let sandbox = Sandbox::start().await.unwrap();
    let tg = connect(sandbox.session());
    let world = sandbox.world();
    let group = peer(&tg, &world.supergroup).await;
    let sent = tg.client.send_message(group, "lenient").await.unwrap();
    let ids: Vec<tl::enums::InputMessage> =
        vec![tl::types::InputMessageId { id: sent.id() }.into()];
    let tl::enums::messages::Messages::ChannelMessages(found) = within(
        "channels.getMessages with an InputPeerChannel",
        tg.client.invoke(&lenient::<tl::enums::messages::Messages>(
            tl::functions::channels::GetMessages::CONSTRUCTOR_ID,
            group.into(),
            ids.to_bytes(),
        )),
    )
    .await
    .unwrap() else {
        panic!("a channel answers channelMessages");
    };
    assert_eq!(found.messages.len(), 1);

    let tl::enums::messages::AffectedMessages::Messages(deleted) = within(
        "channels.deleteMessages with an InputPeerChannel",
        tg.client
            .invoke(&lenient::<tl::enums::messages::AffectedMessages>(
                tl::functions::channels::DeleteMessages::CONSTRUCTOR_ID,
                group.into(),
                vec![sent.id()].to_bytes(),
            )),
    )
    .await
    .unwrap();
    assert_eq!(deleted.pts_count, 1);
    let truth = ground_truth(&sandbox, &world.supergroup).await;
    assert!(truth.iter().all(|m| m["id"] != sent.id()));

    let alice = peer(&tg, &world.others[0]).await;
    let full = within(
        "users.getFullUser with an InputPeerUser",
        tg.client.invoke(&lenient::<tl::enums::users::UserFull>(
            tl::functions::users::GetFullUser::CONSTRUCTOR_ID,
            alice.into(),
            Vec::new(),
        )),
    )
    .await
    .unwrap();
    let tl::enums::users::UserFull::Full(full) = full;
    assert_eq!(Some(full.users.len()), Some(1));

    // users.getUsers takes a vector: its elements may be peers too.
    let peers: Vec<tl::enums::InputPeer> = vec![alice.into(), tl::enums::InputPeer::PeerSelf];
    let mut body = tl::functions::users::GetUsers::CONSTRUCTOR_ID
        .to_le_bytes()
        .to_vec();
    body.extend(peers.to_bytes());
    let users = within(
        "users.getUsers with InputPeers",
        tg.client
            .invoke(&RawCall::<Vec<tl::enums::User>>(body, Default::default())),
    )
    .await
    .unwrap();
    assert_eq!(users.len(), 2);
}

/// A call given as its bytes.
struct RawCall<R>(Vec<u8>, std::marker::PhantomData<R>);

impl<R> Serializable for RawCall<R> {
    fn serialize(&self, buf: &mut impl Extend<u8>) {
        buf.extend(self.0.iter().copied());
    }
}

impl<R: Deserializable> RemoteCall for RawCall<R> {
    type Return = R;
}

#[tokio::test]
async fn a_send_to_saved_messages_is_answered_with_full_updates() {
    let sandbox = Sandbox::start().await.unwrap();
    let tg = connect(sandbox.session());
    let random_id = 777;
    let reply = within(
        "send to self",
        tg.client.invoke(&tl::functions::messages::SendMessage {
            no_webpage: false,
            silent: false,
            background: false,
            clear_draft: false,
            noforwards: false,
            update_stickersets_order: false,
            invert_media: false,
            allow_paid_floodskip: false,
            peer: tl::enums::InputPeer::PeerSelf,
            reply_to: None,
            message: "note to self".into(),
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
        }),
    )
    .await
    .unwrap();
    let tl::enums::Updates::Updates(updates) = reply else {
        panic!("Saved Messages answer updates, got {reply:?}");
    };
    let id = updates.updates.iter().find_map(|u| match u {
        tl::enums::Update::MessageId(m) if m.random_id == random_id => Some(m.id),
        _ => None,
    });
    let truth = ground_truth(&sandbox, "me").await;
    assert_eq!(Some(truth[0]["id"].as_i64().unwrap() as i32), id);
    // grammers' own send_message copes with that shape too.
    let sent = within("send_message to me", async {
        let me = tg.client.get_me().await.unwrap();
        tg.client
            .send_message(me.to_ref().await.unwrap().unwrap(), "again")
            .await
    })
    .await
    .unwrap();
    assert_eq!(ground_truth(&sandbox, "me").await[0]["id"], sent.id());
}

#[tokio::test]
async fn plain_text_gets_telegrams_entities_and_a_private_send_echoes_them() {
    let sandbox = Sandbox::start().await.unwrap();
    let tg = connect(sandbox.session());
    let alice_name = sandbox.world().others[0].clone();
    let alice = peer(&tg, &alice_name).await;
    let text = "🎉 see https://example.com, ask @bob_sandbox #sandbox /start +1 555 010 0001";
    let reply = within(
        "send plain text",
        tg.client.invoke(&tl::functions::messages::SendMessage {
            no_webpage: true,
            silent: false,
            background: false,
            clear_draft: false,
            noforwards: false,
            update_stickersets_order: false,
            invert_media: false,
            allow_paid_floodskip: false,
            peer: alice.into(),
            reply_to: None,
            message: text.into(),
            random_id: 99,
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
        }),
    )
    .await
    .unwrap();
    let tl::enums::Updates::UpdateShortSentMessage(short) = reply else {
        panic!("a private send is answered with updateShortSentMessage");
    };
    let echoed = short.entities.expect("the detected entities are echoed");
    let truth = ground_truth(&sandbox, &alice_name).await;
    let kinds: Vec<&str> = truth[0]["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.len(), echoed.len());
    assert!(kinds.contains(&"url") && kinds.contains(&"mention") && kinds.contains(&"hashtag"));
    // UTF-16 offsets: the party popper is two units, so the URL starts at 7.
    let url = &truth[0]["entities"][0];
    assert_eq!(
        (url["type"].clone(), url["offset"].clone()),
        (json!("url"), json!(7))
    );
    assert_eq!(url["length"], "https://example.com".len());
}

#[tokio::test]
async fn an_older_layer_is_refused_with_an_error_naming_the_supported_layer() {
    let sandbox = Sandbox::start().await.unwrap();
    let tg = connect(sandbox.session());
    let err = within(
        "invokeWithLayer(100)",
        tg.client.invoke(&tl::functions::InvokeWithLayer {
            layer: 100,
            query: tl::functions::help::GetConfig {},
        }),
    )
    .await
    .unwrap_err();
    let InvocationError::Rpc(rpc) = err else {
        panic!("an rpc_error, got {err:?}");
    };
    assert_eq!(
        (rpc.code, rpc.name.as_str(), rpc.value),
        (400, "CONNECTION_LAYER_INVALID", Some(tl::LAYER as u32))
    );
    let requests = get_json(&sandbox, "/requests").await;
    let refused = methods(&requests, "help.getConfig");
    assert_eq!(
        refused.last().unwrap()["error"],
        format!("CONNECTION_LAYER_INVALID_{}", tl::LAYER)
    );
}

#[tokio::test]
async fn a_method_the_sandbox_does_not_model_is_a_clean_rpc_error() {
    let sandbox = Sandbox::start().await.unwrap();
    let tg = connect(sandbox.session());
    let err = within(
        "an unmodelled method",
        tg.client
            .invoke(&tl::functions::account::GetWallPapers { hash: 0 }),
    )
    .await
    .unwrap_err();
    assert!(err.is("METHOD_NOT_SUPPORTED_BY_SANDBOX"), "{err:?}");
    let me = within("get_me afterwards", tg.client.get_me())
        .await
        .unwrap();
    assert!(me.username().is_some());
}
