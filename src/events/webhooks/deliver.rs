//! One delivery task per webhook: reads its account's log from the webhook's cursor, one
//! event at a time (so events arrive in log order, hence in order per chat), and posts each
//! with retries (exponential backoff with jitter) behind the endpoint's circuit breaker. An
//! event that used up its attempts goes to the webhook's failures and the cursor moves on;
//! redelivery requests are served between events. At-least-once: the cursor moves only
//! after an event was delivered or recorded as failed.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::breaker::{Breaker, BreakerState};
use super::signature::sign;
use crate::config::WebhookPolicy;
use crate::domain::{Event, EventFilter, EventType};
use crate::events::Events;
use crate::store::{FailureRecord, StoreError, WebhookRecord};
use crate::telegram::lease::LeaseGate;

/// Events read from the log at a time.
const PAGE: i64 = 100;
/// Longest retry delay.
const MAX_DELAY: Duration = Duration::from_secs(300);

/// What `GET /v1/webhooks` shows of a running delivery task.
#[derive(Clone, Debug)]
pub struct Status {
    pub breaker: BreakerState,
    pub last_error: Option<String>,
}

/// Delivery counts of one webhook since start, for `/metrics`.
#[derive(Debug, Default)]
pub struct Counts {
    pub delivered: std::sync::atomic::AtomicU64,
    pub failed_attempts: std::sync::atomic::AtomicU64,
    pub dead: std::sync::atomic::AtomicU64,
}

pub(super) struct Deliverer {
    pub events: Arc<Events>,
    pub http: reqwest::Client,
    pub policy: WebhookPolicy,
    pub hook: WebhookRecord,
    pub status: Arc<Mutex<Status>>,
    pub counts: Arc<Counts>,
    /// With replicas: deliver only while this replica holds the webhook's account (so one
    /// replica delivers each event); `None` when alone.
    pub gate: Option<Arc<LeaseGate>>,
}

impl Deliverer {
    pub async fn run(self, mut redeliver: mpsc::UnboundedReceiver<Vec<i64>>) {
        let store = self.events.store().clone();
        let filter = EventFilter {
            types: self
                .hook
                .events
                .iter()
                .filter_map(|t| EventType::parse(t))
                .collect(),
            chats: self.hook.chats.clone(),
        };
        let mut breaker = Breaker::new(self.policy.breaker_threshold, self.policy.breaker_cooldown);
        let mut wake = self.events.subscribe(&self.hook.account);
        let mut cursor = retry(|| store.webhook_cursor(&self.hook.id)).await;
        let mut pending: Vec<i64> = Vec::new();
        loop {
            if let Some(gate) = &self.gate
                && !gate.is_open()
            {
                // Another replica delivers meanwhile; on taking over, its cursor is ours.
                gate.opened().await;
                cursor = retry(|| store.webhook_cursor(&self.hook.id)).await;
            }
            while let Ok(ids) = redeliver.try_recv() {
                pending.extend(ids);
            }
            for id in std::mem::take(&mut pending) {
                self.redeliver(id, &mut breaker).await;
            }
            wake.borrow_and_update();
            let page = retry(|| store.events_after(&self.hook.account, cursor, PAGE)).await;
            if page.is_empty() {
                tokio::select! {
                    changed = wake.changed() => if changed.is_err() { return },
                    ids = redeliver.recv() => match ids {
                        Some(ids) => pending.extend(ids),
                        None => return,
                    },
                }
                continue;
            }
            for event in page {
                let failure = if filter.matches(&event) {
                    self.deliver(&event, &mut breaker).await.err()
                } else {
                    None
                };
                retry(|| store.advance_webhook(&self.hook.id, event.id, failure.as_ref())).await;
                cursor = event.id;
            }
        }
    }

    /// Delivers one dead letter again; it leaves the failures only once delivered.
    async fn redeliver(&self, event_id: i64, breaker: &mut Breaker) {
        let store = self.events.store();
        let event = retry(|| store.event(&self.hook.account, event_id)).await;
        let result = match event {
            Some(event) => self.deliver(&event, breaker).await,
            // Deleted by retention: nothing left to deliver.
            None => Ok(()),
        };
        match result {
            Ok(()) => retry(|| store.remove_webhook_failure(&self.hook.id, event_id)).await,
            Err(failure) => retry(|| store.put_webhook_failure(&self.hook.id, &failure)).await,
        }
    }

