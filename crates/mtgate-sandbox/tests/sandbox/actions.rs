//! The everyday chat actions with the real grammers client: read receipts, forwards, pins,
//! typing, full channel info, peer dialogs and the session list, each checked against the
//! sandbox's ground truth (`"read"`, `"pinned"`, `"fwd_from"`).

use crate::support::*;

async fn incoming(sandbox: &Sandbox, from: &str, peer: Option<&str>, text: &str) -> i64 {
    let mut body = json!({"from": from, "text": text});
    if let Some(peer) = peer {
        body["peer"] = json!(peer);
    }
    let response = post(sandbox, "/incoming", body).await;
    assert!(response.status().is_success(), "incoming delivered");
    let message: Value = response.json().await.unwrap();
    message["id"].as_i64().unwrap()
}

fn rpc_name(err: &InvocationError) -> &str {
    match err {
        InvocationError::Rpc(rpc) => &rpc.name,
        other => panic!("expected an rpc error, got {other:?}"),
    }
}

#[tokio::test]
async fn reading_a_private_chat_and_a_supergroup_marks_incoming_messages_read() {
    let sandbox = Sandbox::start().await.unwrap();
    let tg = connect(sandbox.session());
    let world = sandbox.world();
    let alice = &world.others[0];
    for peer_name in [alice.clone(), world.supergroup.clone()] {
        let target = (peer_name != *alice).then_some(peer_name.as_str());
        let id = incoming(&sandbox, alice, target, "are you there?").await;
        let truth = ground_truth(&sandbox, &peer_name).await;
        assert_eq!(truth[0]["id"], id);
        assert_eq!(
            truth[0]["read"], false,
            "{peer_name}: new incoming is unread"
        );

        let chat = peer(&tg, &peer_name).await;
        within("mark_as_read", tg.client.mark_as_read(chat))
            .await
            .unwrap();
        let truth = ground_truth(&sandbox, &peer_name).await;
        assert!(truth.iter().all(|m| m["read"] == true), "{peer_name}");
    }
    let requests = get_json(&sandbox, "/requests").await;
    assert_eq!(methods(&requests, "messages.readHistory").len(), 1);
    assert_eq!(methods(&requests, "channels.readHistory").len(), 1);
}

#[tokio::test]
async fn reading_up_to_an_id_leaves_newer_messages_unread_and_counts_them_in_dialogs() {
    let sandbox = Sandbox::start().await.unwrap();
    let tg = connect(sandbox.session());
    let bob = sandbox.world().others[1].clone();
    let first = incoming(&sandbox, &bob, None, "one").await;
    incoming(&sandbox, &bob, None, "two").await;
    let chat = peer(&tg, &bob).await;
    let tl::enums::messages::AffectedMessages::Messages(affected) = within(
        "readHistory",
        tg.client.invoke(&tl::functions::messages::ReadHistory {
            peer: chat.into(),
            max_id: first as i32,
        }),
    )
    .await
    .unwrap();
    assert_eq!(affected.pts_count, 1);
    let truth = ground_truth(&sandbox, &bob).await;
    assert_eq!(
        (truth[0]["read"].clone(), truth[1]["read"].clone()),
        (json!(false), json!(true))
    );

    let tl::enums::messages::PeerDialogs::Dialogs(dialogs) = within(
        "getPeerDialogs",
        tg.client.invoke(&tl::functions::messages::GetPeerDialogs {
            peers: vec![tl::types::InputDialogPeer { peer: chat.into() }.into()],
        }),
    )
    .await
    .unwrap();
    let tl::enums::Dialog::Dialog(dialog) = &dialogs.dialogs[0] else {
        panic!("a chat's dialog, not a folder");
    };
    assert_eq!(dialog.unread_count, 1);
    assert_eq!(dialog.read_inbox_max_id, first as i32);
    assert_eq!(dialogs.messages.len(), 1, "the top message comes along");
}

#[tokio::test]
async fn forwards_carry_the_original_author_unless_dropped() {
    let sandbox = Sandbox::start().await.unwrap();
    let tg = connect(sandbox.session());
    let world = sandbox.world();
    let alice = world.others[0].clone();
    let original = incoming(&sandbox, &alice, None, "forward me").await;
    let from = peer(&tg, &alice).await;
    let to = peer(&tg, &world.channel).await;
    let forwarded = within(
        "forward_messages",
        tg.client.forward_messages(to, &[original as i32], from),
    )
    .await
    .unwrap();
    let message = forwarded[0].as_ref().expect("the forward is in the reply");
    let truth = ground_truth(&sandbox, &world.channel).await;
    assert_eq!(truth[0]["id"], message.id());
    assert_eq!(truth[0]["text"], "forward me");
    let alice_id = get_json(&sandbox, &format!("/chats/{alice}/messages")).await[0]["from"].clone();
    assert_eq!(truth[0]["fwd_from"]["peer"], alice_id);

    let dropped = within(
        "forward without author",
        tg.client.invoke(&tl::functions::messages::ForwardMessages {
            silent: true,
            background: false,
            with_my_score: false,
            drop_author: true,
            drop_media_captions: false,
            noforwards: false,
            allow_paid_floodskip: false,
            from_ephemeral: false,
            from_peer: from.into(),
            id: vec![original as i32],
            random_id: vec![4242],
            to_peer: to.into(),
            top_msg_id: None,
            reply_to: None,
            schedule_date: None,
            schedule_repeat_period: None,
            send_as: None,
            quick_reply_shortcut: None,
            effect: None,
            video_timestamp: None,
            allow_paid_stars: None,
            suggested_post: None,
        }),
    )
    .await
    .unwrap();
    assert!(matches!(dropped, tl::enums::Updates::Updates(_)));
    let truth = ground_truth(&sandbox, &world.channel).await;
    assert!(truth[0].get("fwd_from").is_none());
    assert_eq!(truth[0]["silent"], true);

    let missing = within(
        "forward a missing id",
        tg.client.forward_messages(to, &[999_999], from),
    )
    .await
    .unwrap_err();
    assert_eq!(rpc_name(&missing), "MESSAGE_ID_INVALID");
}

