//! The supervisor task: connects at startup, drains the pool's updates channel (grammers
//! drops updates nobody reads), notices a closed connection, and reconnects with backoff so
//! health recovers without any API traffic.
//!
//! A connection is (re)established by *probing*: `users.getUsers(self)` makes the pool dial
//! the server and proves the key still has a user. A probe that fails with a revoked-key
//! error ends retrying for good: the key cannot come back, so hammering the server is
//! pointless.

use std::sync::Arc;
use std::time::Duration;

use grammers_client::Client;
use grammers_client::peer::User;
use grammers_session::Session;
use grammers_session::types::{PeerAuth, PeerInfo};
use grammers_session::updates::UpdatesLike;
use grammers_tl_types as tl;
use tokio::sync::mpsc;

use super::TelegramError;
use super::health::{ConnectionState, SelfUser};
use super::invoke::method_name;
use super::manager::{Shared, timed_call};
use super::reconnect::ReconnectSchedule;

/// Runs until the updates channel closes (pool stopped) or the task is aborted.
pub(super) async fn run(
    shared: Arc<Shared>,
    client: Client,
    mut updates: mpsc::Receiver<UpdatesLike>,
) {
    let options = shared.options.clone();
    let mut schedule = ReconnectSchedule::new(options.reconnect_initial, options.reconnect_max);
    // Ticks kept across iterations: a sleep made inside the select would restart with every
    // update, and under traffic the liveness probe would never run.
    let mut liveness = ticker(options.liveness_interval);
    let mut stall_check = ticker(stall_check_interval(shared.stall.window()));
    loop {
        match shared.health.state() {
            ConnectionState::Stopped | ConnectionState::Failed | ConnectionState::Standby => return,
            ConnectionState::Unauthorized => match updates.recv().await {
                Some(update) => learn(&shared, update).await,
                None => return runner_gone(&shared),
            },
            state @ (ConnectionState::Connecting | ConnectionState::Reconnecting) => {
                match probe(&shared, &client).await {
                    Ok(()) => {
                        if state == ConnectionState::Reconnecting {
                            shared.metrics.record_reconnect();
                            tracing::info!("reconnected to Telegram");
                        } else {
                            tracing::info!("connected to Telegram");
                        }
                        schedule.reset();
                    }
                    Err(error) if is_unauthorized(&error) => {}
                    Err(error) => {
                        let delay = schedule.next_delay();
                        tracing::info!(
                            error = %error,
                            retry_in_ms = delay.as_millis() as u64,
                            "Telegram is unreachable; retrying"
                        );
                        if !drain_for(&shared, &mut updates, delay).await {
                            return runner_gone(&shared);
                        }
                    }
                }
            }
            ConnectionState::Connected => {
                tokio::select! {
                    update = updates.recv() => match update {
                        Some(UpdatesLike::ConnectionClosed) => {
                            if shared.health.set_unreachable(
                                "the connection to Telegram was closed".into(),
                            ) {
                                tracing::warn!("the Telegram connection closed; reconnecting");
                            }
                        }
                        Some(update) => learn(&shared, update).await,
                        None => return runner_gone(&shared),
                    },
                    _ = shared.wake.notified() => {
                        if shared.health.state() == ConnectionState::Connected {
                            let _ = probe(&shared, &client).await;
                        }
                    }
                    _ = liveness.tick() => {
                        let _ = probe(&shared, &client).await;
                    }
                    _ = stall_check.tick() => {
                        if shared.stall.stalled(std::time::Instant::now()) {
                            tracing::warn!(
                                window_ms = shared.stall.window().as_millis() as u64,
                                "Telegram calls are waiting and nothing succeeded; probing"
                            );
                            let _ = probe(&shared, &client).await;
                        }
                    }
                }
            }
        }
    }
}

/// An interval whose first tick is one period away and that never bursts to catch up.
fn ticker(period: Duration) -> tokio::time::Interval {
    let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    interval
}

/// How often to look for a stall: a quarter of the window, within 50 ms..5 s.
fn stall_check_interval(window: Duration) -> Duration {
    (window / 4).clamp(Duration::from_millis(50), Duration::from_secs(5))
}

/// The pool's updates channel closed: its runner ended. During shutdown that is expected;
/// otherwise grammers' connection task died and nothing can reconnect without a restart.
fn runner_gone(shared: &Shared) {
    if shared
        .health
        .set_failed("the Telegram client stopped unexpectedly; restart mtgate".into())
    {
        tracing::error!("the Telegram client's connection task ended unexpectedly");
    }
}

