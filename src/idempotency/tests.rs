//! Unit tests of the idempotency layer, against an in-memory store.

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

#[tokio::test]
async fn keeping_successes_only_forgets_a_refusal_so_the_next_request_runs() {
    let store = idempotency_store().await;
    let runs = Arc::new(AtomicUsize::new(0));
    let run = |status: StatusCode| {
        let runs = Arc::clone(&runs);
        async move {
            runs.fetch_add(1, Ordering::SeqCst);
            answer(status, "x").await
        }
    };
    let keep = Keep::Successes;
    let (first, _) = unwrap_answer(
        store
            .run_keeping(key("s"), fp("{}"), keep, run(StatusCode::BAD_REQUEST))
            .await,
    );
    assert_eq!(first.status, StatusCode::BAD_REQUEST);
    let (second, replayed) = unwrap_answer(
        store
            .run_keeping(key("s"), fp("{}"), keep, run(StatusCode::CREATED))
            .await,
    );
    assert_eq!((second.status, replayed), (StatusCode::CREATED, false));
    let (third, replayed) = unwrap_answer(
        store
            .run_keeping(key("s"), fp("{}"), keep, run(StatusCode::BAD_REQUEST))
            .await,
    );
    assert_eq!((third.status, replayed), (StatusCode::CREATED, true));
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[test]
fn final_answers_are_successes_and_refusals_a_retry_cannot_change() {
    let stored = |status| StoredResponse {
        status,
        headers: Vec::new(),
        body: Bytes::new(),
    };
    for (status, is_final, success) in [
        (StatusCode::CREATED, true, true),
        (StatusCode::BAD_REQUEST, true, false),
        (StatusCode::NOT_FOUND, true, false),
        (StatusCode::TOO_MANY_REQUESTS, false, false),
        (StatusCode::REQUEST_TIMEOUT, false, false),
        (StatusCode::BAD_GATEWAY, false, false),
    ] {
        assert_eq!(Keep::Final.keeps(&stored(status)), is_final, "{status}");
        assert_eq!(Keep::Successes.keeps(&stored(status)), success, "{status}");
    }
}