#[tokio::test]
async fn pins_show_in_history_ground_truth_and_full_channel_info() {
    let sandbox = Sandbox::start().await.unwrap();
    let tg = connect(sandbox.session());
    let world = sandbox.world();
    let channel = peer(&tg, &world.channel).await;
    let sent = tg.client.send_message(channel, "pin me").await.unwrap();
    within("pin", tg.client.pin_message(channel, sent.id()))
        .await
        .unwrap();
    let truth = ground_truth(&sandbox, &world.channel).await;
    assert_eq!(truth[0]["pinned"], true);
    let history = within("history", tg.client.iter_messages(channel).next())
        .await
        .unwrap()
        .unwrap();
    assert!(history.pinned());

    let tl::enums::messages::ChatFull::Full(full) = within(
        "getFullChannel",
        tg.client.invoke(&tl::functions::channels::GetFullChannel {
            channel: channel.into(),
        }),
    )
    .await
    .unwrap();
    let tl::enums::ChatFull::ChannelFull(info) = full.full_chat else {
        panic!("a channel's full info is channelFull");
    };
    assert_eq!(info.pinned_msg_id, Some(sent.id()));

    within("unpin", tg.client.unpin_message(channel, sent.id()))
        .await
        .unwrap();
    assert_eq!(
        ground_truth(&sandbox, &world.channel).await[0]["pinned"],
        false
    );

    let missing = within("pin a missing id", tg.client.pin_message(channel, 999_999))
        .await
        .unwrap_err();
    assert_eq!(rpc_name(&missing), "MESSAGE_ID_INVALID");
    let readonly = peer(&tg, &world.readonly_channel).await;
    let truth = ground_truth(&sandbox, &world.readonly_channel).await;
    let id = truth[0]["id"].as_i64().unwrap() as i32;
    let refused = within(
        "pin in a read-only channel",
        tg.client.pin_message(readonly, id),
    )
    .await
    .unwrap_err();
    assert_eq!(rpc_name(&refused), "CHAT_ADMIN_REQUIRED");
}

#[tokio::test]
async fn typing_is_accepted_and_logged_with_its_action() {
    let sandbox = Sandbox::start().await.unwrap();
    let tg = connect(sandbox.session());
    let world = sandbox.world();
    let alice = peer(&tg, &world.others[0]).await;
    within(
        "typing",
        tg.client
            .action(alice)
            .oneshot(tl::enums::SendMessageAction::SendMessageTypingAction),
    )
    .await
    .unwrap();
    let readonly = peer(&tg, &world.readonly_channel).await;
    let refused = within(
        "typing in a read-only channel",
        tg.client.action(readonly).cancel(),
    )
    .await
    .unwrap_err();
    assert_eq!(rpc_name(&refused), "CHAT_WRITE_FORBIDDEN");
    let requests = get_json(&sandbox, "/requests").await;
    let typing = methods(&requests, "messages.setTyping");
    assert_eq!(typing[0]["action"], "sendMessageTypingAction");
    assert_eq!(typing[0]["ok"], true);
    assert_eq!(typing[1]["action"], "sendMessageCancelAction");
}

#[tokio::test]
async fn the_session_list_names_the_current_session_as_its_client_described_itself() {
    let sandbox = Sandbox::start().await.unwrap();
    let tg = connect(sandbox.session());
    let tl::enums::account::Authorizations::Authorizations(list) = within(
        "getAuthorizations",
        tg.client
            .invoke(&tl::functions::account::GetAuthorizations {}),
    )
    .await
    .unwrap();
    let current: Vec<&tl::types::Authorization> = list
        .authorizations
        .iter()
        .map(|tl::enums::Authorization::Authorization(a)| a)
        .filter(|a| a.current)
        .collect();
    assert_eq!(current.len(), 1);
    // Described by what the client said in initConnection.
    assert_eq!(current[0].api_id, API_ID);
    assert_ne!(current[0].device_model, "unknown");
}
