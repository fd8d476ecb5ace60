//! Remembers answers by `Idempotency-Key` so a retried request never acts twice.
//!
//! - Same key, same request → the first answer (status, body, `Retry-After`), replayed with
//!   `Idempotent-Replayed: true`; nothing is sent again. A duplicate that arrives while the
//!   first is still running waits for it.
//! - Same key, another request → [`Claim::Conflict`] (the API answers 409
//!   `IDEMPOTENCY_KEY_REUSED`).
//! - Keys are scoped per API-key *name* and account ([`IdempotencyScope`]): two callers using
//!   the same key never see each other's answers.
//! - Answers are durable: each final answer is written to the store before it is given, so a
//!   retry after a restart replays it without a new Telegram call. Memory only coordinates
//!   requests in flight and caches recent answers.
//! - The work runs in its own task, so a caller that hangs up mid-request does not cancel a
//!   send half-way: the retry finds the finished answer.
//! - Only *final* answers are kept (2xx and 4xx except 429). Flood waits, timeouts and
//!   Telegram outages are forgotten so a retry really retries; a send that did reach Telegram
//!   before failing cannot post twice anyway, because its `random_id` is derived from the key
//!   ([`random_id`]) and Telegram drops a repeated `random_id`.
//! - A request whose fingerprint leaves part of it out (a multipart send's files) keeps only
//!   successes ([`Keep::Successes`]): its refusal may be about the part the fingerprint never
//!   saw, so replaying it to a request with other files would answer the wrong request.
//! - Answers live [`DEFAULT_TTL`] (24 h); memory keeps at most [`DEFAULT_CAPACITY`] (10 000),
//!   the oldest evicted first (the store still has them).

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::response::Response;
use tokio::sync::watch;

use crate::store::{self, Store};

mod key;
mod response;

pub use crate::store::IdempotencyScope;
pub use key::{Fingerprint, IdempotencyKey, random_id};
pub use response::{StoredResponse, is_final_status};

/// How long an answer is remembered.
pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// How many answers are remembered in memory at most.
pub const DEFAULT_CAPACITY: usize = 10_000;
/// Longest accepted key (UUIDs are 36).
pub const MAX_KEY_LEN: usize = 255;
/// Set on an answer that is a replay of an earlier one.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";
/// Expired records are deleted from the store at most this often (seconds).
const PURGE_EVERY_S: i64 = 60;

/// The outcome of [`IdempotencyStore::run`].
#[derive(Debug)]
pub enum Claim {
    /// The answer; `replayed` when it was produced by an earlier request with the same key.
    Answer {
        response: Arc<StoredResponse>,
        replayed: bool,
    },
    /// The key was used for a different request.
    Conflict,
    /// The first request with this key died without an answer (a bug: its task panicked).
    Abandoned,
}

/// Which answers a key remembers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    /// Every final answer ([`StoredResponse::is_final`]): the fingerprint covers the request.
    Final,
    /// Only 2xx answers: the fingerprint covers part of the request, and a refusal may be
    /// about the rest.
    Successes,
}

impl Keep {
    pub fn keeps(self, answer: &StoredResponse) -> bool {
        match self {
            Keep::Final => answer.is_final(),
            Keep::Successes => answer.status.is_success(),
        }
    }
}

/// What the first request with a key ended in, as every duplicate sees it.
#[derive(Clone, Debug)]
enum Outcome {
    /// `earlier`: the answer came from the store (given before a restart).
    Answer {
        response: Arc<StoredResponse>,
        earlier: bool,
    },
    /// The store holds an answer to another request under this key.
    Conflict,
}

type Slot = watch::Receiver<Option<Outcome>>;

struct Entry {
    fingerprint: Fingerprint,
    created: Instant,
    seq: u64,
    slot: Slot,
}

#[derive(Default)]
struct Entries {
    by_key: HashMap<IdempotencyKey, Entry>,
    /// Insertion order, for expiry and eviction; may hold keys already removed.
    order: VecDeque<(u64, IdempotencyKey)>,
    next_seq: u64,
}

/// Answers already given (or being produced), by idempotency key.
pub struct IdempotencyStore {
    entries: Arc<Mutex<Entries>>,
    durable: Arc<Durable>,
    ttl: Duration,
    capacity: usize,
}

/// The store side, shared with the tasks that produce answers.
struct Durable {
    store: Store,
    ttl_s: i64,
    /// Unix seconds of the last purge of expired records.
    last_purge: AtomicI64,
}

impl IdempotencyStore {
    pub fn new(store: Store) -> Self {
        Self::with_limits(store, DEFAULT_TTL, DEFAULT_CAPACITY)
    }

