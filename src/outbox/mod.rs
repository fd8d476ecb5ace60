//! The durable outbox: sends accepted now ([`Outbox::enqueue`], one store transaction with the
//! idempotency record) and delivered by the account's [`scheduler`] — FIFO per chat, priority
//! across chats, paced below Telegram's limits ([`pacing`]), parked on flood waits, retried
//! with backoff ([`verdict`]), exactly once across crashes (each job's `random_id` is derived
//! from its id, and a job found `sending` at start is sent again with it).
//!
//! - [`queue`]: one chat's pending jobs; [`worker`]: one attempt at one job.
//! - [`transitions`]: every state change (store, log, metrics, [`JobTransition`] broadcast).
//! - [`metrics`]: the `/metrics` families.

pub mod metrics;
pub mod pacing;
pub mod queue;
pub mod scheduler;
pub mod transitions;
pub mod verdict;
pub mod worker;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;

use crate::accounts::{Account, AccountRegistry};
use crate::config::OutboxConfig;
use crate::domain::{Job, JobTransition, NewJob, Transition};
use crate::events::Events;
use crate::store::{EnqueueKey, Enqueued, JobFilter, Store, StoreError, Transitioned};
use metrics::OutboxMetrics;
use scheduler::{Command, Scheduler};
use transitions::Transitions;

/// Most jobs one batch may enqueue.
pub const MAX_BATCH: usize = 1000;

/// Transitions buffered for a slow subscriber before it starts missing some.
const LISTENER_BUFFER: usize = 1024;

/// Unix milliseconds, the outbox's clock for job times.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// What the scheduler and its send tasks share.
pub struct Shared {
    pub account: Arc<Account>,
    pub config: OutboxConfig,
    pub transitions: Transitions,
}

impl Shared {
    pub fn metrics(&self) -> &OutboxMetrics {
        &self.transitions.metrics
    }
}

