//! The update pump: grammers' `UpdatesReceiver` (its message box orders updates, notices
//! gaps and fills them with `getDifference` / `getChannelDifference`, from the persisted
//! state after a restart) turned into event batches for the log.
//!
//! It starts once the account first connected (a fresh store is first seeded with
//! `updates.getState` and its channels' pts, see `updates_seed`) and catches up before
//! anything live is handled. A
//! failed difference (Telegram unreachable) is retried with backoff; the message box keeps
//! its place, so nothing in between is skipped. The update state reaches the store only
//! with the events it produced (see [`crate::events::EventBatch`]).

use std::sync::Arc;
use std::time::Duration;

use grammers_client::Client;
use grammers_mtsender::{InvocationError, SenderPoolHandle, UpdatesConfiguration, UpdatesReceiver};
use grammers_session::storages::ErasedSession;
use grammers_session::updates::{State, UpdatesLike};
use grammers_tl_types as tl;
use tokio::sync::mpsc;

use super::health::ConnectionState;
use super::manager::Shared;
use super::reconnect::ReconnectSchedule;
use super::supervisor::learn_peers;
use super::updates::{event_of, news_first, state_change};
use super::updates_seed;
use crate::events::{EventBatch, EventSink};
use crate::store::UpdateChange;

/// Updates grammers' pool may hold before the supervisor forwards them (it forwards at
/// once; this only absorbs bursts while it is busy probing).
pub const POOL_UPDATES_CAPACITY: usize = 20_000;
/// Updates waiting for the receiver (each is tiny; memory grows only with what waits).
pub const FORWARD_CAPACITY: usize = 1_000_000;

pub(super) async fn run(
    shared: Arc<Shared>,
    client: Client,
    handle: SenderPoolHandle,
    session: Arc<ErasedSession>,
    (inject, updates): (mpsc::Sender<UpdatesLike>, mpsc::Receiver<UpdatesLike>),
    sink: EventSink,
) {
    if !connected_once(&shared).await {
        return;
    }
    updates_seed::seed_if_fresh(&shared, &client).await;
    let configuration = UpdatesConfiguration { catch_up: true };
    let mut receiver = match UpdatesReceiver::create(handle, session, updates, configuration).await
    {
        Ok(receiver) => receiver,
        Err(e) => {
            tracing::error!(error = %e, "cannot start receiving updates; no events will be logged");
            return;
        }
    };
    // The receiver reads its channel only once no difference is pending, so this marker
    // comes out of it once the start-up catch-up is done.
    // A closed channel means the supervisor ended; the loop below then ends too.
    let _ = inject.send(caught_up_marker()).await;
    drop(inject);
    let self_id = shared.health.snapshot().me.map(|me| me.id);
    let mut schedule = ReconnectSchedule::new(Duration::from_millis(200), Duration::from_secs(5));
    loop {
        match receiver.next().await {
            Ok((list, users, chats)) => {
                schedule.reset();
                if list.iter().any(|(update, _)| is_marker(update)) {
                    shared.updates_ready.send_replace(true);
                }
                learn_peers(&shared, &users, &chats).await;
                let batch = batch_of(&list, &chats, self_id);
                if !batch.is_empty() && !sink.send(batch).await {
                    return;
                }
            }
            Err(error) => {
                // Stopped or failed: the supervisor (which feeds the receiver) has ended.
                if matches!(
                    shared.health.state(),
                    ConnectionState::Stopped | ConnectionState::Failed
                ) {
                    return;
                }
                if matches!(&error, InvocationError::Rpc(rpc) if rpc.code == 401) {
                    // The key may be revoked: the supervisor's probe decides.
                    shared.wake.notify_one();
                }
                let delay = schedule.next_delay();
                tracing::info!(
                    error = %error,
                    retry_in_ms = delay.as_millis() as u64,
                    "cannot catch up on updates yet; retrying"
                );
                // Not connected: the supervisor reconnects (or gives up on a revoked key);
                // retry once it did, never on a timer of our own (no storm).
                let mut health = shared.health.subscribe();
                tokio::time::sleep(delay).await;
                if health
                    .wait_for(|h| h.state == ConnectionState::Connected)
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }
    }
}

/// An update that carries nothing (no pts, no message): the catch-up marker.
fn caught_up_marker() -> UpdatesLike {
    UpdatesLike::Updates(
        tl::types::UpdateShort {
            update: tl::enums::Update::Config,
            date: 0,
        }
        .into(),
    )
}

fn is_marker(update: &tl::enums::Update) -> bool {
    matches!(update, tl::enums::Update::Config)
}

/// Waits for the first successful connection; false if the account stopped first.
async fn connected_once(shared: &Shared) -> bool {
    let mut health = shared.health.subscribe();
    loop {
        match health.borrow_and_update().state {
            ConnectionState::Connected => return true,
            ConnectionState::Stopped | ConnectionState::Failed => return false,
            _ => {}
        }
        if health.changed().await.is_err() {
            return false;
        }
    }
}

/// The events of one receiver batch (new messages first) and the state it ends in.
fn batch_of(
    list: &[(tl::enums::Update, State)],
    chats: &[tl::enums::Chat],
    self_id: Option<i64>,
) -> EventBatch {
    let mut events: Vec<_> = list
        .iter()
        .filter_map(|(update, _)| event_of(update, chats, self_id))
        .collect();
    news_first(&mut events);
    EventBatch {
        events,
        state: UpdateChange::coalesce(list.iter().filter_map(|(_, state)| state_change(state))),
    }
}
