//! Sending, editing, deleting and reading messages.

use grammers_tl_types as tl;

use super::*;

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
    let seeded = h.world.chat_messages("sandbox_news").unwrap();
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
    assert_eq!(h.world.chat_messages("sandbox_news").unwrap(), seeded);
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
