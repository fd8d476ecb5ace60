//! One writer task per account: takes whatever batches are queued, appends their events
//! and saves their update state in one transaction, then wakes subscribers. A failed commit
//! is retried (never dropped): the batch holds facts Telegram will not send again.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use super::{EventBatch, EventSink, Events};
use crate::domain::NewEvent;
use crate::store::UpdateChange;

/// Batches merged into one commit at most. A commit costs a fixed number of statements
/// whatever its size; far larger commits (4 096 was tried) stall the one runtime thread
/// under load and let the queue grow (BENCHMARKS.md, "Memory after load").
const MAX_MERGED: usize = 256;
/// Batches queued at most: past that, the update pump waits (see [`EventSink`]).
pub(super) const QUEUE_CAPACITY: usize = 16_384;
/// Retention runs after this many appended events, after this long, and when idle this long.
const PURGE_EVERY_EVENTS: usize = 1_000;
const PURGE_EVERY: Duration = Duration::from_secs(60);

pub(super) enum Ingest {
    Batch(EventBatch),
    Flush(oneshot::Sender<()>),
}

pub(super) fn start(events: Arc<Events>, account: String, capacity: usize) -> EventSink {
    let (tx, rx) = mpsc::channel(capacity);
    tokio::spawn(run(events, account, rx));
    EventSink(tx)
}

async fn run(events: Arc<Events>, account: String, mut queue: mpsc::Receiver<Ingest>) {
    let mut queued = Vec::new();
    let mut first = true;
    let mut since_purge = 0usize;
    let mut last_purge = Instant::now();
    let mut last_commit: Option<Instant> = None;
    loop {
        // Idle accounts still get their old events deleted by age.
        let received = tokio::select! {
            n = queue.recv_many(&mut queued, MAX_MERGED) => n,
            _ = tokio::time::sleep(PURGE_EVERY) => {
                purge(&events, &account).await;
                last_purge = Instant::now();
                continue;
            }
        };
        if received == 0 {
            return;
        }
        let window = gather_window(events.config.commit_window, last_commit, Instant::now());
        gather(&mut queue, &mut queued, window, window / IDLE_SHARE).await;

        let mut new_events: Vec<NewEvent> = Vec::new();
        let mut state: Vec<UpdateChange> = Vec::new();
        let mut flushes = Vec::new();
        for item in queued.drain(..) {
            match item {
                Ingest::Batch(batch) => {
                    new_events.extend(batch.events);
                    state.extend(batch.state);
                }
                Ingest::Flush(done) => flushes.push(done),
            }
        }
        if !new_events.is_empty() || !state.is_empty() {
            if first {
                // The starting state grammers fetched (updates.getState) goes through the
                // store's queue; it must land before anything newer.
                if let Err(e) = events.store.flush().await {
                    tracing::warn!(error = %e, account, "the store's queue did not flush");
                }
                first = false;
            }
            // Merged batches each carry the state they end in; only the last of each
            // sequence needs writing.
            let state = UpdateChange::coalesce(state);
            let appended = commit(&events, &account, &new_events, &state).await;
            last_commit = Some(Instant::now());
            since_purge += appended;
        }
        for done in flushes {
            let _ = done.send(());
        }
        if since_purge >= PURGE_EVERY_EVENTS || last_purge.elapsed() >= PURGE_EVERY {
            purge(&events, &account).await;
            since_purge = 0;
            last_purge = Instant::now();
        }
    }
}

/// How long to gather before committing: the whole window while the log is busy (its last
/// commit ended less than a window ago), nothing when it was quiet. A lone event after a
/// quiet spell (the usual case for a user account) is logged at once; a steady stream
/// shares commits, and waits at most one window for it.
fn gather_window(window: Duration, last_commit: Option<Instant>, now: Instant) -> Duration {
    match last_commit {
        Some(end) if now.saturating_duration_since(end) < window => window,
        _ => Duration::ZERO,
    }
}

/// The gathering stops early once nothing arrived for this share of the window.
const IDLE_SHARE: u32 = 4;

