use super::*;
use crate::domain::{ParseMode, PeerSpec};

fn new_job(chat: &str, send_at: Option<i64>) -> NewJob {
    NewJob {
        chat: PeerSpec::parse(chat).unwrap(),
        priority: Priority::Normal,
        send_at,
        deadline: None,
        body: SendBody {
            text: "hello".into(),
            parse_mode: ParseMode::Plain,
            reply_to: None,
            silent: false,
            link_preview: true,
            media: None,
        },
    }
}

fn scope() -> IdempotencyScope {
    IdempotencyScope {
        key_name: "k".into(),
        account: "default".into(),
    }
}

fn stored(outcome: Enqueued) -> Vec<Job> {
    match outcome {
        Enqueued::New(jobs) => jobs,
        other => panic!("expected new jobs, got {other:?}"),
    }
}

async fn jobs_get_increasing_seqs_and_a_scheduled_state_when_due_later(store: Store) {
    let jobs = vec![new_job("@a", None), new_job("@A", Some(10_000))];
    let jobs = stored(
        store
            .enqueue_jobs("default", jobs, None, 1_000)
            .await
            .unwrap(),
    );
    assert_eq!(jobs[0].seq + 1, jobs[1].seq);
    assert_eq!(jobs[0].state, JobState::Queued);
    assert_eq!(jobs[1].state, JobState::Scheduled);
    assert_eq!(jobs[1].chat, "@a");
    let back = store.job("default", &jobs[1].id).await.unwrap().unwrap();
    assert_eq!(back, jobs[1]);
    assert!(store.job("other", &jobs[1].id).await.unwrap().is_none());
}

async fn the_same_key_and_request_give_the_same_jobs_and_another_request_conflicts(store: Store) {
    let scope = scope();
    let key = |fingerprint: &'static [u8]| EnqueueKey {
        scope: &scope,
        key: "k1",
        fingerprint,
    };
    let unknown = store
        .earlier_enqueue("default", &key(b"f1"), 500)
        .await
        .unwrap();
    assert!(unknown.is_none(), "{unknown:?}");
    let first = stored(
        store
            .enqueue_jobs(
                "default",
                vec![new_job("@a", None)],
                Some(key(b"f1")),
                1_000,
            )
            .await
            .unwrap(),
    );
    // Looking first (as a file upload does) finds the same jobs, or the conflict.
    match store.earlier_enqueue("default", &key(b"f1"), 1_500).await {
        Ok(Some(Enqueued::Replayed(jobs))) => assert_eq!(jobs, first),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        store.earlier_enqueue("default", &key(b"f2"), 1_500).await,
        Ok(Some(Enqueued::Conflict))
    ));
    match store
        .enqueue_jobs(
            "default",
            vec![new_job("@a", None)],
            Some(key(b"f1")),
            2_000,
        )
        .await
        .unwrap()
    {
        Enqueued::Replayed(jobs) => assert_eq!(jobs, first),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        store
            .enqueue_jobs(
                "default",
                vec![new_job("@b", None)],
                Some(key(b"f2")),
                2_000
            )
            .await
            .unwrap(),
        Enqueued::Conflict
    ));
    let all = store
        .jobs(
            "default",
            &JobFilter {
                limit: 10,
                ..Default::default()
            },
            3_000,
        )
        .await
        .unwrap();
    assert_eq!(all.len(), 1, "the replay and the conflict stored nothing");
}

