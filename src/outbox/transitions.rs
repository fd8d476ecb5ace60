//! Every job state change goes through [`apply`]: the store's one transition function, then
//! the log line (job id, states, attempts — never the text), the metrics and the
//! [`JobTransition`] broadcast that other parts (the events log) subscribe to.

use tokio::sync::broadcast;

use super::metrics::OutboxMetrics;
use crate::domain::{JobState, JobTransition, Transition};
use crate::store::{Store, StoreError, Transitioned};

/// What a transition needs: where jobs live, whose they are, and who listens.
pub struct Transitions {
    pub store: Store,
    pub account: String,
    pub metrics: OutboxMetrics,
    pub listeners: broadcast::Sender<JobTransition>,
}

impl Transitions {
    /// Applies `change` to job `id` if its state allows it.
    pub async fn apply(&self, id: &str, change: Transition) -> Result<Transitioned, StoreError> {
        let now = super::now_ms();
        let outcome = self
            .store
            .transition_job(&self.account, id, &change, now)
            .await?;
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
