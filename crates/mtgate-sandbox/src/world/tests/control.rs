//! Control operations: revoke, reset, ground truth.

use grammers_tl_types as tl;

use super::*;

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