async fn transitions_check_the_state_they_start_from(store: Store) {
    let job = stored(
        store
            .enqueue_jobs("default", vec![new_job("@a", None)], None, 1_000)
            .await
            .unwrap(),
    )
    .remove(0);
    let id = &job.id;
    let sending = store
        .transition_job("default", id, &Transition::Sending, 2_000)
        .await
        .unwrap();
    let Transitioned::Applied { from, job } = sending else {
        panic!("{sending:?}")
    };
    assert_eq!(
        (from, job.state, job.attempts),
        (JobState::Queued, JobState::Sending, 1)
    );
    assert!(matches!(
        store
            .transition_job("default", id, &Transition::Cancelled, 2_000)
            .await
            .unwrap(),
        Transitioned::Refused(JobState::Sending)
    ));
    let error = JobError {
        code: "TELEGRAM_UNAVAILABLE".into(),
        message: "down".into(),
        telegram: None,
    };
    let retry = Transition::Retry {
        at: 5_000,
        error: error.clone(),
        transient: true,
    };
    let Transitioned::Applied { job, .. } = store
        .transition_job("default", id, &retry, 3_000)
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(job.state, JobState::Queued);
    assert_eq!((job.failures, job.next_attempt_at), (1, Some(5_000)));
    assert_eq!(job.error, Some(error.clone()));
    store
        .transition_job("default", id, &Transition::Sending, 5_000)
        .await
        .unwrap();
    let Transitioned::Applied { job, .. } = store
        .transition_job(
            "default",
            id,
            &Transition::Sent {
                message_id: Some(7),
            },
            6_000,
        )
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(
        (job.state, job.message_id, job.error),
        (JobState::Sent, Some(7), None)
    );
    assert!(matches!(
        store
            .transition_job("default", id, &Transition::Requeued, 7_000)
            .await
            .unwrap(),
        Transitioned::Refused(JobState::Sent)
    ));
    assert!(matches!(
        store
            .transition_job("default", "job_x", &Transition::Cancelled, 7_000)
            .await
            .unwrap(),
        Transitioned::NotFound
    ));
}

async fn listings_filter_by_state_and_chat_and_page_by_seq(store: Store) {
    let jobs = (0..5)
        .map(|i| {
            new_job(
                if i % 2 == 0 { "@a" } else { "@b" },
                (i == 4).then_some(9_000),
            )
        })
        .collect();
    stored(
        store
            .enqueue_jobs("default", jobs, None, 1_000)
            .await
            .unwrap(),
    );
    let page = |filter: JobFilter, now| {
        let store = store.clone();
        async move { store.jobs("default", &filter, now).await.unwrap() }
    };
    let first = page(
        JobFilter {
            limit: 2,
            ..Default::default()
        },
        1_000,
    )
    .await;
    assert_eq!(first.len(), 2);
    let rest = page(
        JobFilter {
            limit: 10,
            after: Some(first[1].seq),
            ..Default::default()
        },
        1_000,
    )
    .await;
    assert_eq!(rest.len(), 3);
    let chat_a = JobFilter {
        limit: 10,
        chat: Some("@a".into()),
        ..Default::default()
    };
    assert_eq!(page(chat_a, 1_000).await.len(), 3);
    let queued = |now| {
        page(
            JobFilter {
                limit: 10,
                state: Some(JobState::Queued),
                ..Default::default()
            },
            now,
        )
    };
    assert_eq!(queued(1_000).await.len(), 4);
    assert_eq!(
        queued(9_000).await.len(),
        5,
        "a due scheduled job counts as queued"
    );
    let counts = store.job_counts("default").await.unwrap();
    assert!(counts.contains(&(JobState::Queued, Priority::Normal, 4)));
    assert_eq!(store.pending_jobs("default").await.unwrap().len(), 5);
}

/// Each check on in-memory SQLite and on a fresh PostgreSQL database: the outbox behaves the
/// same on both stores.
macro_rules! on_both_backends {
    ($($check:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test]
                async fn $check() {
                    super::$check(super::Store::open_in_memory().await.unwrap()).await;
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test]
                async fn $check() {
                    let url = tokio::task::spawn_blocking(|| {
                        mtgate_testdb::shared()
                            .and_then(|pg| pg.create_database())
                            .expect("PostgreSQL for the store tests")
                    })
                    .await
                    .unwrap();
                    super::$check(super::Store::connect(&url).await.unwrap()).await;
                }
            )*
        }
    };
}

on_both_backends!(
    jobs_get_increasing_seqs_and_a_scheduled_state_when_due_later,
    the_same_key_and_request_give_the_same_jobs_and_another_request_conflicts,
    transitions_check_the_state_they_start_from,
    listings_filter_by_state_and_chat_and_page_by_seq,
);
