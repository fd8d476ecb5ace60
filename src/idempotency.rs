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
//! - Answers live [`DEFAULT_TTL`] (24 h); memory keeps at most [`DEFAULT_CAPACITY`] (10 000),
//!   the oldest evicted first (the store still has them).

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::response::Response;
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use crate::store::{self, Store};

mod response;

pub use crate::store::IdempotencyScope;
pub use response::StoredResponse;

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

/// A validated `Idempotency-Key` header value, in the scope of its caller.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IdempotencyKey {
    scope: IdempotencyScope,
    value: String,
}

impl IdempotencyKey {
    /// 1 to 255 visible ASCII characters; the error is a sentence for the caller.
    pub fn parse(scope: IdempotencyScope, raw: &[u8]) -> Result<Self, String> {
        if raw.is_empty() || raw.len() > MAX_KEY_LEN {
            return Err(format!(
                "the Idempotency-Key header must be 1 to {MAX_KEY_LEN} characters long"
            ));
        }
        if !raw.iter().all(|b| (0x21..=0x7e).contains(b)) {
            return Err("the Idempotency-Key header may only contain visible ASCII".into());
        }
        Ok(Self {
            scope,
            value: String::from_utf8_lossy(raw).into_owned(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.value
    }

    pub fn scope(&self) -> &IdempotencyScope {
        &self.scope
    }
}

/// What makes two requests "the same": a hash of method, path and the canonical JSON body
/// (parsed and re-serialized, so key order and whitespace do not matter).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    pub fn of(method: &str, path: &str, canonical_body: &[u8]) -> Self {
        let mut hash = Sha256::new();
        for part in [method.as_bytes(), path.as_bytes(), canonical_body] {
            hash.update((part.len() as u64).to_le_bytes());
            hash.update(part);
        }
        Self(hash.finalize().into())
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// The Telegram `random_id` of a send made under `key`: the same key, caller and request
/// always give the same id, so Telegram drops a repeat even after a reconnect or a restart.
pub fn random_id(key: &IdempotencyKey, fingerprint: &Fingerprint) -> i64 {
    let mut hash = Sha256::new();
    hash.update(b"mtgate random_id v2\0");
    for part in [&key.scope.key_name, &key.scope.account, &key.value] {
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part.as_bytes());
    }
    hash.update(fingerprint.0);
    let digest = hash.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    match i64::from_le_bytes(first) {
        0 => 1,
        id => id,
    }
}

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
        if answer.is_final() {
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
            .idempotency_record(&self.key.scope, &self.key.value)
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
            .save_idempotency_record(&key.scope, &key.value, &record)
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
mod tests {
    use std::sync::atomic::AtomicUsize;

    use axum::body::Bytes;
    use axum::http::StatusCode;
    use axum::response::IntoResponse;

    use super::*;

    fn scope(key_name: &str) -> IdempotencyScope {
        IdempotencyScope {
            key_name: key_name.into(),
            account: "default".into(),
        }
    }

    fn key(k: &str) -> IdempotencyKey {
        IdempotencyKey::parse(scope("key-a"), k.as_bytes()).unwrap()
    }

    async fn memory() -> Store {
        Store::open_in_memory().await.unwrap()
    }

    async fn idempotency_store() -> IdempotencyStore {
        IdempotencyStore::new(memory().await)
    }

    fn fp(body: &str) -> Fingerprint {
        Fingerprint::of("POST", "/v1/messages", body.as_bytes())
    }

    async fn answer(status: StatusCode, body: &'static str) -> Response {
        (status, body).into_response()
    }

    fn unwrap_answer(claim: Claim) -> (Arc<StoredResponse>, bool) {
        match claim {
            Claim::Answer { response, replayed } => (response, replayed),
            other => panic!("expected an answer, got {other:?}"),
        }
    }

    #[test]
    fn keys_are_visible_ascii_of_bounded_length() {
        assert!(IdempotencyKey::parse(scope("k"), b"5f0c2a3e-8d1b-4c4e-9b1a-2d3f4e5a6b7c").is_ok());
        assert!(IdempotencyKey::parse(scope("k"), b"").is_err());
        assert!(IdempotencyKey::parse(scope("k"), b"has space").is_err());
        assert!(IdempotencyKey::parse(scope("k"), "ключ".as_bytes()).is_err());
        assert!(IdempotencyKey::parse(scope("k"), &[b'a'; 256]).is_err());
        assert!(IdempotencyKey::parse(scope("k"), &[b'a'; 255]).is_ok());
    }

    #[test]
    fn random_id_is_stable_per_key_and_request_and_differs_otherwise() {
        let a = random_id(&key("k1"), &fp("{}"));
        assert_eq!(a, random_id(&key("k1"), &fp("{}")));
        assert_ne!(a, random_id(&key("k2"), &fp("{}")));
        assert_ne!(a, random_id(&key("k1"), &fp("{\"text\":\"x\"}")));
        let other_caller = IdempotencyKey::parse(scope("key-b"), b"k1").unwrap();
        assert_ne!(a, random_id(&other_caller, &fp("{}")));
        assert_ne!(a, 0);
    }

    #[test]
    fn fingerprints_separate_method_path_and_body() {
        assert_ne!(
            Fingerprint::of("POST", "/a", b"b"),
            Fingerprint::of("POST", "/ab", b"")
        );
        assert_ne!(
            Fingerprint::of("PATCH", "/a", b"b"),
            Fingerprint::of("POST", "/a", b"b")
        );
    }

    #[tokio::test]
    async fn the_same_key_and_request_replays_the_first_answer_without_running_again() {
        let store = idempotency_store().await;
        let runs = Arc::new(AtomicUsize::new(0));
        let mut answers = Vec::new();
        for _ in 0..3 {
            let runs = Arc::clone(&runs);
            let claim = store
                .run(key("k"), fp("{}"), async move {
                    runs.fetch_add(1, Ordering::SeqCst);
                    (StatusCode::CREATED, "first").into_response()
                })
                .await;
            answers.push(unwrap_answer(claim));
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(answers[0].0.status, StatusCode::CREATED);
        assert_eq!(answers[2].0.body, Bytes::from_static(b"first"));
        assert_eq!(
            answers.iter().map(|a| a.1).collect::<Vec<_>>(),
            [false, true, true]
        );
        let replay = answers[1].0.to_response(true);
        assert_eq!(replay.headers()[REPLAYED_HEADER], "true");
    }

    #[tokio::test]
    async fn the_same_key_with_another_request_is_a_conflict() {
        let store = idempotency_store().await;
        unwrap_answer(
            store
                .run(key("k"), fp("a"), answer(StatusCode::CREATED, "x"))
                .await,
        );
        let claim = store
            .run(key("k"), fp("b"), answer(StatusCode::CREATED, "y"))
            .await;
        assert!(matches!(claim, Claim::Conflict));
    }

    #[tokio::test]
    async fn a_concurrent_duplicate_waits_for_the_first_answer() {
        let store = Arc::new(idempotency_store().await);
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let first = {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .run(key("k"), fp("{}"), async move {
                        let _ = released.await;
                        (StatusCode::CREATED, "slow first").into_response()
                    })
                    .await
            })
        };
        // Wait (with a deadline) until the first request has claimed the key.
        let deadline = Instant::now() + Duration::from_secs(5);
        while store.is_empty() {
            assert!(Instant::now() < deadline, "first request never started");
            tokio::task::yield_now().await;
        }
        let second = {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .run(key("k"), fp("{}"), answer(StatusCode::CREATED, "second"))
                    .await
            })
        };
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert!(
            !second.is_finished(),
            "the duplicate must wait for the first"
        );
        release.send(()).unwrap();
        let (a, _) = unwrap_answer(first.await.unwrap());
        let (b, replayed) = unwrap_answer(second.await.unwrap());
        assert_eq!(a.body, Bytes::from_static(b"slow first"));
        assert_eq!(b.body, a.body);
        assert!(replayed);
    }

