//! Every job state change goes through [`apply`]: the store's one transition function, then
//! the log line (job id, states, attempts — never the text), the metrics and the
//! [`JobTransition`] broadcast that other parts (the events log) subscribe to.

use std::sync::Arc;

use tokio::sync::broadcast;

use super::metrics::OutboxMetrics;
use crate::domain::{JobState, JobTransition, Transition};
use crate::events::Events;
use crate::store::{Store, StoreError, Transitioned};

/// What a transition needs: where jobs live, whose they are, and who listens.
pub struct Transitions {
    pub store: Store,
    pub account: String,
    pub metrics: OutboxMetrics,
    pub listeners: broadcast::Sender<JobTransition>,
    /// Woken when a settled job's `job.*` event was logged (with the change, in the store).
    pub events: Option<Arc<Events>>,
}

impl Transitions {
    /// Applies `change` to job `id` if its state allows it.
    pub async fn apply(&self, id: &str, change: Transition) -> Result<Transitioned, StoreError> {
        let now = super::now_ms();
        let (outcome, logged) = self
            .store
            .transition_job_logged(&self.account, id, &change, now)
            .await?;
        if let (Some(events), Some(last_id)) = (&self.events, logged) {
            events.notify(&self.account, last_id);
        }
        if let Transitioned::Applied { from, job } = &outcome {
            let to = job.state;
            tracing::info!(
                account = %self.account,
                job_id = %job.id,
                from = from.as_str(),
                to = to.as_str(),
                attempts = job.attempts,
                error = job.error.as_ref().map(|e| e.code.as_str()),
                "outbox job state changed"
            );
            self.metrics.changed(to);
            if to == JobState::Sent {
                let waited = (now - job.due()).max(0);
                self.metrics
                    .sent_after(std::time::Duration::from_millis(waited as u64));
            }
            // No subscriber is not an error: nobody is listening yet.
            let _ = self.listeners.send(JobTransition {
                account: self.account.clone(),
                job: (**job).clone(),
                from: *from,
            });
        }
        Ok(outcome)
    }
}
