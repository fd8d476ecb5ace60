//! Parking on flood waits and stopping: the parts of the scheduler that react to Telegram
//! saying "wait" and to shutdown.

use std::time::Duration;

use tokio::time::Instant;

use super::Scheduler;
use crate::domain::Transition;
use crate::outbox::metrics::ParkScope;

/// How long shutdown waits for sends in flight before returning them to the queue.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

impl Scheduler {
    /// Parks `chat` for `wait` (a FLOOD_WAIT or, with `slow_mode`, a SLOWMODE_WAIT); a
    /// FLOOD_WAIT while another chat is parked by one parks the account.
    pub(super) fn park(&mut self, chat: &str, wait: Duration, slow_mode: bool, now: Instant) {
        let until = now + wait;
        let Some(queue) = self.chats.get_mut(chat) else {
            return;
        };
        queue.parked_until = Some(queue.parked_until.map_or(until, |t| t.max(until)));
        queue.flood_parked = !slow_mode;
        self.shared.metrics().parked(ParkScope::Chat);
        tracing::info!(
            account = %self.shared.transitions.account,
            wait_s = wait.as_secs(),
            slow_mode,
            "outbox: a chat is parked until its wait ends"
        );
        if !slow_mode {
            self.maybe_park_account(chat, until, now);
        }
    }

    /// Parks the whole account when another chat is parked by a FLOOD_WAIT too.
    fn maybe_park_account(&mut self, chat: &str, until: Instant, now: Instant) {
        let other = self
            .chats
            .iter()
            .filter(|(name, q)| name.as_str() != chat && q.flood_parked && q.parked(now))
            .filter_map(|(_, q)| q.parked_until)
            .max();
        let Some(other) = other else {
            return;
        };
        let until = until.max(other);
        if self.account_parked_until.is_some_and(|t| t >= until) {
            return;
        }
        self.account_parked_until = Some(until);
        self.shared.metrics().parked(ParkScope::Account);
        tracing::warn!(
            account = %self.shared.transitions.account,
            wait_s = until.saturating_duration_since(now).as_secs(),
            "outbox: FLOOD_WAIT in several chats; the whole account is parked until it ends"
        );
    }

    /// Stops: waits for sends in flight (at most [`SHUTDOWN_GRACE`]), then returns the rest
    /// to the queue (they are sent again, with the same `random_id`, at the next start).
    pub(super) async fn stop(mut self) {
        let until = Instant::now() + SHUTDOWN_GRACE;
        while !self.in_flight.is_empty() {
            match tokio::time::timeout_at(until, self.in_flight.join_next()).await {
                Ok(Some(Ok(done))) => {
                    self.running.remove(&done.id);
                }
                Ok(Some(Err(e))) => tracing::error!(error = %e, "an outbox send task failed"),
                Ok(None) => break,
                Err(_) => {
                    self.in_flight.abort_all();
                    break;
                }
            }
        }
        for id in std::mem::take(&mut self.running).into_keys() {
            if let Err(e) = self
                .shared
                .transitions
                .apply(&id, Transition::Returned)
                .await
            {
                tracing::error!(job_id = %id, error = %e, "could not return an outbox job to the queue; it stays `sending` and is re-sent at the next start");
            }
        }
        tracing::info!(account = %self.shared.transitions.account, "outbox stopped");
    }
}
