//! What other users do in the account's chats (edits, deletions, bursts), live and caught up
//! through `getDifference` / `getChannelDifference` after the account was away.

use crate::support::*;

/// The next update `pick` accepts (errors while reconnecting are skipped).
async fn next_matching<T>(
    stream: &mut grammers_client::client::UpdateStream,
    what: &str,
    mut pick: impl FnMut(Update) -> Option<T>,
) -> T {
    within(what, async {
        loop {
            if let Ok(update) = stream.next().await
                && let Some(found) = pick(update)
            {
                return found;
            }
        }
    })
    .await
}

async fn streaming(tg: &mut Tg) -> grammers_client::client::UpdateStream {
    tg.client
        .stream_updates(tg.updates.take().unwrap(), UpdatesConfiguration::default())
        .await
        .unwrap()
}

#[tokio::test]
async fn an_edit_and_a_deletion_by_the_sender_arrive_as_live_updates() {
    let sandbox = Sandbox::start().await.unwrap();
    let mut tg = connect(sandbox.session());
    within("get_me", tg.client.get_me()).await.unwrap();
    let mut stream = streaming(&mut tg).await;
    let from = sandbox.world().others[0].clone();
    let sent = sandbox.control().incoming(&from, None, "typo").unwrap();
    next_matching(&mut stream, "the new message", |u| match u {
        Update::NewMessage(m) if m.id() == sent.id => Some(()),
        _ => None,
    })
    .await;

    let body = json!({"peer": from, "id": sent.id, "text": "fixed"});
    let edited = post(&sandbox, "/incoming/edit", body).await;
    assert_eq!(edited.status(), 200);
    let edit = next_matching(&mut stream, "the edit", |u| match u {
        Update::MessageEdited(m) => Some(m),
        _ => None,
    })
    .await;
    assert_eq!((edit.id(), edit.text()), (sent.id, "fixed"));
    assert_eq!(ground_truth(&sandbox, &from).await[0]["text"], "fixed");

    let body = json!({"peer": from, "ids": [sent.id]});
    let deleted: Value = post(&sandbox, "/incoming/delete", body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(deleted["deleted"], json!([sent.id]));
    let gone = next_matching(&mut stream, "the deletion", |u| match u {
        Update::MessageDeleted(d) => Some(d),
        _ => None,
    })
    .await;
    assert_eq!(gone.messages(), &[sent.id]);
    assert_eq!(gone.channel_id(), None);
    let truth = ground_truth(&sandbox, &from).await;
    assert!(truth.iter().all(|m| m["id"] != sent.id));
}

#[tokio::test]
async fn edits_and_deletions_missed_while_down_are_caught_up_in_order() {
    let sandbox = Sandbox::start().await.unwrap();
    let mut tg = connect(sandbox.session());
    within("get_me", tg.client.get_me()).await.unwrap();
    let mut stream = streaming(&mut tg).await;
    let from = sandbox.world().others[1].clone();
    let control = sandbox.control();
    let first = control.incoming(&from, None, "first").unwrap();
    next_matching(&mut stream, "the first message", |u| match u {
        Update::NewMessage(m) if m.id() == first.id => Some(()),
        _ => None,
    })
    .await;
    control.set_down(true).await.unwrap();
    control
        .incoming_edit(&from, first.id, "first, edited")
        .unwrap();
    let second = control.incoming(&from, None, "second").unwrap();
    control.incoming_delete(&from, &[first.id]).unwrap();
    control.set_down(false).await.unwrap();

    let mut seen = Vec::new();
    next_matching(&mut stream, "everything missed", |u| {
        match u {
            Update::MessageEdited(m) => seen.push(format!("edit {} {}", m.id(), m.text())),
            Update::NewMessage(m) => seen.push(format!("new {} {}", m.id(), m.text())),
            Update::MessageDeleted(d) => seen.push(format!("delete {:?}", d.messages())),
            _ => {}
        }
        (seen.len() == 3).then_some(())
    })
    .await;
    seen.sort();
    assert_eq!(
        seen,
        [
            format!("delete [{}]", first.id),
            format!("edit {} first, edited", first.id),
            format!("new {} second", second.id),
        ]
    );
}

#[tokio::test]
async fn a_supergroup_post_missed_while_down_is_caught_up_through_the_channel_difference() {
    let sandbox = Sandbox::start().await.unwrap();
    let mut tg = connect(sandbox.session());
    let group_name = sandbox.world().supergroup.clone();
    let group = peer(&tg, &group_name).await;
    let mut stream = streaming(&mut tg).await;
    let control = sandbox.control();
    let from = sandbox.world().others[2].clone();
    // A private message gives the client a common pts (so a dropped connection is a gap it
    // fills with getDifference), our own post the channel's pts.
    let hello = control.incoming(&from, None, "hello").unwrap();
    next_matching(&mut stream, "the private message", |u| match u {
        Update::NewMessage(m) if m.id() == hello.id => Some(()),
        _ => None,
    })
    .await;
    tg.client.send_message(group, "mine").await.unwrap();
    control.set_down(true).await.unwrap();
    let missed = control
        .incoming(&from, Some(&group_name), "while away")
        .unwrap();
    control
        .incoming_edit(&group_name, missed.id, "while away (edited)")
        .unwrap();
    control.set_down(false).await.unwrap();
    let edit = next_matching(&mut stream, "the missed edit", |u| match u {
        Update::MessageEdited(m) => Some(m),
        _ => None,
    })
    .await;
    assert_eq!((edit.id(), edit.text()), (missed.id, "while away (edited)"));
    assert_eq!(edit.peer_id(), group.id);
    let requests = control.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.method == "updates.getChannelDifference" && r.ok),
        "the channel's difference was asked for"
    );
}

#[tokio::test]
async fn the_control_api_refuses_edits_and_deletions_it_cannot_do() {
    let sandbox = Sandbox::start().await.unwrap();
    let from = sandbox.world().others[0].clone();
    let body = json!({"peer": from, "id": 999_999, "text": "x"});
    let unknown = post(&sandbox, "/incoming/edit", body).await;
    assert_eq!(unknown.status(), 404);
    let body: Value = unknown.json().await.unwrap();
    assert_eq!(body["error"]["code"], "MESSAGE_NOT_FOUND");
    // The account's own message is not another user's to edit.
    let own = ground_truth(&sandbox, &sandbox.world().channel).await;
    let own_id = own[0]["id"].clone();
    let body = json!({"peer": sandbox.world().channel, "ids": [own_id]});
    assert_eq!(post(&sandbox, "/incoming/delete", body).await.status(), 400);
    let body = json!({"from": from, "text": "x", "count": 0});
    assert_eq!(post(&sandbox, "/incoming/burst", body).await.status(), 400);
}

#[tokio::test]
async fn a_burst_delivers_numbered_messages_in_order() {
    let sandbox = Sandbox::start().await.unwrap();
    let from = sandbox.world().others[0].clone();
    let body = json!({"from": from, "text": "tick", "count": 3});
    let burst = post(&sandbox, "/incoming/burst", body).await;
    assert_eq!(burst.status(), 201);
    let ids: Vec<i64> = burst.json::<Value>().await.unwrap()["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 3);
    assert!(ids.windows(2).all(|w| w[1] == w[0] + 1));
    let truth = ground_truth(&sandbox, &from).await;
    let texts: Vec<&str> = truth[..3]
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["tick #3", "tick #2", "tick #1"]);
}