/// Group commit: after the first batch, waits up to `window` for more (up to
/// [`MAX_MERGED`]), so sends close together share one commit. Each commit costs a round
/// trip to the database's thread, and on a small virtual machine the two thread wake-ups
/// of that round trip cost more CPU than the SQL itself (BENCHMARKS.md, "Third pass").
/// The wait ends early when nothing arrived for `idle`: events that come one after another,
/// each waiting for the one before (a conversation, a client that waits for each event),
/// gain nothing from a longer wait. A flush waiting in the queue ends the wait: its caller
/// wants the log now.
async fn gather(
    queue: &mut mpsc::Receiver<Ingest>,
    queued: &mut Vec<Ingest>,
    window: Duration,
    idle: Duration,
) {
    if window.is_zero() {
        return;
    }
    let deadline = tokio::time::Instant::now() + window;
    while queued.len() < MAX_MERGED && !queued.iter().any(|i| matches!(i, Ingest::Flush(_))) {
        let room = MAX_MERGED - queued.len();
        let until = deadline.min(tokio::time::Instant::now() + idle);
        match tokio::time::timeout_at(until, queue.recv_many(queued, room)).await {
            // Closed: commit what is here; the next receive ends the task.
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// Commits until it works; returns how many events were logged.
async fn commit(events: &Events, account: &str, new: &[NewEvent], state: &[UpdateChange]) -> usize {
    let mut delay = Duration::from_millis(100);
    loop {
        match events.store.log_events(account, new, state).await {
            Ok(logged) => {
                if let Some(last_id) = logged.last_id {
                    events.count_logged(account, logged.count);
                    events.notify(account, last_id);
                }
                tracing::debug!(account, events = logged.count, "events logged");
                return logged.count;
            }
            Err(e) => {
                tracing::error!(error = %e, account, retry_in_ms = delay.as_millis() as u64, "cannot log events; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}

async fn purge(events: &Events, account: &str) {
    let config = &events.config;
    let cutoff = crate::store::now_ms() - config.retention_age.as_millis() as i64;
    match events
        .store
        .purge_events(account, config.retention_count, cutoff)
        .await
    {
        Ok(0) => {}
        Ok(deleted) => tracing::info!(account, deleted, "old events deleted (retention)"),
        Err(e) => tracing::warn!(error = %e, account, "cannot apply event retention"),
    }
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt;
    use serde_json::json;

    use super::*;
    use crate::config::EventsConfig;
    use crate::domain::EventType;
    use crate::store::Store;

    fn batch(n: usize) -> EventBatch {
        EventBatch {
            events: vec![NewEvent {
                kind: EventType::MessageNew,
                chat: Some(1),
                dedup: None,
                data: json!({ "n": n }),
            }],
            state: Vec::new(),
        }
    }

    async fn memory_events() -> Arc<Events> {
        Events::new(
            Store::open_in_memory().await.unwrap(),
            EventsConfig::default(),
        )
    }

    /// Waits until everything queued on `sink` before now is logged.
    async fn flush(sink: &EventSink) {
        let (done, flushed) = oneshot::channel();
        assert!(sink.0.send(Ingest::Flush(done)).await.is_ok());
        flushed.await.unwrap();
    }

    #[tokio::test]
    async fn a_full_queue_makes_the_pump_wait_and_loses_nothing() {
        let events = memory_events().await;
        let sink = start(events.clone(), "a".into(), 2);
        // One thread: the writer has not run yet, so two batches fill the queue.
        assert!(sink.send(batch(0)).await);
        assert!(sink.send(batch(1)).await);
        let mut third = Box::pin(sink.send(batch(2)));
        assert!(
            (&mut third).now_or_never().is_none(),
            "a send into a full queue waits"
        );
        assert!(third.await, "and goes through once the writer took some");
        for n in 3..300 {
            assert!(sink.send(batch(n)).await);
        }
        flush(&sink).await;

        let logged = events.store().events_after("a", 0, 1_000).await.unwrap();
        let order: Vec<_> = logged
            .iter()
            .map(|e| e.data["n"].as_u64().unwrap())
            .collect();
        assert_eq!(order, (0..300).collect::<Vec<u64>>());
        let ids: Vec<_> = logged.iter().map(|e| e.id).collect();
        assert_eq!(ids, (1..=300).collect::<Vec<i64>>());
    }

    #[tokio::test]
    async fn batches_arriving_within_the_window_are_gathered_for_one_commit() {
        let (tx, mut rx) = mpsc::channel(16);
        let mut queued = vec![Ingest::Batch(batch(0))];
        let late = tokio::spawn(async move {
            tokio::task::yield_now().await;
            for n in 1..3 {
                tx.send(Ingest::Batch(batch(n))).await.unwrap();
            }
            tx
        });
        gather(
            &mut rx,
            &mut queued,
            Duration::from_millis(200),
            Duration::from_secs(10),
        )
        .await;
        assert_eq!(queued.len(), 3, "the two later batches joined the first");
        drop(late.await.unwrap());
    }

    #[test]
    fn the_window_applies_only_while_the_log_is_busy() {
        let window = Duration::from_millis(10);
        let ended = Instant::now();
        let end = Some(ended);
        let later = |ms| ended + Duration::from_millis(ms);
        assert_eq!(
            gather_window(window, None, later(0)),
            Duration::ZERO,
            "first commit"
        );
        assert_eq!(gather_window(window, end, later(3)), window, "busy");
        assert_eq!(
            gather_window(window, end, later(10)),
            Duration::ZERO,
            "quiet"
        );
        assert_eq!(gather_window(window, end, later(60_000)), Duration::ZERO);
        assert_eq!(gather_window(Duration::ZERO, end, later(0)), Duration::ZERO);
    }

    /// Gathers after batch 0 with an hour's window and `idle`; what was queued, or `None`
    /// if the gathering was still waiting after 30 s.
    async fn gathered_within_an_hour(
        rx: &mut mpsc::Receiver<Ingest>,
        idle: Duration,
    ) -> Option<Vec<Ingest>> {
        let mut queued = vec![Ingest::Batch(batch(0))];
        let hour = Duration::from_secs(3_600);
        let wait = gather(rx, &mut queued, hour, idle);
        tokio::time::timeout(Duration::from_secs(30), wait)
            .await
            .ok()?;
        Some(queued)
    }

    #[tokio::test]
    async fn the_window_closes_early_when_nothing_arrives_for_a_while() {
        let (tx, mut rx) = mpsc::channel(16);
        let queued = gathered_within_an_hour(&mut rx, Duration::from_millis(20)).await;
        let queued = queued.expect("the gathering waited out the window");
        assert_eq!(queued.len(), 1);
        drop(tx);
    }

    #[tokio::test]
    async fn a_zero_window_commits_what_was_received_at_once() {
        let (tx, mut rx) = mpsc::channel(16);
        tx.send(Ingest::Batch(batch(1))).await.unwrap();
        let mut queued = vec![Ingest::Batch(batch(0))];
        gather(&mut rx, &mut queued, Duration::ZERO, Duration::ZERO).await;
        assert_eq!(queued.len(), 1, "nothing more is waited for");
    }

    #[tokio::test]
    async fn a_waiting_flush_ends_the_window() {
        let (tx, mut rx) = mpsc::channel(16);
        let (done, _flushed) = oneshot::channel();
        tx.send(Ingest::Flush(done)).await.unwrap();
        let hour = Duration::from_secs(3_600);
        let queued = gathered_within_an_hour(&mut rx, hour).await;
        let queued = queued.expect("the flush did not wait out the window");
        assert_eq!(queued.len(), 2);
    }

    #[tokio::test]
    async fn merged_batches_leave_the_last_state_of_each_channel() {
        let events = memory_events().await;
        // One thread: all 300 batches are queued before the writer runs, so they merge.
        let sink = start(events.clone(), "a".into(), 1_000);
        for n in 0..300 {
            let mut batch = batch(n as usize);
            batch.state = vec![
                UpdateChange::Channel { id: 5, pts: n },
                UpdateChange::Channel { id: 6, pts: 2 * n },
            ];
            assert!(sink.send(batch).await);
        }
        flush(&sink).await;

        let state = events.store().account("a").update_state().await.unwrap();
        assert_eq!(state.channels, [(5, 299), (6, 598)]);
        let logged = events.store().events_after("a", 0, 1_000).await.unwrap();
        assert_eq!(logged.len(), 300);
    }
}
