//! Remembers answers by `Idempotency-Key` so a retried request never acts twice.
//!
//! - Same key, same request → the first answer (status, body, `Retry-After`), replayed with
//!   `Idempotent-Replayed: true`; nothing is sent again. A duplicate that arrives while the
//!   first is still running waits for it.
//! - Same key, another request → [`Claim::Conflict`] (the API answers 409
//!   `IDEMPOTENCY_KEY_REUSED`).
//! - The work runs in its own task, so a caller that hangs up mid-request does not cancel a
//!   send half-way: the retry finds the finished answer.
//! - Only *final* answers are kept (2xx and 4xx except 429). Flood waits, timeouts and
//!   Telegram outages are forgotten so a retry really retries; a send that did reach Telegram
//!   before failing cannot post twice anyway, because its `random_id` is derived from the key
//!   ([`random_id`]) and Telegram drops a repeated `random_id`.
//! - Memory is bounded: entries live [`DEFAULT_TTL`] (24 h) and at most [`DEFAULT_CAPACITY`]
//!   (10 000) are kept, the oldest evicted first. Keys are global to the service (callers use
//!   UUIDs) and are not persisted: after a restart the derived `random_id` is what still
//!   prevents a double post.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use tokio::sync::watch;

/// How long an answer is remembered.
pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// How many answers are remembered at most.
pub const DEFAULT_CAPACITY: usize = 10_000;
/// Longest accepted key (UUIDs are 36).
pub const MAX_KEY_LEN: usize = 255;
/// Set on an answer that is a replay of an earlier one.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// A validated `Idempotency-Key` header value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// 1 to 255 visible ASCII characters; the error is a sentence for the caller.
    pub fn parse(raw: &[u8]) -> Result<Self, String> {
        if raw.is_empty() || raw.len() > MAX_KEY_LEN {
            return Err(format!(
                "the Idempotency-Key header must be 1 to {MAX_KEY_LEN} characters long"
            ));
        }
        if !raw.iter().all(|b| (0x21..=0x7e).contains(b)) {
            return Err("the Idempotency-Key header may only contain visible ASCII".into());
        }
        Ok(Self(String::from_utf8_lossy(raw).into_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key within one API key's and one account's space: two callers (or two accounts)
    /// using the same header value never see each other's answers, nor share a `random_id`.
    pub fn scoped(&self, key_name: &str, account: &str) -> Self {
        Self(format!("{key_name}\u{1f}{account}\u{1f}{}", self.0))
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
}

/// The Telegram `random_id` of a send made under `key`: the same key and request always give
/// the same id, so Telegram drops a repeat even after a reconnect or a restart.
pub fn random_id(key: &IdempotencyKey, fingerprint: &Fingerprint) -> i64 {
    let mut hash = Sha256::new();
    hash.update(b"mtgate random_id v1\0");
    hash.update(key.0.as_bytes());
    hash.update([0]);
    hash.update(fingerprint.0);
    let digest = hash.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    match i64::from_le_bytes(first) {
        0 => 1,
        id => id,
    }
}

/// An answer as it was given, ready to be given again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: StatusCode,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Bytes,
}

/// Answers larger than this are not expected (messages are ≤ 4096 characters).
const MAX_STORED_BODY: usize = 1 << 20;

impl StoredResponse {
    /// Captures `response` (its body is already in memory: our handlers answer with JSON).
    pub async fn capture(response: Response) -> Self {
        let (parts, body) = response.into_parts();
        let kept = [header::CONTENT_TYPE, header::RETRY_AFTER];
        let headers = kept
            .into_iter()
            .filter_map(|name| parts.headers.get(&name).map(|v| (name, v.clone())))
            .collect();
        match axum::body::to_bytes(body, MAX_STORED_BODY).await {
            Ok(body) => Self {
                status: parts.status,
                headers,
                body,
            },
            Err(e) => {
                tracing::error!(error = %e, "could not capture a response body");
                Self {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    headers: vec![(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    )],
                    body: Bytes::from_static(
                        br#"{"error":{"code":"INTERNAL","message":"the response could not be recorded"}}"#,
                    ),
                }
            }
        }
    }

    /// Final answers are kept; ones a retry may change (flood wait, outages) are not.
    fn is_final(&self) -> bool {
        let s = self.status;
        s.is_success() || (s.is_client_error() && s != StatusCode::TOO_MANY_REQUESTS)
    }

    /// The answer again; `replayed` marks a duplicate.
    pub fn to_response(&self, replayed: bool) -> Response {
        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            headers.insert(name.clone(), value.clone());
        }
        if replayed {
            headers.insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
        }
        (self.status, headers, self.body.clone()).into_response()
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

type Slot = watch::Receiver<Option<Arc<StoredResponse>>>;

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
    ttl: Duration,
    capacity: usize,
}

impl Default for IdempotencyStore {
    fn default() -> Self {
        Self::with_limits(DEFAULT_TTL, DEFAULT_CAPACITY)
    }
}

impl IdempotencyStore {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_limits(ttl: Duration, capacity: usize) -> Self {
        Self {
            entries: Arc::default(),
            ttl,
            capacity: capacity.max(1),
        }
    }

    /// How many answers are remembered (in flight included).
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

    /// Runs `work` once per key: the first caller's `work` is spawned and its answer shared
    /// with every caller presenting the same key and fingerprint until it expires.
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
                    let store = Arc::clone(&self.entries);
                    // The task keeps the request's span, so its logs carry the request id.
                    let span = tracing::Span::current();
                    let task = async move {
                        let answer = StoredResponse::capture(work.await).await;
                        if !answer.is_final() {
                            forget(&store, &key, seq);
                        }
                        let _ = tx.send(Some(Arc::new(answer)));
                    };
                    tokio::spawn(tracing::Instrument::instrument(task, span));
                    (rx, false)
                }
            }
        };
        let answer = slot
            .wait_for(Option::is_some)
            .await
            .ok()
            .and_then(|v| v.clone());
        match answer {
            Some(response) => Claim::Answer { response, replayed },
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

fn live_seq(entries: &Entries, key: &IdempotencyKey) -> Option<u64> {
    entries.by_key.get(key).map(|e| e.seq)
}

/// Removes `key` if it still is the entry numbered `seq` (a newer one may have replaced it).
fn forget(store: &Mutex<Entries>, key: &IdempotencyKey, seq: u64) {
    let mut entries = store.lock().unwrap_or_else(|e| e.into_inner());
    if live_seq(&entries, key) == Some(seq) {
        entries.by_key.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn key(k: &str) -> IdempotencyKey {
        IdempotencyKey::parse(k.as_bytes()).unwrap()
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
        assert!(IdempotencyKey::parse(b"5f0c2a3e-8d1b-4c4e-9b1a-2d3f4e5a6b7c").is_ok());
        assert!(IdempotencyKey::parse(b"").is_err());
        assert!(IdempotencyKey::parse(b"has space").is_err());
        assert!(IdempotencyKey::parse("ключ".as_bytes()).is_err());
        assert!(IdempotencyKey::parse(&[b'a'; 256]).is_err());
        assert!(IdempotencyKey::parse(&[b'a'; 255]).is_ok());
    }

    #[test]
    fn random_id_is_stable_per_key_and_request_and_differs_otherwise() {
        let a = random_id(&key("k1"), &fp("{}"));
        assert_eq!(a, random_id(&key("k1"), &fp("{}")));
        assert_ne!(a, random_id(&key("k2"), &fp("{}")));
        assert_ne!(a, random_id(&key("k1"), &fp("{\"text\":\"x\"}")));
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
        let store = IdempotencyStore::new();
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
        let store = IdempotencyStore::new();
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
        let store = Arc::new(IdempotencyStore::new());
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
        let store = IdempotencyStore::new();
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
            let store = IdempotencyStore::new();
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
        let store = IdempotencyStore::new();
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
    async fn capacity_evicts_the_oldest_and_ttl_expires_entries() {
        let store = IdempotencyStore::with_limits(DEFAULT_TTL, 2);
        for k in ["a", "b", "c"] {
            unwrap_answer(
                store
                    .run(key(k), fp("{}"), answer(StatusCode::OK, "x"))
                    .await,
            );
        }
        assert_eq!(store.len(), 2);
        // "a" was evicted: it runs again instead of replaying.
        let (_, replayed) = unwrap_answer(
            store
                .run(key("a"), fp("{}"), answer(StatusCode::OK, "x"))
                .await,
        );
        assert!(!replayed);

        let expiring = IdempotencyStore::with_limits(Duration::ZERO, 10);
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
}