    /// Up to `max_attempts` posts of `event`; the failure record when all failed.
    async fn deliver(&self, event: &Event, breaker: &mut Breaker) -> Result<(), FailureRecord> {
        let body = event.to_json().to_string();
        let message_id = format!("evt_{}_{}", event.account, event.id);
        let mut last_error = String::new();
        for attempt in 1..=self.policy.max_attempts {
            let now = Instant::now();
            let ready = breaker.ready_at(now);
            if ready > now {
                self.set_status(BreakerState::Open, Some(&last_error));
                tokio::time::sleep_until(ready.into()).await;
            }
            match self.post(&message_id, &body).await {
                Ok(()) => {
                    self.counts
                        .delivered
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    breaker.on_success();
                    self.set_status(BreakerState::Closed, None);
                    return Ok(());
                }
                Err(why) => {
                    self.counts
                        .failed_attempts
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let opened = breaker.on_failure(Instant::now());
                    tracing::info!(
                        webhook = %self.hook.id,
                        event_id = event.id,
                        attempt,
                        error = %why,
                        breaker_opened = opened,
                        "webhook delivery failed"
                    );
                    last_error = why;
                    self.set_status(breaker.state(Instant::now()), Some(&last_error));
                    if attempt < self.policy.max_attempts {
                        tokio::time::sleep(backoff(self.policy.retry_base, attempt)).await;
                    }
                }
            }
        }
        self.counts
            .dead
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tracing::warn!(webhook = %self.hook.id, event_id = event.id, "webhook event failed for good; kept in its failures");
        Err(FailureRecord {
            event_id: event.id,
            attempts: i64::from(self.policy.max_attempts),
            last_error,
            failed_at: crate::store::now(),
        })
    }

    /// One signed POST; `Err` names why it failed (never the body).
    async fn post(&self, message_id: &str, body: &str) -> Result<(), String> {
        let timestamp = crate::store::now();
        let signature = sign(&self.hook.secret, message_id, timestamp, body.as_bytes());
        let response = self
            .http
            .post(&self.hook.url)
            .timeout(self.policy.timeout)
            .header("content-type", "application/json")
            .header("webhook-id", message_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body.to_owned())
            .send()
            .await
            .map_err(|e| crate::outgoing::describe(&e))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("HTTP {}", status.as_u16()))
        }
    }

    fn set_status(&self, breaker: BreakerState, last_error: Option<&str>) {
        let mut status = self.status.lock().unwrap_or_else(|p| p.into_inner());
        status.breaker = breaker;
        if let Some(error) = last_error.filter(|e| !e.is_empty()) {
            status.last_error = Some(error.to_string());
        }
    }
}

/// `base · 2^(attempt-1)`, at most five minutes, then a random half to all of it (jitter,
/// so endpoints that failed together are not retried together).
pub fn backoff(base: Duration, attempt: u32) -> Duration {
    let full = base
        .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)))
        .min(MAX_DELAY);
    full.mul_f64(0.5 + rand::random::<f64>() * 0.5)
}

/// Retries a store operation until it works: a delivery task has nothing better to do, and
/// skipping would lose events.
async fn retry<T, F, Fut>(mut op: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    let mut delay = Duration::from_millis(100);
    loop {
        match op().await {
            Ok(value) => return value,
            Err(e) => {
                tracing::error!(error = %e, "webhook delivery cannot use the store; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_with_jitter_and_stop_growing_at_five_minutes() {
        let base = Duration::from_millis(100);
        for attempt in 1..=4 {
            let full = base * 2u32.pow(attempt - 1);
            for _ in 0..20 {
                let d = backoff(base, attempt);
                assert!(d >= full / 2 && d <= full, "{attempt}: {d:?}");
            }
        }
        assert!(backoff(base, 40) <= MAX_DELAY);
        assert!(backoff(base, 40) >= MAX_DELAY / 2);
    }
}