    pub fn with_limits(store: Store, ttl: Duration, capacity: usize) -> Self {
        Self {
            entries: Arc::default(),
            durable: Arc::new(Durable {
                store,
                ttl_s: i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX),
                last_purge: AtomicI64::new(0),
            }),
            ttl,
            capacity: capacity.max(1),
        }
    }

    /// How many answers are held in memory (in flight included).
    pub fn len(&self) -> usize {
        self.lock().by_key.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // A poisoned map is still consistent (every mutation is a single insert or remove).
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `work` once per key: the first caller's `work` is spawned (unless the store
    /// already holds the answer) and its answer shared with every caller presenting the same
    /// key and fingerprint until it expires.
    pub async fn run<W>(&self, key: IdempotencyKey, fingerprint: Fingerprint, work: W) -> Claim
    where
        W: Future<Output = Response> + Send + 'static,
    {
        self.run_keeping(key, fingerprint, Keep::Final, work).await
    }

    /// [`run`](Self::run), remembering only the answers `keep` keeps (the others are
    /// forgotten once given, so the next request with the key runs again).
    pub async fn run_keeping<W>(
        &self,
        key: IdempotencyKey,
        fingerprint: Fingerprint,
        keep: Keep,
        work: W,
    ) -> Claim
    where
        W: Future<Output = Response> + Send + 'static,
    {
        let (mut slot, replayed) = {
            let mut entries = self.lock();
            let now = Instant::now();
            self.evict(&mut entries, now);
            match entries.by_key.get(&key) {
                Some(entry) if entry.fingerprint != fingerprint => return Claim::Conflict,
                Some(entry) => (entry.slot.clone(), true),
                None => {
                    let (tx, rx) = watch::channel(None);
                    let seq = entries.next_seq;
                    entries.next_seq += 1;
                    entries.order.push_back((seq, key.clone()));
                    entries.by_key.insert(
                        key.clone(),
                        Entry {
                            fingerprint,
                            created: now,
                            seq,
                            slot: rx.clone(),
                        },
                    );
                    let first = First {
                        entries: Arc::clone(&self.entries),
                        durable: Arc::clone(&self.durable),
                        key,
                        fingerprint,
                        seq,
                        keep,
                    };
                    // The task keeps the request's span, so its logs carry the request id.
                    let span = tracing::Span::current();
                    let task = async move {
                        let outcome = first.answer(work).await;
                        let _ = tx.send(Some(outcome));
                    };
                    tokio::spawn(tracing::Instrument::instrument(task, span));
                    (rx, false)
                }
            }
        };
        let outcome = slot
            .wait_for(Option::is_some)
            .await
            .ok()
            .and_then(|v| v.clone());
        match outcome {
            Some(Outcome::Answer { response, earlier }) => Claim::Answer {
                response,
                replayed: replayed || earlier,
            },
            Some(Outcome::Conflict) => Claim::Conflict,
            None => Claim::Abandoned,
        }
    }

    /// Drops expired entries, then the oldest ones beyond capacity.
    fn evict(&self, entries: &mut Entries, now: Instant) {
        while let Some((seq, key)) = entries.order.front().cloned() {
            let live = entries.by_key.get(&key).filter(|e| e.seq == seq);
            let drop_it = match live {
                None => true,
                Some(entry) => {
                    now.duration_since(entry.created) >= self.ttl
                        || entries.by_key.len() >= self.capacity
                }
            };
            if !drop_it {
                break;
            }
            entries.order.pop_front();
            if live_seq(entries, &key) == Some(seq) {
                entries.by_key.remove(&key);
            }
        }
    }
}

/// The first request with a key, producing the answer every duplicate waits for.
struct First {
    entries: Arc<Mutex<Entries>>,
    durable: Arc<Durable>,
    key: IdempotencyKey,
    fingerprint: Fingerprint,
    seq: u64,
    keep: Keep,
}

impl First {
    /// The stored answer if there is one, else `work`'s (stored before it is given when it
    /// is final, forgotten otherwise so a retry runs again).
    async fn answer<W>(self, work: W) -> Outcome
    where
        W: Future<Output = Response>,
    {
        if let Some(outcome) = self.earlier().await {
            return outcome;
        }
        let answer = StoredResponse::capture(work.await).await;
        if self.keep.keeps(&answer) {
            self.durable
                .save(&self.key, &self.fingerprint, &answer)
                .await;
        } else {
            self.forget();
        }
        Outcome::Answer {
            response: Arc::new(answer),
            earlier: false,
        }
    }

    /// What the store says about this key. A store failure is logged and the work runs: a
    /// send cannot post twice anyway (its `random_id` comes from the key).
    async fn earlier(&self) -> Option<Outcome> {
        let store = &self.durable.store;
        let record = match store
            .idempotency_record(self.key.scope(), self.key.as_str())
            .await
        {
            Ok(record) => record?,
            Err(e) => {
                tracing::error!(error = %e, "could not read idempotency records; running the request");
                return None;
            }
        };
        if record.fingerprint != self.fingerprint.as_bytes() {
            // Not kept in memory: the next request with this key asks the store again.
            self.forget();
            return Some(Outcome::Conflict);
        }
        match StoredResponse::from_record(record) {
            Ok(response) => Some(Outcome::Answer {
                response: Arc::new(response),
                earlier: true,
            }),
            Err(e) => {
                tracing::error!(error = %e, "unreadable idempotency record; running the request");
                None
            }
        }
    }

    /// Removes the key if it still is this request's entry (a newer one may have replaced it).
    fn forget(&self) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if live_seq(&entries, &self.key) == Some(self.seq) {
            entries.by_key.remove(&self.key);
        }
    }
}

impl Durable {
    /// Writes the answer (logged, not fatal, on failure: memory still replays it until a
    /// restart) and now and then deletes expired records.
    async fn save(&self, key: &IdempotencyKey, fingerprint: &Fingerprint, answer: &StoredResponse) {
        let now = store::now();
        let record = answer.to_record(fingerprint, now, now.saturating_add(self.ttl_s));
        if let Err(e) = self
            .store
            .save_idempotency_record(key.scope(), key.as_str(), &record)
            .await
        {
            tracing::error!(error = %e, "could not store an idempotency record");
        }
        let last = self.last_purge.load(Ordering::Relaxed);
        if now - last >= PURGE_EVERY_S
            && self
                .last_purge
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            match self.store.purge_expired_idempotency().await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(deleted = n, "expired idempotency records deleted"),
                Err(e) => {
                    tracing::error!(error = %e, "could not delete expired idempotency records")
                }
            }
        }
    }
}

fn live_seq(entries: &Entries, key: &IdempotencyKey) -> Option<u64> {
    entries.by_key.get(key).map(|e| e.seq)
}

#[cfg(test)]
mod tests;
