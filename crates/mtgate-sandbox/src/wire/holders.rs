//! Which connections use which auth key, and since when: the connection log tests read to
//! prove that no two processes drove one account at once, and the `AUTH_KEY_DUPLICATED`
//! switch that makes such a double holder fatal, as Telegram does.
//!
//! A connection *holds* a key from its first packet encrypted with it until its task ends.
//! Two processes driving one account show up as two connections on one key both making API
//! calls. With the switch on, an API call on a key whose other live connection made an API
//! call within [`ACTIVITY_WINDOW`] waits a short grace (a client that reconnects closes its
//! old socket first, but the server may read that close a moment after the new connection's
//! first call) and then, if the rival is still there, gets 406 `AUTH_KEY_DUPLICATED` and the
//! key is logged out for everyone. A rival that is open but silent (a frozen process whose
//! socket the kernel keeps) does not count until it calls again.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use tokio::sync::Notify;

/// How long a contested call waits for the rival connection to close before it is judged a
/// duplicate.
pub const GRACE: Duration = Duration::from_millis(300);

/// How recent another connection's API call must be for it to count as a second driver.
pub const ACTIVITY_WINDOW: Duration = Duration::from_secs(1);

/// The connection log keeps this many entries (oldest dropped first).
const LOG_CAPACITY: usize = 10_000;

/// One connection's use of one auth key, as the control API shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConnectionRecord {
    pub connection_id: u64,
    /// The key's id as a decimal string (JSON numbers lose precision past 2^53).
    pub auth_key_id: String,
    /// Milliseconds since the Unix epoch.
    pub opened_at_ms: u64,
    /// `None` while the connection is live.
    pub closed_at_ms: Option<u64>,
    /// The first and the latest API call let through on this connection (`None` before
    /// any): two connections of one key whose call spans overlap were driven at once.
    pub first_call_ms: Option<u64>,
    pub last_call_ms: Option<u64>,
    /// Set when this connection's call was refused with `AUTH_KEY_DUPLICATED`.
    pub duplicate: bool,
}

/// Live holders and the log of every hold; shared by all connections of one server.
#[derive(Debug, Default)]
pub struct KeyHolders {
    detect: AtomicBool,
    state: Mutex<State>,
    released: Notify,
}

#[derive(Debug, Default)]
struct State {
    /// Live connections that used a key.
    live: HashMap<u64, Holder>,
    log: VecDeque<ConnectionRecord>,
}

#[derive(Debug)]
struct Holder {
    auth_key_id: i64,
    /// When this connection last made an API call that was let through.
    last_call: Option<tokio::time::Instant>,
}

/// What a contested call should do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Proceed,
    Duplicated,
}

impl KeyHolders {
    /// Turns the `AUTH_KEY_DUPLICATED` emulation on or off.
    pub fn set_detect(&self, on: bool) {
        self.detect.store(on, Ordering::SeqCst);
    }

    pub fn detecting(&self) -> bool {
        self.detect.load(Ordering::SeqCst)
    }

    /// `connection` now uses `auth_key_id` (called when its key changes).
    pub fn attach(&self, connection: u64, auth_key_id: i64) {
        let mut state = self.lock();
        let previous = state.live.insert(
            connection,
            Holder {
                auth_key_id,
                last_call: None,
            },
        );
        if let Some(previous) = previous
            && previous.auth_key_id == auth_key_id
        {
            state.live.insert(connection, previous);
            return;
        }
        close_open(&mut state.log, connection);
        if state.log.len() == LOG_CAPACITY {
            state.log.pop_front();
        }
        state.log.push_back(ConnectionRecord {
            connection_id: connection,
            auth_key_id: auth_key_id.to_string(),
            opened_at_ms: now_ms(),
            closed_at_ms: None,
            first_call_ms: None,
            last_call_ms: None,
            duplicate: false,
        });
    }

    /// `connection` ended (however its task ended).
    pub fn detach(&self, connection: u64) {
        let mut state = self.lock();
        if state.live.remove(&connection).is_some() {
            close_open(&mut state.log, connection);
        }
        drop(state);
        self.released.notify_waiters();
    }

    /// Whether an API call from `connection` on `auth_key_id` may go on: with detection on
    /// and another live, recently active holder of the key, waits up to [`GRACE`] for it to
    /// go away. A call let through counts as this connection's activity.
    pub async fn judge(&self, connection: u64, auth_key_id: i64) -> Verdict {
        if self.detecting() {
            let deadline = tokio::time::Instant::now() + GRACE;
            loop {
                let released = self.released.notified();
                if !self.has_rival(connection, auth_key_id) {
                    break;
                }
                if tokio::time::timeout_at(deadline, released).await.is_err() {
                    if self.has_rival(connection, auth_key_id) {
                        return self.duplicated(connection);
                    }
                    break;
                }
            }
        }
        let mut state = self.lock();
        if let Some(holder) = state.live.get_mut(&connection) {
            holder.last_call = Some(tokio::time::Instant::now());
            if let Some(record) = open_record(&mut state.log, connection) {
                let now = now_ms();
                record.first_call_ms.get_or_insert(now);
                record.last_call_ms = Some(now);
            }
        }
        Verdict::Proceed
    }

