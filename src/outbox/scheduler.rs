//! The account's scheduler: one task that decides what is sent when, and never sends or
//! sleeps itself. Sends run in their own tasks (at most one per chat, so nothing overtakes
//! within a chat); the loop wakes on a command (enqueue, cancel, requeue), a finished send,
//! or the next moment something becomes possible (a due time, a bucket refill, a park's end) —
//! no polling.
//!
//! Across chats, ready heads go in (priority, seq) order while the account's bucket has
//! tokens. A FLOOD_WAIT or SLOWMODE_WAIT parks the chat it came from; a FLOOD_WAIT from a
//! second chat while another is parked by one means Telegram is limiting the account, so
//! everything is parked until the longer wait ends.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::Shared;

mod parking;
use super::pacing::{self, Bucket};
use super::queue::{ChatQueue, Entry};
use super::worker::{self, Done, Outcome};
use crate::domain::{Job, JobState, PeerSpec, PeerType};
use crate::telegram::health::ConnectionState;
pub use parking::SHUTDOWN_GRACE;

/// How often a holder looks for jobs stored through another replica.
const RESYNC_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// Sends in flight at most, whatever the rates allow.
const MAX_IN_FLIGHT: usize = 64;
/// How long a job whose state could not be stored waits before it is tried again.
const STORE_RETRY: Duration = Duration::from_secs(1);
/// Above this many chats known, idle ones are forgotten.
const SWEEP_ABOVE: usize = 256;

/// What the outbox's handle tells the scheduler.
#[derive(Debug)]
pub enum Command {
    /// Jobs stored (or requeued) just now.
    Add(Vec<Job>),
    /// A job cancelled in the store.
    Remove { chat: String, id: String },
    /// Stop taking jobs; finish or return the ones in flight.
    Stop,
}

pub struct Scheduler {
    shared: Arc<Shared>,
    chats: HashMap<String, ChatQueue>,
    account_bucket: Option<Bucket>,
    account_parked_until: Option<Instant>,
    in_flight: JoinSet<Done>,
    /// Job id → chat of every send in flight.
    running: HashMap<String, String>,
}

impl Scheduler {
    /// A scheduler holding `pending` (the store's queued, scheduled and sending jobs), its
    /// buckets rebuilt from `recent` (chat and Unix ms of the sends the store remembers,
    /// oldest first).
    pub fn new(shared: Arc<Shared>, pending: Vec<Job>, recent: &[(String, i64)]) -> Self {
        let now = Instant::now();
        let now_ms = super::now_ms();
        let rates = shared.config.rates;
        let all: Vec<i64> = recent.iter().map(|(_, t)| *t).collect();
        let account_bucket = rates
            .account
            .map(|rate| Bucket::replayed(rate, &all, now_ms, now));
        let mut scheduler = Self {
            shared,
            chats: HashMap::new(),
            account_bucket,
            account_parked_until: None,
            in_flight: JoinSet::new(),
            running: HashMap::new(),
        };
        let mut by_chat: HashMap<&str, Vec<i64>> = HashMap::new();
        for (chat, t) in recent {
            by_chat.entry(chat.as_str()).or_default().push(*t);
        }
        for (chat, times) in by_chat {
            let Ok(spec) = PeerSpec::parse(chat) else {
                continue;
            };
            let mut queue = ChatQueue::new(spec);
            queue.chat_bucket = rates
                .chat
                .map(|rate| Bucket::replayed(rate, &times, now_ms, now));
            queue.group_bucket = rates
                .group
                .map(|rate| Bucket::replayed(rate, &times, now_ms, now));
            scheduler.chats.insert(chat.to_owned(), queue);
        }
        scheduler.add(pending);
        scheduler
    }

