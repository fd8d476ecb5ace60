//! Flood memory: a FLOOD_WAIT, SLOWMODE_WAIT or FLOOD_PREMIUM_WAIT that Telegram handed back
//! (too long to sleep through) is remembered for its scope until it expires, and calls in
//! that scope are refused at once with the remaining wait instead of reaching Telegram.
//!
//! Calling again inside the window is what real Telegram punishes with longer waits and, in
//! the end, account limits. One memory per account (per [`super::ClientManager`]); the scope
//! is the TL method, plus the chat for calls that act on one chat.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use grammers_mtsender::RpcError;

use super::error::Refusal;
use super::metrics::Metrics;

/// Above this many live entries, expired ones are swept on insert (memory stays bounded by
/// the number of distinct chats flooded within the longest wait).
const SWEEP_ABOVE: usize = 256;

/// What a wait applies to: a method, and the chat when the call targets one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FloodScope {
    pub method: &'static str,
    /// Bot-API-style chat id, for calls that act on one chat.
    pub chat: Option<i64>,
}

impl FloodScope {
    /// A method-wide scope.
    pub fn method(method: &'static str) -> Self {
        Self { method, chat: None }
    }

    /// A scope of one chat for `method`.
    pub fn chat(method: &'static str, chat: i64) -> Self {
        Self {
            method,
            chat: Some(chat),
        }
    }

    /// The `/metrics` label of the scope's kind.
    pub fn label(&self) -> &'static str {
        if self.chat.is_some() {
            "chat"
        } else {
            "method"
        }
    }
}

/// The waits Telegram sends with a number of seconds, as `&'static str` (metrics labels).
const WAIT_KINDS: &[&str] = &["FLOOD_WAIT", "SLOWMODE_WAIT", "FLOOD_PREMIUM_WAIT"];

/// The kind and seconds of a wait error, if `refusal` is one.
pub fn wait_of(refusal: &Refusal) -> Option<(&'static str, u32)> {
    let seconds = refusal.value?;
    let kind = WAIT_KINDS.iter().find(|kind| refusal.name == **kind)?;
    Some((kind, seconds))
}

#[derive(Clone, Copy, Debug)]
struct Remembered {
    until: Instant,
    kind: &'static str,
}

/// The waits of one account.
#[derive(Default)]
pub struct FloodMemory {
    waits: Mutex<HashMap<FloodScope, Remembered>>,
}

impl FloodMemory {
    pub fn new() -> Self {
        Self::default()
    }

    /// The error to answer instead of calling Telegram, when `scope` (or its method as a
    /// whole) is inside a remembered wait at `now`.
    pub fn refusal(&self, scope: FloodScope, now: Instant) -> Option<Refusal> {
        let waits = lock(&self.waits);
        let method_wide = waits.get(&FloodScope::method(scope.method));
        let own = scope.chat.and_then(|_| waits.get(&scope));
        let longest = [own, method_wide]
            .into_iter()
            .flatten()
            .filter(|w| w.until > now)
            .max_by_key(|w| w.until)?;
        let remaining = longest.until.saturating_duration_since(now);
        Some(Refusal::of(&RpcError {
            code: 420,
            name: longest.kind.into(),
            value: Some(ceil_secs(remaining)),
            caused_by: None,
        }))
    }

    /// Remembers the wait in `rpc` (if it is one) for `scope`, from `now`; returns its kind.
    pub fn learn(
        &self,
        scope: FloodScope,
        refusal: &Refusal,
        now: Instant,
    ) -> Option<&'static str> {
        let (kind, seconds) = wait_of(refusal)?;
        let until = now + Duration::from_secs(u64::from(seconds));
        let mut waits = lock(&self.waits);
        if waits.len() >= SWEEP_ABOVE {
            waits.retain(|_, w| w.until > now);
        }
        let entry = waits.entry(scope).or_insert(Remembered { until, kind });
        if until >= entry.until {
            *entry = Remembered { until, kind };
        }
        Some(kind)
    }

    /// Live entries (tests, diagnostics).
    pub fn len(&self, now: Instant) -> usize {
        lock(&self.waits).values().filter(|w| w.until > now).count()
    }

    pub fn is_empty(&self, now: Instant) -> bool {
        self.len(now) == 0
    }
}

/// Checks `scope` before a call: the refusal (counted in `metrics`) when inside a wait.
pub fn check(memory: &FloodMemory, metrics: &Metrics, scope: FloodScope) -> Option<Refusal> {
    let refusal = memory.refusal(scope, Instant::now())?;
    let kind = wait_of(&refusal).map_or("FLOOD_WAIT", |(kind, _)| kind);
    metrics.record_flood_scope(scope.method, scope.label(), kind, "refused");
    Some(refusal)
}

