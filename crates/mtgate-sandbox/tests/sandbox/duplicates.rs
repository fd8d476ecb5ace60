//! One auth key driven from two places at once: the connection log shows it, and with the
//! `AUTH_KEY_DUPLICATED` switch on the key dies as on Telegram.

use crate::support::*;

fn rpc(err: &InvocationError) -> Option<(i32, &str)> {
    match err {
        InvocationError::Rpc(rpc) => Some((rpc.code, rpc.name.as_str())),
        _ => None,
    }
}

async fn connections(sandbox: &Sandbox) -> Vec<Value> {
    get_json(sandbox, "/connections")
        .await
        .as_array()
        .expect("an array")
        .clone()
}

#[tokio::test]
async fn two_clients_on_one_key_are_logged_as_overlapping_holds_of_the_same_user() {
    let sandbox = Sandbox::start().await.unwrap();
    let first = connect(sandbox.session());
    let second = connect(sandbox.session());
    within("first get_me", first.client.get_me()).await.unwrap();
    within("second get_me", second.client.get_me())
        .await
        .expect("without the switch, a shared key keeps working");
    let log = connections(&sandbox).await;
    let live: Vec<&Value> = log.iter().filter(|c| c["closed_at_ms"].is_null()).collect();
    assert_eq!(live.len(), 2, "{log:?}");
    assert_eq!(live[0]["auth_key_id"], live[1]["auth_key_id"]);
    assert_ne!(live[0]["connection_id"], live[1]["connection_id"]);
    let me = sandbox.world().user;
    assert!(live.iter().all(|c| c["user"] == me.as_str()), "{log:?}");
    assert!(live.iter().all(|c| c["duplicate"] == false));
}

#[tokio::test]
async fn with_the_switch_on_a_second_holder_gets_auth_key_duplicated_and_the_key_dies() {
    let sandbox = Sandbox::start().await.unwrap();
    let first = connect(sandbox.session());
    within("first get_me", first.client.get_me()).await.unwrap();
    let switch = post(&sandbox, "/faults", json!({"auth_key_duplicated": true})).await;
    assert_eq!(switch.status(), 204);

    let second = connect(sandbox.session());
    let refused = within("second get_me", second.client.get_me()).await;
    let err = refused.expect_err("the second holder is refused");
    assert_eq!(rpc(&err), Some((406, "AUTH_KEY_DUPLICATED")), "{err:?}");

    let after = within("first get_me again", first.client.get_me()).await;
    let err = after.expect_err("the key is dead for the first holder too");
    assert_eq!(rpc(&err), Some((401, "AUTH_KEY_UNREGISTERED")), "{err:?}");

    let log = connections(&sandbox).await;
    assert_eq!(
        log.iter().filter(|c| c["duplicate"] == true).count(),
        1,
        "{log:?}"
    );
}

#[tokio::test]
async fn a_reconnect_after_dropped_connections_is_not_a_duplicate() {
    let sandbox = Sandbox::start().await.unwrap();
    let tg = connect(sandbox.session());
    within("get_me", tg.client.get_me()).await.unwrap();
    sandbox.control().set_auth_key_duplicated(true);
    sandbox.control().drop_connections();
    let me = eventually("get_me after the drop", async || {
        tg.client.get_me().await.ok()
    })
    .await;
    assert_eq!(
        me.username().map(|u| format!("@{u}")),
        Some(sandbox.world().user)
    );
    let log = connections(&sandbox).await;
    assert!(log.len() >= 2, "the reconnect is a second hold: {log:?}");
    assert!(log.iter().all(|c| c["duplicate"] == false), "{log:?}");
}

#[tokio::test]
async fn a_reset_turns_the_switch_off_and_forgets_closed_holds() {
    let sandbox = Sandbox::start().await.unwrap();
    sandbox.control().set_auth_key_duplicated(true);
    {
        let tg = connect(sandbox.session());
        within("get_me", tg.client.get_me()).await.unwrap();
    }
    eventually("the dropped client's connection to close", async || {
        let log = connections(&sandbox).await;
        log.iter()
            .all(|c| !c["closed_at_ms"].is_null())
            .then_some(())
    })
    .await;
    assert_eq!(post(&sandbox, "/reset", json!({})).await.status(), 204);
    let first = connect(sandbox.session());
    let second = connect(sandbox.session());
    within("first get_me", first.client.get_me()).await.unwrap();
    within("second get_me", second.client.get_me())
        .await
        .expect("the switch is off after a reset");
    let log = connections(&sandbox).await;
    assert_eq!(log.len(), 2, "only the two live holds remain: {log:?}");
    assert!(log.iter().all(|c| c["closed_at_ms"].is_null()), "{log:?}");
}