/// One account's outbox.
pub struct Outbox {
    shared: Arc<Shared>,
    commands: mpsc::UnboundedSender<Command>,
    /// Held across "store, then tell the scheduler", so the scheduler hears of jobs in the
    /// order the store numbered them.
    enqueue_order: tokio::sync::Mutex<()>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Outbox {
    /// Loads the account's pending jobs and starts its scheduler.
    pub async fn start(
        account: Arc<Account>,
        store: Store,
        config: OutboxConfig,
        events: Option<Arc<Events>>,
    ) -> Result<Arc<Self>, StoreError> {
        let pending = store.pending_jobs(account.name()).await?;
        // The sends within the longest pacing period rebuild the buckets.
        let window = [config.rates.chat, config.rates.group, config.rates.account]
            .into_iter()
            .flatten()
            .map(|r| r.per)
            .max()
            .unwrap_or_default();
        let since = now_ms() - i64::try_from(window.as_millis()).unwrap_or(0);
        let recent = store.recent_sends(account.name(), since).await?;
        if !pending.is_empty() {
            tracing::info!(
                account = %account.name(),
                pending = pending.len(),
                "outbox: resuming pending jobs"
            );
        }
        let (listeners, _) = broadcast::channel(LISTENER_BUFFER);
        let shared = Arc::new(Shared {
            transitions: Transitions {
                store,
                account: account.name().to_owned(),
                metrics: OutboxMetrics::default(),
                listeners,
                events,
            },
            account,
            config,
        });
        let (commands, receiver) = mpsc::unbounded_channel();
        let scheduler = Scheduler::new(shared.clone(), pending, &recent);
        let task = tokio::spawn(scheduler.run(receiver));
        Ok(Arc::new(Self {
            shared,
            commands,
            enqueue_order: tokio::sync::Mutex::new(()),
            task: Mutex::new(Some(task)),
        }))
    }

    fn store(&self) -> &Store {
        &self.shared.transitions.store
    }

    fn account(&self) -> &str {
        &self.shared.transitions.account
    }

    /// Stores `jobs` (all or none) and hands them to the scheduler.
    pub async fn enqueue(
        &self,
        jobs: Vec<NewJob>,
        key: Option<EnqueueKey<'_>>,
    ) -> Result<Enqueued, StoreError> {
        let _order = self.enqueue_order.lock().await;
        let outcome = self
            .store()
            .enqueue_jobs(self.account(), jobs, key, now_ms())
            .await?;
        if let Enqueued::New(jobs) = &outcome {
            for job in jobs {
                self.shared.metrics().enqueued(job.priority);
                tracing::info!(
                    account = %self.account(),
                    job_id = %job.id,
                    state = job.state.as_str(),
                    priority = job.priority.as_str(),
                    "outbox job enqueued"
                );
            }
            self.tell(Command::Add(jobs.clone()));
        }
        Ok(outcome)
    }

    /// What an earlier enqueue with `key` did, if any (a replay or a conflict), without
    /// storing anything.
    pub async fn earlier_enqueue(
        &self,
        key: &EnqueueKey<'_>,
    ) -> Result<Option<Enqueued>, StoreError> {
        self.store()
            .earlier_enqueue(self.account(), key, now_ms())
            .await
    }

    pub async fn job(&self, id: &str) -> Result<Option<Job>, StoreError> {
        self.store().job(self.account(), id).await
    }

    pub async fn jobs(&self, filter: &JobFilter) -> Result<Vec<Job>, StoreError> {
        self.store().jobs(self.account(), filter, now_ms()).await
    }

    /// Cancels a job not yet handed to Telegram.
    pub async fn cancel(&self, id: &str) -> Result<Transitioned, StoreError> {
        let outcome = self
            .shared
            .transitions
            .apply(id, Transition::Cancelled)
            .await?;
        if let Transitioned::Applied { job, .. } = &outcome {
            self.tell(Command::Remove {
                chat: job.chat.clone(),
                id: job.id.clone(),
            });
        }
        Ok(outcome)
    }

    /// Puts a failed or dead job back in the queue.
    pub async fn retry(&self, id: &str) -> Result<Transitioned, StoreError> {
        let outcome = self
            .shared
            .transitions
            .apply(id, Transition::Requeued)
            .await?;
        if let Transitioned::Applied { job, .. } = &outcome {
            self.tell(Command::Add(vec![(**job).clone()]));
        }
        Ok(outcome)
    }

    /// Every job state change from now on (for the events log). A subscriber that falls
    /// more than 1024 changes behind misses the oldest (`RecvError::Lagged`).
    pub fn subscribe(&self) -> broadcast::Receiver<JobTransition> {
        self.shared.transitions.listeners.subscribe()
    }

    /// The `/metrics` text (queue depth read from the store).
    pub async fn render_metrics(&self) -> Result<String, StoreError> {
        let counts = self.store().job_counts(self.account()).await?;
        Ok(self.shared.metrics().render(&counts))
    }

    /// Stops taking jobs; sends in flight finish or go back to the queue.
    pub async fn shutdown(&self) {
        self.tell(Command::Stop);
        let task = self.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(task) = task
            && let Err(e) = task.await
        {
            tracing::error!(account = %self.account(), error = %e, "the outbox scheduler failed");
        }
    }

    fn tell(&self, command: Command) {
        if self.commands.send(command).is_err() {
            // Stopped: the jobs are stored and are picked up at the next start.
            tracing::warn!(account = %self.account(), "outbox: the scheduler has stopped");
        }
    }
}

/// Every account's outbox, by account name.
#[derive(Default)]
pub struct Outboxes {
    by_account: BTreeMap<String, Arc<Outbox>>,
}

impl Outboxes {
    /// Starts one outbox per account of `registry`.
    pub async fn start(
        registry: &AccountRegistry,
        store: &Store,
        config: &OutboxConfig,
        events: Option<Arc<Events>>,
    ) -> Result<Self, StoreError> {
        let mut by_account = BTreeMap::new();
        for account in registry.all() {
            let outbox = Outbox::start(
                account.clone(),
                store.clone(),
                config.clone(),
                events.clone(),
            )
            .await?;
            by_account.insert(account.name().to_owned(), outbox);
        }
        Ok(Self { by_account })
    }

    pub fn get(&self, account: &str) -> Option<&Arc<Outbox>> {
        self.by_account.get(account)
    }

    pub fn all(&self) -> impl Iterator<Item = (&str, &Arc<Outbox>)> {
        self.by_account.iter().map(|(name, o)| (name.as_str(), o))
    }

    /// Stops every outbox (before the accounts disconnect, so sends in flight can finish).
    pub async fn shutdown(&self) {
        for outbox in self.by_account.values() {
            outbox.shutdown().await;
        }
    }
}