    fn duplicated(&self, connection: u64) -> Verdict {
        if let Some(record) = open_record(&mut self.lock().log, connection) {
            record.duplicate = true;
        }
        Verdict::Duplicated
    }

    fn has_rival(&self, connection: u64, auth_key_id: i64) -> bool {
        let now = tokio::time::Instant::now();
        self.lock().live.iter().any(|(&id, holder)| {
            id != connection
                && holder.auth_key_id == auth_key_id
                && holder
                    .last_call
                    .is_some_and(|at| now.duration_since(at) < ACTIVITY_WINDOW)
        })
    }

    /// Every hold, oldest first.
    pub fn log(&self) -> Vec<ConnectionRecord> {
        self.lock().log.iter().cloned().collect()
    }

    /// Forgets closed holds (live ones stay), for a world reset.
    pub fn clear_closed(&self) {
        self.lock().log.retain(|r| r.closed_at_ms.is_none());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn open_record(
    log: &mut VecDeque<ConnectionRecord>,
    connection: u64,
) -> Option<&mut ConnectionRecord> {
    log.iter_mut()
        .rev()
        .find(|r| r.connection_id == connection && r.closed_at_ms.is_none())
}

fn close_open(log: &mut VecDeque<ConnectionRecord>, connection: u64) {
    if let Some(record) = open_record(log, connection) {
        record.closed_at_ms = Some(now_ms());
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_lone_holder_proceeds_even_with_detection_on() {
        let holders = KeyHolders::default();
        holders.set_detect(true);
        holders.attach(1, 42);
        assert_eq!(holders.judge(1, 42).await, Verdict::Proceed);
    }

    #[tokio::test]
    async fn two_live_holders_of_one_key_are_a_duplicate_only_when_detecting() {
        let holders = KeyHolders::default();
        holders.attach(1, 42);
        holders.attach(2, 42);
        assert_eq!(holders.judge(1, 42).await, Verdict::Proceed);
        assert_eq!(holders.judge(2, 42).await, Verdict::Proceed);
        holders.set_detect(true);
        assert_eq!(holders.judge(2, 42).await, Verdict::Duplicated);
        let log = holders.log();
        assert!(!log[0].duplicate);
        assert!(log[1].duplicate);
    }

    #[tokio::test]
    async fn a_rival_that_closes_within_the_grace_is_no_duplicate() {
        let holders = std::sync::Arc::new(KeyHolders::default());
        holders.set_detect(true);
        holders.attach(1, 42);
        holders.attach(2, 42);
        assert_eq!(holders.judge(1, 42).await, Verdict::Proceed);
        let closer = holders.clone();
        let close = tokio::spawn(async move {
            tokio::time::sleep(GRACE / 4).await;
            closer.detach(1);
        });
        assert_eq!(holders.judge(2, 42).await, Verdict::Proceed);
        close.await.unwrap();
    }

    #[tokio::test]
    async fn an_open_but_silent_rival_is_no_duplicate_until_it_calls_again() {
        let holders = KeyHolders::default();
        holders.set_detect(true);
        holders.attach(1, 42);
        assert_eq!(holders.judge(1, 42).await, Verdict::Proceed);
        // Its last call is now older than the window (as for a frozen process).
        if let Some(holder) = holders.lock().live.get_mut(&1) {
            let at = holder.last_call.unwrap();
            holder.last_call = at.checked_sub(ACTIVITY_WINDOW);
        }
        holders.attach(2, 42);
        assert_eq!(holders.judge(2, 42).await, Verdict::Proceed);
        assert_eq!(holders.judge(1, 42).await, Verdict::Duplicated);
    }

    #[tokio::test]
    async fn holders_of_different_keys_do_not_conflict() {
        let holders = KeyHolders::default();
        holders.set_detect(true);
        holders.attach(1, 42);
        holders.attach(2, 43);
        assert_eq!(holders.judge(2, 43).await, Verdict::Proceed);
    }

    #[tokio::test]
    async fn the_log_records_the_span_of_calls_let_through() {
        let holders = KeyHolders::default();
        holders.attach(1, 42);
        holders.judge(1, 42).await;
        holders.judge(1, 42).await;
        let record = &holders.log()[0];
        let (first, last) = (record.first_call_ms.unwrap(), record.last_call_ms.unwrap());
        assert!(first <= last && last >= record.opened_at_ms);
    }

    #[test]
    fn the_log_records_open_and_close_times() {
        let holders = KeyHolders::default();
        holders.attach(7, -5);
        assert_eq!(holders.log()[0].closed_at_ms, None);
        assert_eq!(holders.log()[0].first_call_ms, None);
        assert_eq!(holders.log()[0].auth_key_id, "-5");
        holders.detach(7);
        let record = &holders.log()[0];
        assert!(record.closed_at_ms.unwrap() >= record.opened_at_ms);
        holders.clear_closed();
        assert!(holders.log().is_empty());
    }
}
