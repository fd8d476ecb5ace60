use super::*;
use crate::telegram::ops::convert::tests::raw_message;

fn incoming(id: i32, peer: tl::enums::Peer, text: &str) -> tl::enums::Message {
    let tl::enums::Message::Message(mut m) = raw_message(id, peer, text) else {
        unreachable!()
    };
    m.out = false;
    m.into()
}

fn new_message(message: tl::enums::Message) -> tl::enums::Update {
    tl::types::UpdateNewMessage {
        message,
        pts: 1,
        pts_count: 1,
    }
    .into()
}

fn supergroup(id: i64) -> tl::enums::Chat {
    tl::types::Channel {
        creator: false,
        left: false,
        broadcast: false,
        verified: false,
        megagroup: true,
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
        stories_unavailable: false,
        signature_profiles: false,
        autotranslation: false,
        broadcast_messages_allowed: false,
        monoforum: false,
        forum_tabs: false,
        id,
        access_hash: Some(1),
        title: "group".into(),
        username: None,
        photo: tl::enums::ChatPhoto::Empty,
        date: 0,
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

#[test]
fn an_incoming_private_message_names_the_other_user_as_its_sender() {
    let raw = incoming(3, tl::types::PeerUser { user_id: 42 }.into(), "hi");
    let event = event_of(&new_message(raw), &[], Some(1)).unwrap();
    assert_eq!(event.kind, EventType::MessageNew);
    assert_eq!(event.chat, Some(42));
    assert_eq!(event.data["sender"]["id"], 42);
    assert_eq!(event.data["text"], "hi");
    assert_eq!(event.data["outgoing"], false);
    assert_eq!(event.data["chat"]["type"], "user");
}

#[test]
fn an_outgoing_private_message_names_the_account_as_its_sender() {
    let raw = raw_message(3, tl::types::PeerUser { user_id: 42 }.into(), "hi");
    let event = event_of(&new_message(raw), &[], Some(1)).unwrap();
    assert_eq!(event.data["sender"]["id"], 1);
    assert_eq!(event.data["outgoing"], true);
}

#[test]
fn a_supergroup_message_is_a_group_event_with_its_entities_and_reply() {
    let tl::enums::Message::Message(mut m) = incoming(
        9,
        tl::types::PeerChannel { channel_id: 77 }.into(),
        "see #tag",
    ) else {
        unreachable!()
    };
    m.from_id = Some(tl::types::PeerUser { user_id: 5 }.into());
    m.entities = Some(vec![
        tl::types::MessageEntityHashtag {
            offset: 4,
            length: 4,
        }
        .into(),
    ]);
    m.reply_to = Some(
        tl::types::MessageReplyHeader {
            reply_to_scheduled: false,
            forum_topic: false,
            quote: false,
            reply_to_ephemeral: false,
            reply_to_msg_id: Some(8),
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
        .into(),
    );
    let update = tl::types::UpdateNewChannelMessage {
        message: m.into(),
        pts: 2,
        pts_count: 1,
    }
    .into();
    let event = event_of(&update, &[supergroup(77)], None).unwrap();
    assert_eq!(event.chat, Some(-1_000_000_000_077));
    assert_eq!(event.data["chat"]["type"], "group");
    assert_eq!(event.data["sender"]["id"], 5);
    assert_eq!(event.data["reply_to"], 8);
    assert_eq!(
        event.data["entities"],
        serde_json::json!([{"type": "hashtag", "offset": 4, "length": 4}])
    );
}

#[test]
fn deletions_name_their_chat_only_in_channels() {
    let private = tl::types::UpdateDeleteMessages {
        messages: vec![4, 5],
        pts: 3,
        pts_count: 2,
    }
    .into();
    let event = event_of(&private, &[], None).unwrap();
    assert_eq!(event.kind, EventType::MessageDeleted);
    assert_eq!(event.chat, None);
    assert_eq!(event.data, serde_json::json!({"ids": [4, 5]}));
    let channel = tl::types::UpdateDeleteChannelMessages {
        channel_id: 77,
        messages: vec![1],
        pts: 3,
        pts_count: 1,
    }
    .into();
    let event = event_of(&channel, &[], None).unwrap();
    assert_eq!(event.data["chat"]["type"], "channel");
    assert_eq!(event.chat, Some(-1_000_000_000_077));
}

#[test]
fn updates_without_a_message_meaning_make_no_event() {
    let update = tl::types::UpdateMessageId {
        id: 1,
        random_id: 2,
    }
    .into();
    assert_eq!(event_of(&update, &[], None), None);
}

#[test]
fn new_messages_come_before_edits_and_deletions_in_their_own_order() {
    let raw = |id| incoming(id, tl::types::PeerUser { user_id: 42 }.into(), "x");
    let edit = tl::types::UpdateEditMessage {
        message: raw(1),
        pts: 1,
        pts_count: 1,
    }
    .into();
    let mut events: Vec<NewEvent> = [edit, new_message(raw(1)), new_message(raw(2))]
        .iter()
        .filter_map(|u| event_of(u, &[], None))
        .collect();
    news_first(&mut events);
    let order: Vec<(EventType, i64)> = events
        .iter()
        .map(|e| (e.kind, e.data["id"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        order,
        [
            (EventType::MessageNew, 1),
            (EventType::MessageNew, 2),
            (EventType::MessageEdited, 1)
        ]
    );
}
