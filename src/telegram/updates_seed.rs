//! The starting update state of a fresh store: the account's `updates.getState` plus the pts
//! of every channel in its first page of dialogs. grammers alone only starts tracking a
//! channel once an update of it arrives; seeded, a channel's posts made while mtgate was
//! stopped are caught up even if it never heard of that channel live.

use grammers_client::Client;
use grammers_session::Session;
use grammers_session::types::{ChannelState, UpdateState, UpdatesState};
use grammers_tl_types as tl;

use super::manager::Shared;
use super::supervisor::learn_peers;

/// Dialogs read for their channels' pts.
const DIALOGS: i32 = 100;

/// Seeds the state when the store has none; a failure leaves it to grammers (which then
/// starts from `updates.getState` alone).
pub(super) async fn seed_if_fresh(shared: &Shared, client: &Client) {
    let known = match shared.session.updates_state().await {
        Ok(state) => state,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the update state");
            return;
        }
    };
    if known.pts != 0 || !known.channels.is_empty() {
        return;
    }
    let dialogs = tl::functions::messages::GetDialogs {
        exclude_pinned: false,
        folder_id: None,
        offset_date: 0,
        offset_id: 0,
        offset_peer: tl::enums::InputPeer::Empty,
        limit: DIALOGS,
        hash: 0,
    };
    let (dialogs, chats) = match client.invoke(&dialogs).await {
        Ok(tl::enums::messages::Dialogs::Dialogs(d)) => (d.dialogs, d.chats),
        Ok(tl::enums::messages::Dialogs::Slice(d)) => (d.dialogs, d.chats),
        Ok(tl::enums::messages::Dialogs::NotModified(_)) => (Vec::new(), Vec::new()),
        Err(e) => {
            tracing::warn!(error = %e, "cannot list dialogs to seed channel update state");
            return;
        }
    };
    // getChannelDifference needs each channel's access hash. Users are left to be learned
    // where they show up (history, updates), as before.
    learn_peers(shared, &[], &chats).await;
    let channels: Vec<ChannelState> = dialogs
        .iter()
        .filter_map(|dialog| match dialog {
            tl::enums::Dialog::Dialog(d) => match (&d.peer, d.pts) {
                (tl::enums::Peer::Channel(c), Some(pts)) => Some(ChannelState {
                    id: c.channel_id,
                    pts,
                }),
                _ => None,
            },
            _ => None,
        })
        .collect();
    let state = match client.invoke(&tl::functions::updates::GetState {}).await {
        Ok(tl::enums::updates::State::State(state)) => state,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the account's update state");
            return;
        }
    };
    let seeded = UpdatesState {
        pts: state.pts,
        qts: state.qts,
        date: state.date,
        seq: state.seq,
        channels,
    };
    tracing::info!(
        channels = seeded.channels.len(),
        "starting update state seeded"
    );
    if let Err(e) = shared
        .session
        .set_update_state(UpdateState::All(seeded))
        .await
    {
        tracing::warn!(error = %e, "cannot store the starting update state");
    }
}