    #[tokio::test]
    async fn a_caller_that_hangs_up_does_not_cancel_the_work() {
        let store = idempotency_store().await;
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&runs);
        let first = store.run(key("k"), fp("{}"), async move {
            let _ = released.await;
            counted.fetch_add(1, Ordering::SeqCst);
            (StatusCode::CREATED, "done").into_response()
        });
        // Poll the first request once (it claims the key), then drop it as a hang-up does.
        assert!(
            tokio::time::timeout(Duration::from_millis(1), first)
                .await
                .is_err()
        );
        release.send(()).unwrap();
        let (retry, replayed) = unwrap_answer(
            store
                .run(key("k"), fp("{}"), answer(StatusCode::CREATED, "again"))
                .await,
        );
        assert_eq!(retry.body, Bytes::from_static(b"done"));
        assert!(replayed);
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn retryable_failures_are_not_remembered() {
        for status in [
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::SERVICE_UNAVAILABLE,
            StatusCode::GATEWAY_TIMEOUT,
            StatusCode::BAD_GATEWAY,
        ] {
            let store = idempotency_store().await;
            unwrap_answer(store.run(key("k"), fp("{}"), answer(status, "no")).await);
            let (again, replayed) = unwrap_answer(
                store
                    .run(key("k"), fp("{}"), answer(StatusCode::CREATED, "yes"))
                    .await,
            );
            assert_eq!(again.status, StatusCode::CREATED, "after {status}");
            assert!(!replayed);
        }
    }