/// Learns from a call's RPC error (counted in `metrics` when it is a wait).
pub fn learn(memory: &FloodMemory, metrics: &Metrics, scope: FloodScope, refusal: &Refusal) {
    if let Some(kind) = memory.learn(scope, refusal, Instant::now()) {
        metrics.record_flood_scope(scope.method, scope.label(), kind, "remembered");
        tracing::info!(
            method = scope.method,
            scope = scope.label(),
            kind,
            wait_s = refusal.value,
            "remembering a Telegram wait; calls in its scope are refused until it ends"
        );
    }
}

/// Whole seconds, rounded up, never 0 (a `Retry-After: 0` invites an immediate retry).
fn ceil_secs(d: Duration) -> u32 {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    u32::try_from(secs.max(1)).unwrap_or(u32::MAX)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wait(name: &str, seconds: u32) -> Refusal {
        Refusal::of(&RpcError {
            code: 420,
            name: name.into(),
            value: Some(seconds),
            caused_by: None,
        })
    }

    const SEND: &str = "messages.sendMessage";

    #[test]
    fn a_chat_wait_refuses_that_chat_until_it_expires_and_no_other() {
        let memory = FloodMemory::new();
        let t0 = Instant::now();
        memory.learn(FloodScope::chat(SEND, 1), &wait("FLOOD_WAIT", 120), t0);
        let refusal = memory
            .refusal(
                FloodScope::chat(SEND, 1),
                t0 + Duration::from_millis(30_500),
            )
            .expect("inside the window");
        assert_eq!((refusal.code, refusal.name.as_str()), (420, "FLOOD_WAIT"));
        assert_eq!(
            refusal.value,
            Some(90),
            "rounded up, never more than learned"
        );
        assert!(memory.refusal(FloodScope::chat(SEND, 2), t0).is_none());
        assert!(memory.refusal(FloodScope::method(SEND), t0).is_none());
        assert!(
            memory
                .refusal(FloodScope::chat(SEND, 1), t0 + Duration::from_secs(120))
                .is_none()
        );
    }

    #[test]
    fn a_method_wide_wait_covers_every_chat_of_that_method_only() {
        let memory = FloodMemory::new();
        let t0 = Instant::now();
        memory.learn(
            FloodScope::method("upload.saveFilePart"),
            &wait("FLOOD_PREMIUM_WAIT", 5),
            t0,
        );
        let r = memory
            .refusal(FloodScope::chat("upload.saveFilePart", 9), t0)
            .unwrap();
        assert_eq!(r.name, "FLOOD_PREMIUM_WAIT");
        assert!(memory.refusal(FloodScope::chat(SEND, 9), t0).is_none());
    }

    #[test]
    fn only_waits_with_seconds_are_learned_and_a_shorter_one_never_shortens() {
        let memory = FloodMemory::new();
        let t0 = Instant::now();
        let other = Refusal::of(&RpcError {
            code: 400,
            name: "PEER_ID_INVALID".into(),
            value: None,
            caused_by: None,
        });
        assert_eq!(memory.learn(FloodScope::method(SEND), &other, t0), None);
        assert!(memory.is_empty(t0));
        let scope = FloodScope::chat(SEND, 3);
        assert_eq!(
            memory.learn(scope, &wait("SLOWMODE_WAIT", 60), t0),
            Some("SLOWMODE_WAIT")
        );
        memory.learn(scope, &wait("FLOOD_WAIT", 10), t0);
        let r = memory.refusal(scope, t0).unwrap();
        assert_eq!((r.name.as_str(), r.value), ("SLOWMODE_WAIT", Some(60)));
    }

    #[test]
    fn expired_entries_are_swept_so_memory_stays_bounded() {
        let memory = FloodMemory::new();
        let t0 = Instant::now();
        for chat in 0..(SWEEP_ABOVE as i64 * 3) {
            let now = t0 + Duration::from_secs(chat as u64 * 2);
            memory.learn(FloodScope::chat(SEND, chat), &wait("FLOOD_WAIT", 1), now);
        }
        assert!(lock(&memory.waits).len() <= SWEEP_ABOVE);
    }

    #[test]
    fn remaining_seconds_round_up_and_are_never_zero() {
        assert_eq!(ceil_secs(Duration::from_millis(1)), 1);
        assert_eq!(ceil_secs(Duration::ZERO), 1);
        assert_eq!(ceil_secs(Duration::from_millis(2001)), 3);
        assert_eq!(ceil_secs(Duration::from_secs(7)), 7);
    }
}