/// One `users.getUsers(self)` round trip; records the outcome in the health snapshot.
async fn probe(shared: &Shared, client: &Client) -> Result<(), TelegramError> {
    if !shared.may_call() {
        // The lease is gone: the manager is about to stand by; not one more call.
        return Err(TelegramError::Unavailable(
            "this replica does not hold the account's lease".into(),
        ));
    }
    let timeout = shared.options.probe_timeout;
    let fut = async {
        match tokio::time::timeout(timeout, client.get_me()).await {
            Ok(result) => result,
            Err(_) => Err(grammers_client::InvocationError::Dropped(
                "the connection probe timed out",
            )),
        }
    };
    let method = method_name::<grammers_tl_types::functions::users::GetUsers>();
    match timed_call(shared, method, fut).await {
        Ok(user) => {
            remember_self(shared, &user).await;
            shared.health.set_connected(self_user(&user));
            Ok(())
        }
        Err(error) if is_unauthorized(&error) => {
            let name = match &error {
                TelegramError::Unauthorized { name } => name.clone(),
                TelegramError::Refused(r) => r.name.clone(),
                _ => unreachable!("is_unauthorized covers these two"),
            };
            if shared.health.set_unauthorized(name) {
                tracing::warn!(
                    error = %error,
                    "the Telegram session is not authorized (revoked or logged out); \
                     not retrying until restarted with a new TG_SESSION"
                );
            }
            Err(error)
        }
        Err(error) => {
            shared.health.set_unreachable(error.to_string());
            Err(error)
        }
    }
}

/// A revoked key, or any other 401 on `users.getUsers(self)`: the key has no usable user.
fn is_unauthorized(error: &TelegramError) -> bool {
    match error {
        TelegramError::Unauthorized { .. } => true,
        TelegramError::Refused(r) => r.code == 401,
        _ => false,
    }
}

/// Drains updates for `delay`; false when the channel closed (pool stopped).
async fn drain_for(
    shared: &Shared,
    updates: &mut mpsc::Receiver<UpdatesLike>,
    delay: Duration,
) -> bool {
    let deadline = tokio::time::Instant::now() + delay;
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => return true,
            update = updates.recv() => match update {
                // Expected while reconnecting; the next probe decides.
                Some(UpdatesLike::ConnectionClosed) => {}
                Some(update) => learn(shared, update).await,
                None => return false,
            },
        }
    }
}

/// Caches the users and chats an update carries, so their access hashes survive restarts.
async fn learn(shared: &Shared, update: UpdatesLike) {
    let (users, chats) = match update {
        UpdatesLike::Updates(tl::enums::Updates::Updates(u)) => (u.users, u.chats),
        UpdatesLike::Updates(tl::enums::Updates::Combined(u)) => (u.users, u.chats),
        _ => return,
    };
    let peers: Vec<PeerInfo> = users
        .iter()
        .filter_map(user_info)
        .chain(chats.iter().filter_map(chat_info))
        .collect();
    if !peers.is_empty()
        && let Err(e) = shared.session.cache_peers(peers).await
    {
        tracing::warn!(error = %e, "cannot remember peers from an update");
    }
}

fn user_info(user: &tl::enums::User) -> Option<PeerInfo> {
    match user {
        tl::enums::User::User(u) if !u.min => Some(PeerInfo::User {
            id: u.id,
            auth: Some(PeerAuth::from_hash(u.access_hash?)),
            bot: Some(u.bot),
            is_self: Some(u.is_self),
        }),
        _ => None,
    }
}

fn chat_info(chat: &tl::enums::Chat) -> Option<PeerInfo> {
    match chat {
        tl::enums::Chat::Chat(c) => Some(PeerInfo::Chat { id: c.id }),
        tl::enums::Chat::Channel(c) if !c.min => Some(PeerInfo::Channel {
            id: c.id,
            auth: Some(PeerAuth::from_hash(c.access_hash?)),
            kind: None,
        }),
        _ => None,
    }
}

/// Caches the logged-in user as `is_self`, which grammers uses to know it is signed in.
async fn remember_self(shared: &Shared, user: &User) {
    let info = user.raw.clone();
    if let Some(mut peer) = user_info(&info) {
        if let PeerInfo::User { is_self, .. } = &mut peer {
            *is_self = Some(true);
        }
        if let Err(e) = shared.session.cache_peer(peer).await {
            tracing::warn!(error = %e, "cannot remember the logged-in user");
        }
    }
}

/// What `/telegram/session/status` and the health snapshot keep about the account.
pub(super) fn self_user(user: &User) -> SelfUser {
    SelfUser {
        id: user.raw.id(),
        username: user.username().map(str::to_owned),
        first_name: user.first_name().map(str::to_owned),
        last_name: user.last_name().map(str::to_owned),
        phone: user.phone().map(str::to_owned),
        is_bot: user.is_bot(),
    }
}