    #[tokio::test]
    async fn final_client_errors_are_remembered() {
        let store = idempotency_store().await;
        unwrap_answer(
            store
                .run(key("k"), fp("{}"), answer(StatusCode::BAD_REQUEST, "bad"))
                .await,
        );
        let (again, replayed) = unwrap_answer(
            store
                .run(key("k"), fp("{}"), answer(StatusCode::CREATED, "ok"))
                .await,
        );
        assert_eq!(again.status, StatusCode::BAD_REQUEST);
        assert!(replayed);
    }

    #[tokio::test]
    async fn an_answer_evicted_from_memory_is_still_replayed_from_the_store() {
        let store = IdempotencyStore::with_limits(memory().await, DEFAULT_TTL, 2);
        for k in ["a", "b", "c"] {
            unwrap_answer(
                store
                    .run(key(k), fp("{}"), answer(StatusCode::OK, "x"))
                    .await,
            );
        }
        assert_eq!(store.len(), 2);
        // "a" left memory, not the store: it replays instead of running again.
        let (_, replayed) = unwrap_answer(
            store
                .run(key("a"), fp("{}"), answer(StatusCode::OK, "again"))
                .await,
        );
        assert!(replayed);
    }

    #[tokio::test]
    async fn expired_answers_are_forgotten() {
        let expiring = IdempotencyStore::with_limits(memory().await, Duration::ZERO, 10);
        unwrap_answer(
            expiring
                .run(key("a"), fp("{}"), answer(StatusCode::OK, "x"))
                .await,
        );
        let (_, replayed) = unwrap_answer(
            expiring
                .run(key("a"), fp("{}"), answer(StatusCode::OK, "x"))
                .await,
        );
        assert!(!replayed);
    }

    #[tokio::test]
    async fn an_answer_given_before_a_restart_is_replayed_without_running_again() {
        let store = memory().await;
        let before = IdempotencyStore::new(store.clone());
        unwrap_answer(
            before
                .run(key("k"), fp("{}"), answer(StatusCode::CREATED, "first"))
                .await,
        );
        drop(before);
        // A new process: empty memory, the same store.
        let after = IdempotencyStore::new(store);
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&runs);
        let (replay, replayed) = unwrap_answer(
            after
                .run(key("k"), fp("{}"), async move {
                    counted.fetch_add(1, Ordering::SeqCst);
                    (StatusCode::CREATED, "second").into_response()
                })
                .await,
        );
        assert!(replayed);
        assert_eq!(replay.body, Bytes::from_static(b"first"));
        assert_eq!(runs.load(Ordering::SeqCst), 0);
        let conflict = after
            .run(key("k"), fp("other"), answer(StatusCode::CREATED, "x"))
            .await;
        assert!(matches!(conflict, Claim::Conflict));
    }

    #[tokio::test]
    async fn the_same_key_from_another_caller_is_another_request() {
        let store = idempotency_store().await;
        unwrap_answer(
            store
                .run(key("k"), fp("{}"), answer(StatusCode::CREATED, "a's"))
                .await,
        );
        let theirs = IdempotencyKey::parse(scope("key-b"), b"k").unwrap();
        let (answer_b, replayed) = unwrap_answer(
            store
                .run(theirs, fp("other body"), answer(StatusCode::CREATED, "b's"))
                .await,
        );
        assert!(!replayed);
        assert_eq!(answer_b.body, Bytes::from_static(b"b's"));
    }
}
