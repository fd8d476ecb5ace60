//! Update state, differences and pushed updates.

use grammers_tl_types::{self as tl, Deserializable};

use super::*;

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
    // Only bob's own session hears of its copy; the unauthorized key gets nothing.
    let rest: Vec<i64> = std::iter::from_fn(|| updates.try_recv().ok())
        .map(|p| p.auth_key_id)
        .collect();
    assert_eq!(rest.len(), 1, "bob's session is told of its copy");
    assert!(!rest.contains(&h.unauthorized()) && !rest.contains(&h.key()));
    assert_eq!(
        h.world.incoming("@nobody_here", None, "x"),
        Err(ControlError::Incoming(IncomingError::UnknownSender(
            "@nobody_here".into()
        )))
    );
}

/// `updates.getChannelDifference` for `channel` from `pts`, at most `limit` updates.
fn channel_difference(
    h: &Harness,
    channel: &tl::types::InputPeerChannel,
    pts: i32,
    limit: i32,
) -> tl::enums::updates::ChannelDifference {
    h.ok(&tl::functions::updates::GetChannelDifference {
        force: false,
        channel: tl::types::InputChannel {
            channel_id: channel.channel_id,
            access_hash: channel.access_hash,
        }
        .into(),
        filter: tl::enums::ChannelMessagesFilter::Empty,
        pts,
        limit,
    })
}

/// Posts `text` to the channel `news`; the channel pts the post reached.
fn post(h: &Harness, news: &tl::enums::InputPeer, text: &str, random_id: i64) -> i32 {
    let tl::enums::Updates::Updates(sent) = h.send(news, text, random_id).unwrap() else {
        panic!("a channel post is answered with full updates")
    };
    let tl::enums::Update::NewChannelMessage(new) = &sent.updates[1] else {
        panic!("the post's new-message update")
    };
    new.pts
}

#[test]
fn get_channel_difference_replays_a_channels_missed_posts() {
    let h = harness();
    let news = h.input_peer("sandbox_news");
    let tl::enums::InputPeer::Channel(c) = news.clone() else {
        unreachable!()
    };
    let pts = post(&h, &news, "one", 1);
    let diff = |pts| channel_difference(&h, &c, pts, 100);
    let tl::enums::updates::ChannelDifference::Empty(empty) = diff(pts) else {
        panic!("nothing missed")
    };
    assert_eq!(empty.pts, pts);
    let tl::enums::updates::ChannelDifference::Difference(d) = diff(pts - 1) else {
        panic!("one post missed")
    };
    assert_eq!((d.pts, d.new_messages.len()), (pts, 1));
    assert!(d.r#final);
}

#[test]
fn a_channel_difference_cut_by_its_limit_says_more_follows_from_the_pts_it_reached() {
    let h = harness();
    let news = h.input_peer("sandbox_news");
    let tl::enums::InputPeer::Channel(c) = news.clone() else {
        unreachable!()
    };
    let mut last_pts = 0;
    for (i, text) in ["one", "two", "three"].into_iter().enumerate() {
        last_pts = post(&h, &news, text, 10 + i as i64);
    }
    let diff = |pts, limit| {
        let tl::enums::updates::ChannelDifference::Difference(d) =
            channel_difference(&h, &c, pts, limit)
        else {
            panic!("posts missed")
        };
        d
    };
    let first = diff(last_pts - 3, 2);
    assert_eq!((first.pts, first.new_messages.len()), (last_pts - 1, 2));
    assert!(!first.r#final, "one more post follows");
    let rest = diff(first.pts, 2);
    assert_eq!((rest.pts, rest.new_messages.len()), (last_pts, 1));
    assert!(rest.r#final);
}

#[test]
fn the_accounts_other_sessions_hear_of_what_one_session_sends() {
    let h = harness();
    let other = h.unauthorized();
    let export = tl::functions::auth::ExportLoginToken {
        api_id: 1,
        api_hash: "x".into(),
        except_ids: vec![],
    };
    h.call_as(other, &export).unwrap();
    h.world.accept_login_token(None).unwrap();
    h.call_as(other, &export).unwrap();
    let mut pushes = h.bus.subscribe();
    let alice = h.input_peer("alice_sandbox");
    let sent = short_sent(h.send(&alice, "seen elsewhere", 1).unwrap());
    let push = pushes.try_recv().expect("the other session is told");
    assert_eq!(push.auth_key_id, other);
    let tl::enums::Updates::Updates(updates) =
        tl::enums::Updates::from_bytes(&push.updates).unwrap()
    else {
        panic!()
    };
    let tl::enums::Update::NewMessage(new) = &updates.updates[0] else {
        panic!()
    };
    assert_eq!((new.message.id(), new.pts), (sent.id, sent.pts));
    // Next only alice's own session, told of its copy; never the sender's key.
    let rest: Vec<i64> = std::iter::from_fn(|| pushes.try_recv().ok())
        .map(|p| p.auth_key_id)
        .collect();
    assert_eq!(rest.len(), 1, "alice's session is told of its copy");
    assert!(!rest.contains(&h.key()) && !rest.contains(&other));
}
