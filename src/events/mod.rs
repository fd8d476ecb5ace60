//! Events out: the durable log filled from each account's updates ([`ingest`]), the live
//! fan-out that wakes subscribers when it grows ([`hub`]), retention, and webhook delivery
//! ([`webhooks`]).
//!
//! Readers never get events pushed to them: they are woken with the log's newest id and read
//! the log from their own cursor, so a slow reader holds no queue and misses nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{oneshot, watch};

use crate::config::EventsConfig;
use crate::domain::{Event, NewEvent};
use crate::store::{Store, StoreError, UpdateChange};

mod hub;
mod ingest;
pub mod webhooks;

pub use hub::Hub;

/// Events read from the update stream, with the update state they leave behind: appended
/// (and the state saved) in one transaction.
#[derive(Debug, Default)]
pub struct EventBatch {
    pub events: Vec<NewEvent>,
    pub state: Vec<UpdateChange>,
}

impl EventBatch {
    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.state.is_empty()
    }
}

/// Where an account's update pump sends what it read. Bounded: when the log's writer falls
/// behind (a burst of sends, each one an outgoing `message.new`), the pump waits here
/// instead of piling batches up in memory; nothing is dropped. While it waits, updates wait
/// in its own input channel (see `telegram::updates_pump`). A batch lost in a crash is not
/// lost for good: the update state is only saved with the events.
#[derive(Clone, Debug)]
pub struct EventSink(tokio::sync::mpsc::Sender<ingest::Ingest>);

impl EventSink {
    /// Queues `batch`, waiting while the queue is full; false when the log's writer is gone
    /// (shutting down).
    pub async fn send(&self, batch: EventBatch) -> bool {
        self.0.send(ingest::Ingest::Batch(batch)).await.is_ok()
    }

    /// A sink whose batches go nowhere (tests of the Telegram side alone).
    pub fn detached() -> Self {
        Self(tokio::sync::mpsc::channel(1).0)
    }
}

/// The event log service: one per process, shared by every account.
pub struct Events {
    store: Store,
    config: EventsConfig,
    hub: Hub,
    sinks: Mutex<HashMap<String, EventSink>>,
    /// Set at shutdown: live streams end so the server can drain.
    closing: watch::Sender<bool>,
    /// Events logged per account since start, for `/metrics`.
    logged: Mutex<HashMap<String, u64>>,
}

impl Events {
    pub fn new(store: Store, config: EventsConfig) -> Arc<Self> {
        Arc::new(Self {
            store,
            config,
            hub: Hub::default(),
            sinks: Mutex::new(HashMap::new()),
            closing: watch::channel(false).0,
            logged: Mutex::new(HashMap::new()),
        })
    }

    pub fn config(&self) -> &EventsConfig {
        &self.config
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The sink of `account` (its writer task started on first use).
    pub fn sink(self: &Arc<Self>, account: &str) -> EventSink {
        let mut sinks = self.sinks.lock().unwrap_or_else(|p| p.into_inner());
        sinks
            .entry(account.to_string())
            .or_insert_with(|| {
                ingest::start(self.clone(), account.to_string(), ingest::QUEUE_CAPACITY)
            })
            .clone()
    }

    /// Changes once, when shutdown starts.
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// Ends every live stream (shutdown started).
    pub fn close_streams(&self) {
        self.closing.send_replace(true);
    }

    /// Wakes with the newest event id of `account` whenever its log grows.
    pub fn subscribe(&self, account: &str) -> watch::Receiver<i64> {
        self.hub.subscribe(account)
    }

    /// Tells subscribers that `account`'s log grew to `last_id`. Producers appending in
    /// their own transaction ([`crate::store::events::append`], e.g. the outbox's `job.*`
    /// events) call this after their commit.
    pub fn notify(&self, account: &str, last_id: i64) {
        self.hub.notify(account, last_id);
    }

    /// Counts `n` newly logged events of `account` (for `/metrics`).
    fn count_logged(&self, account: &str, n: usize) {
        let mut logged = self.logged.lock().unwrap_or_else(|p| p.into_inner());
        *logged.entry(account.to_string()).or_default() += n as u64;
    }

    /// Prometheus text: events logged per account.
    pub fn render_metrics(&self) -> String {
        let logged = self.logged.lock().unwrap_or_else(|p| p.into_inner());
        let mut accounts: Vec<_> = logged.iter().collect();
        accounts.sort();
        let mut out = String::from(
            "# HELP mtgate_events_logged_total Events appended to the event log since start.\n\
             # TYPE mtgate_events_logged_total counter\n",
        );
        for (account, n) in accounts {
            out.push_str(&format!(
                "mtgate_events_logged_total{{account=\"{account}\"}} {n}\n"
            ));
        }
        out
    }

    /// Appends `events` on their own (no update state) and wakes subscribers.
    pub async fn append(
        &self,
        account: &str,
        events: &[NewEvent],
    ) -> Result<Vec<Event>, StoreError> {
        let logged = self.store.append_events(account, events, &[]).await?;
        if let Some(last) = logged.last() {
            self.count_logged(account, logged.len());
            self.notify(account, last.id);
        }
        Ok(logged)
    }

    /// Waits until every batch queued so far is in the log (at shutdown, before the store
    /// closes).
    pub async fn flush(&self) {
        let sinks: Vec<EventSink> = self
            .sinks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect();
        for sink in sinks {
            let (done, flushed) = oneshot::channel();
            if sink.0.send(ingest::Ingest::Flush(done)).await.is_ok() {
                let _ = flushed.await;
            }
        }
    }
}
