//! One writer task per account: takes whatever batches are queued, appends their events
//! and saves their update state in one transaction, then wakes subscribers. A failed commit
//! is retried (never dropped): the batch holds facts Telegram will not send again.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use super::{EventBatch, EventSink, Events};
use crate::domain::NewEvent;
use crate::store::UpdateChange;

/// Batches merged into one commit at most.
const MAX_MERGED: usize = 256;
/// Retention runs after this many appended events, after this long, and when idle this long.
const PURGE_EVERY_EVENTS: usize = 1_000;
const PURGE_EVERY: Duration = Duration::from_secs(60);

pub(super) enum Ingest {
    Batch(EventBatch),
    Flush(oneshot::Sender<()>),
}

pub(super) fn start(events: Arc<Events>, account: String) -> EventSink {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(run(events, account, rx));
    EventSink(tx)
}

async fn run(events: Arc<Events>, account: String, mut queue: mpsc::UnboundedReceiver<Ingest>) {
    let mut queued = Vec::new();
    let mut first = true;
    let mut since_purge = 0usize;
    let mut last_purge = Instant::now();
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
            let appended = commit(&events, &account, &new_events, &state).await;
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

/// Commits until it works; returns how many events were logged.
async fn commit(events: &Events, account: &str, new: &[NewEvent], state: &[UpdateChange]) -> usize {
    let mut delay = Duration::from_millis(100);
    loop {
        match events.store.append_events(account, new, state).await {
            Ok(logged) => {
                if let Some(last) = logged.last() {
                    events.count_logged(account, logged.len());
                    events.notify(account, last.id);
                }
                tracing::debug!(account, events = logged.len(), "events logged");
                return logged.len();
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