    /// Runs until [`Command::Stop`] (or the handle is dropped) and every send has settled.
    /// With replicas, sends only while this replica holds the account (not on standby); on
    /// taking it over, the queue is reloaded from the store (jobs enqueued elsewhere).
    pub async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        let mut health = self.shared.account.telegram().manager().watch_health();
        let mut standby = health.borrow().state == ConnectionState::Standby;
        let mut watching = true;
        // With replicas, a job can be stored by a replica that believed it held the account
        // while the lease was moving: the holder looks for such jobs now and then.
        let replicated = self.shared.account.telegram().manager().is_gated();
        let mut resync = tokio::time::interval(RESYNC_EVERY);
        resync.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let now = Instant::now();
            let wake = if standby {
                None
            } else {
                self.dispatch(now);
                self.next_wake(now)
            };
            tokio::select! {
                command = commands.recv() => match command {
                    Some(Command::Add(jobs)) => self.add(jobs),
                    Some(Command::Remove { chat, id }) => self.remove(&chat, &id),
                    Some(Command::Stop) | None => break,
                },
                Some(done) = self.in_flight.join_next(), if !self.in_flight.is_empty() => {
                    match done {
                        Ok(done) => self.settle(done),
                        Err(e) => tracing::error!(error = %e, "an outbox send task failed"),
                    }
                }
                changed = health.changed(), if watching => match changed {
                    Ok(()) => {
                        let now_standby = health.borrow().state == ConnectionState::Standby;
                        if standby && !now_standby {
                            self.reload().await;
                        }
                        standby = now_standby;
                    }
                    // The account is gone (shutdown): nothing more to watch.
                    Err(_) => watching = false,
                },
                _ = resync.tick(), if replicated && !standby => self.resync().await,
                () = sleep_until(wake) => {}
            }
        }
        self.stop().await;
    }

    /// Adds the queued and scheduled jobs of the store this scheduler does not know (stored
    /// through another replica). Jobs in `sending` are left alone: they are in flight here,
    /// or a dead holder's, which the reload on taking the account over picks up.
    async fn resync(&mut self) {
        let store = &self.shared.transitions.store;
        match store.pending_jobs(&self.shared.transitions.account).await {
            Ok(jobs) => {
                let unknown: Vec<Job> = jobs
                    .into_iter()
                    .filter(|job| job.state != JobState::Sending)
                    .filter(|job| {
                        !self
                            .chats
                            .get(&job.chat)
                            .is_some_and(|q| q.contains(&job.id))
                    })
                    .collect();
                if !unknown.is_empty() {
                    tracing::info!(
                        account = %self.shared.transitions.account,
                        jobs = unknown.len(),
                        "outbox: picked up jobs stored through another replica"
                    );
                    self.add(unknown);
                }
            }
            Err(e) => tracing::warn!(
                account = %self.shared.transitions.account,
                error = %e,
                "outbox: could not look for jobs stored elsewhere"
            ),
        }
    }

    /// Adds every pending job of the store (already known ones are replaced, settled ones
    /// found stale later are dropped when their attempt is refused).
    async fn reload(&mut self) {
        let store = &self.shared.transitions.store;
        match store.pending_jobs(&self.shared.transitions.account).await {
            Ok(jobs) => self.add(jobs),
            Err(e) => tracing::error!(
                account = %self.shared.transitions.account,
                error = %e,
                "outbox: could not reload the queue on taking the account over"
            ),
        }
    }

    fn add(&mut self, jobs: Vec<Job>) {
        for job in jobs {
            let Ok(spec) = PeerSpec::parse(&job.chat) else {
                tracing::error!(job_id = %job.id, "an outbox job names an unreadable chat; skipped");
                continue;
            };
            let entry = Entry::of(&job);
            self.chats
                .entry(job.chat)
                .or_insert_with(|| ChatQueue::new(spec))
                .insert(entry);
        }
    }

    fn remove(&mut self, chat: &str, id: &str) {
        if let Some(queue) = self.chats.get_mut(chat) {
            queue.remove(id);
        }
    }

    /// Starts every send that may start now.
    fn dispatch(&mut self, now: Instant) {
        if self.account_parked_until.is_some_and(|t| t > now) {
            return;
        }
        let wall = super::now_ms();
        let mut ready: Vec<(crate::domain::Priority, i64, String)> = self
            .chats
            .iter()
            .filter(|(_, q)| !q.busy && !q.parked(now))
            .filter_map(|(chat, q)| {
                let head = q.head()?;
                (head.ready_ms() <= wall).then(|| (head.priority, head.seq, chat.clone()))
            })
            .collect();
        ready.sort();
        let rates = self.shared.config.rates;
        for (_, _, chat) in ready {
            if self.in_flight.len() >= MAX_IN_FLIGHT {
                break;
            }
            let Some(queue) = self.chats.get_mut(&chat) else {
                continue;
            };
            let Some(head) = queue.head().cloned() else {
                continue;
            };
            let shared = self.shared.clone();
            if head.deadline.is_some_and(|d| d <= wall) {
                queue.busy = true;
                self.running.insert(head.id.clone(), chat.clone());
                self.in_flight
                    .spawn(async move { worker::expire(&shared, chat, head.id).await });
                continue;
            }
            let chat_bucket = match rates.chat {
                Some(rate) => Some(
                    queue
                        .chat_bucket
                        .get_or_insert_with(|| Bucket::new(rate, now)),
                ),
                None => None,
            };
            // Until the chat's kind is known it is paced as a group, the stricter.
            let group_bucket = match (rates.group, queue.kind) {
                (Some(rate), None | Some(PeerType::Group)) => Some(
                    queue
                        .group_bucket
                        .get_or_insert_with(|| Bucket::new(rate, now)),
                ),
                _ => None,
            };
            let mut buckets: Vec<&mut Bucket> =
                chat_bucket.into_iter().chain(group_bucket).collect();
            if pacing::ready_at(now, buckets.iter_mut().map(|b| &mut **b)) > now {
                continue;
            }
            if let Some(account) = &mut self.account_bucket {
                if account.ready_at(now) > now {
                    // Nothing else may go either; the wake-up time covers it.
                    break;
                }
                account.take(now);
            }
            for bucket in buckets {
                bucket.take(now);
            }
            queue.busy = true;
            let spec = queue.spec.clone();
            self.running.insert(head.id.clone(), chat.clone());
            self.in_flight
                .spawn(async move { worker::attempt(&shared, chat, head.id, spec).await });
        }
    }

    /// The next moment something may become possible (`None`: only a command or a finished
    /// send can change anything).
    fn next_wake(&mut self, now: Instant) -> Option<Instant> {
        let wall = super::now_ms();
        let rates = self.shared.config.rates;
        let mut earliest: Option<Instant> = None;
        for queue in self.chats.values_mut() {
            if queue.busy {
                continue;
            }
            let Some(head) = queue.head() else {
                continue;
            };
            let due = now + Duration::from_millis((head.ready_ms() - wall).max(0) as u64);
            let mut at = due.max(queue.parked_until.unwrap_or(now));
            if rates.chat.is_some()
                && let Some(bucket) = &mut queue.chat_bucket
            {
                at = at.max(bucket.ready_at(now));
            }
            if let Some(bucket) = &mut queue.group_bucket {
                at = at.max(bucket.ready_at(now));
            }
            earliest = Some(earliest.map_or(at, |e| e.min(at)));
        }
        let earliest = earliest?;
        let mut at = earliest.max(self.account_parked_until.unwrap_or(now));
        if let Some(bucket) = &mut self.account_bucket {
            at = at.max(bucket.ready_at(now));
        }
        // The in-flight cap frees up only when a send finishes (which wakes the loop).
        (self.in_flight.len() < MAX_IN_FLIGHT).then_some(at)
    }

    /// Takes in what a finished send says.
    fn settle(&mut self, done: Done) {
        self.running.remove(&done.id);
        let now = Instant::now();
        let wall = super::now_ms();
        let Some(queue) = self.chats.get_mut(&done.chat) else {
            return;
        };
        queue.busy = false;
        if done.kind.is_some() {
            queue.kind = done.kind;
        }
        match done.outcome {
            Outcome::Finished => {
                queue.remove(&done.id);
            }
            Outcome::Retry { at } => queue.delay(&done.id, at),
            Outcome::StoreFailed => {
                queue.delay(&done.id, wall + STORE_RETRY.as_millis() as i64);
            }
            Outcome::Flood { wait, slow_mode } => {
                queue.delay(&done.id, wall + wait.as_millis() as i64);
                self.park(&done.chat, wait, slow_mode, now);
            }
        }
        if self.chats.len() > SWEEP_ABOVE {
            self.sweep(now);
        }
    }

    /// Forgets chats with nothing queued, in flight or parked whose buckets are full again
    /// (forgetting one earlier would hand it a fresh bucket, and a burst, too soon).
    fn sweep(&mut self, now: Instant) {
        self.chats.retain(|_, q| {
            let idle = q.is_empty() && !q.busy && !q.parked(now);
            let rested = [&mut q.chat_bucket, &mut q.group_bucket]
                .into_iter()
                .flatten()
                .all(|b| b.is_full(now));
            !(idle && rested)
        });
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
