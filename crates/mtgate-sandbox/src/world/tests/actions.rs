//! Read receipts and pins as updates: they advance the account's pts and a client that missed
//! them gets them from `updates.getDifference`, as on Telegram.

use grammers_tl_types as tl;

use super::*;

fn difference_since(h: &Harness, pts: i32, date: i32) -> tl::types::updates::Difference {
    let diff = h.ok(&tl::functions::updates::GetDifference {
        pts,
        pts_limit: None,
        pts_total_limit: None,
        date,
        qts: 0,
        qts_limit: None,
    });
    match diff {
        tl::enums::updates::Difference::Difference(d) => d,
        other => panic!("a full difference, got {other:?}"),
    }
}

#[test]
fn a_missed_read_and_pin_are_replayed_by_get_difference() {
    let h = harness();
    let alice = h.input_peer("alice_sandbox");
    let message = h.world.incoming("@alice_sandbox", None, "read me").unwrap();
    let tl::enums::updates::State::State(state) = h.ok(&tl::functions::updates::GetState {});

    let tl::enums::messages::AffectedMessages::Messages(read) =
        h.ok(&tl::functions::messages::ReadHistory {
            peer: alice.clone(),
            max_id: 0,
        });
    assert_eq!((read.pts, read.pts_count), (state.pts + 1, 1));
    // Reading again changes nothing and costs no pts.
    let tl::enums::messages::AffectedMessages::Messages(again) =
        h.ok(&tl::functions::messages::ReadHistory {
            peer: alice.clone(),
            max_id: 0,
        });
    assert_eq!((again.pts, again.pts_count), (read.pts, 0));
    h.ok(&tl::functions::messages::UpdatePinnedMessage {
        silent: false,
        unpin: false,
        pm_oneside: false,
        peer: alice,
        id: message.id,
    });

    let missed = difference_since(&h, state.pts, state.date);
    assert!(matches!(
        &missed.other_updates[..],
        [
            tl::enums::Update::ReadHistoryInbox(r),
            tl::enums::Update::PinnedMessages(p),
        ] if r.max_id == message.id && r.still_unread_count == 0 && p.pinned
            && p.messages == vec![message.id]
    ));
    let truth = h.world.chat_messages("@alice_sandbox").unwrap();
    assert!(truth[0].read && truth[0].pinned);
}

#[test]
fn messages_read_history_refuses_a_channel() {
    let h = harness();
    let channel = h.input_peer("sandbox_chat");
    let refused = h.call(&tl::functions::messages::ReadHistory {
        peer: channel,
        max_id: 0,
    });
    assert_eq!(refused.unwrap_err(), (400, "PEER_ID_INVALID".to_string()));
}
