//! The fence between replicas: a [`LeaseGate`] says whether this process may use an
//! account's Telegram connection *right now*. The cluster grants it while this replica holds
//! the account's lease, with a deadline safely before the lease can expire in the database;
//! the client manager checks it before every call and disconnects when it closes.
//!
//! The check reads the monotonic clock, not a flag someone must remember to clear: a process
//! frozen past its deadline (a stall, `SIGSTOP`) finds the gate closed the moment it runs
//! again, before any task can make a call.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

/// Whether this process may drive one account's connection, and until when.
#[derive(Debug)]
pub struct LeaseGate {
    base: Instant,
    /// Nanoseconds after `base` until which calls are allowed; 0 = closed.
    until: AtomicU64,
    /// The lease's fencing token while granted (0 when closed).
    token: AtomicI64,
    /// Bumped on every grant, extension and revoke, so watchers re-read the gate.
    changes: watch::Sender<u64>,
    /// Whether the account's connection is closed here (set by the client manager), so a
    /// replica giving a lease up releases it only once it really stopped using it.
    idle: watch::Sender<bool>,
}

impl Default for LeaseGate {
    fn default() -> Self {
        Self::new()
    }
}

impl LeaseGate {
    /// A closed gate.
    pub fn new() -> Self {
        Self {
            base: Instant::now(),
            until: AtomicU64::new(0),
            token: AtomicI64::new(0),
            changes: watch::channel(0).0,
            idle: watch::channel(true).0,
        }
    }

    /// The client manager reports whether it holds a connection for the account.
    pub fn set_idle(&self, idle: bool) {
        self.idle.send_replace(idle);
    }

    /// Waits until the account's connection is closed here.
    pub async fn idle(&self) {
        let mut idle = self.idle.subscribe();
        let _ = idle.wait_for(|idle| *idle).await;
    }

    /// Opens the gate for the lease `token` until `until`.
    pub fn grant(&self, token: i64, until: Instant) {
        self.token.store(token, Ordering::SeqCst);
        self.until.store(self.nanos(until), Ordering::SeqCst);
        self.changes.send_modify(|n| *n += 1);
    }

    /// Moves the deadline of an open gate (a renewal). A closed gate stays closed.
    pub fn extend(&self, until: Instant) {
        let nanos = self.nanos(until);
        let extended = self
            .until
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |current| {
                (current != 0).then_some(nanos)
            })
            .is_ok();
        if extended {
            self.changes.send_modify(|n| *n += 1);
        }
    }

    /// Closes the gate now.
    pub fn revoke(&self) {
        self.until.store(0, Ordering::SeqCst);
        self.token.store(0, Ordering::SeqCst);
        self.changes.send_modify(|n| *n += 1);
    }

    /// Whether a call may be made now.
    pub fn is_open(&self) -> bool {
        self.deadline().is_some_and(|until| Instant::now() < until)
    }

    /// When an open gate closes by itself (`None` when closed).
    pub fn deadline(&self) -> Option<Instant> {
        match self.until.load(Ordering::SeqCst) {
            0 => None,
            nanos => Some(self.base + Duration::from_nanos(nanos)),
        }
    }

    /// The fencing token of the lease behind an open gate.
    pub fn token(&self) -> Option<i64> {
        self.is_open()
            .then(|| self.token.load(Ordering::SeqCst))
            .filter(|t| *t != 0)
    }

    /// Wakes on every grant, extension and revoke.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Waits until the gate is open.
    pub async fn opened(&self) {
        let mut changes = self.subscribe();
        while !self.is_open() {
            if changes.changed().await.is_err() {
                return;
            }
        }
    }

    /// Waits until the gate is closed: revoked, or its deadline passed without an extension.
    pub async fn closed(&self) {
        let mut changes = self.subscribe();
        loop {
            let Some(until) = self.deadline().filter(|u| Instant::now() < *u) else {
                return;
            };
            tokio::select! {
                _ = tokio::time::sleep_until(until) => {}
                changed = changes.changed() => if changed.is_err() { return },
            }
        }
    }

    fn nanos(&self, at: Instant) -> u64 {
        // At least 1: 0 means closed.
        (at.saturating_duration_since(self.base).as_nanos() as u64).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_gate_is_closed() {
        let gate = LeaseGate::new();
        assert!(!gate.is_open());
        assert_eq!(gate.token(), None);
        assert_eq!(gate.deadline(), None);
    }

    #[test]
    fn a_granted_gate_is_open_until_its_deadline() {
        let gate = LeaseGate::new();
        gate.grant(7, Instant::now() + Duration::from_secs(60));
        assert!(gate.is_open());
        assert_eq!(gate.token(), Some(7));
        gate.grant(8, Instant::now() - Duration::from_millis(1));
        assert!(!gate.is_open(), "a deadline in the past closes it");
        assert_eq!(gate.token(), None);
    }

    #[test]
    fn extending_moves_the_deadline_but_never_reopens_a_revoked_gate() {
        let gate = LeaseGate::new();
        gate.grant(1, Instant::now() + Duration::from_secs(1));
        let later = Instant::now() + Duration::from_secs(120);
        gate.extend(later);
        assert!(gate.deadline().unwrap() >= later - Duration::from_millis(1));
        gate.revoke();
        gate.extend(Instant::now() + Duration::from_secs(60));
        assert!(!gate.is_open());
    }

    #[tokio::test]
    async fn closed_returns_when_the_deadline_passes_without_an_extension() {
        let gate = LeaseGate::new();
        gate.grant(1, Instant::now() + Duration::from_millis(30));
        tokio::time::timeout(Duration::from_secs(5), gate.closed())
            .await
            .expect("the gate closes by itself");
        assert!(!gate.is_open());
    }

    #[tokio::test]
    async fn opened_returns_once_granted() {
        let gate = std::sync::Arc::new(LeaseGate::new());
        let waiter = tokio::spawn({
            let gate = gate.clone();
            async move { gate.opened().await }
        });
        gate.grant(3, Instant::now() + Duration::from_secs(60));
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("opened wakes")
            .unwrap();
    }
}
