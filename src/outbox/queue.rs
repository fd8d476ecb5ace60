//! One chat's pending jobs, in delivery order, with what the scheduler knows of the chat:
//! whether a send is in flight, whether it is parked, its kind and its pacing buckets.

use std::collections::BTreeMap;

use tokio::time::Instant;

use super::pacing::Bucket;
use crate::domain::{Job, PeerSpec, PeerType, Priority};

/// A pending job as the scheduler tracks it (the rest stays in the store). Times are Unix ms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub id: String,
    pub seq: i64,
    pub priority: Priority,
    /// `send_at`, else the creation time: the chat's order is (due, seq).
    pub due: i64,
    /// Not before this (a retry's or a flood's next attempt).
    pub not_before: Option<i64>,
    pub deadline: Option<i64>,
}

impl Entry {
    pub fn of(job: &Job) -> Self {
        Self {
            id: job.id.clone(),
            seq: job.seq,
            priority: job.priority,
            due: job.due(),
            not_before: job.next_attempt_at,
            deadline: job.deadline,
        }
    }

    /// When it may be sent at the earliest (Unix ms).
    pub fn ready_ms(&self) -> i64 {
        self.not_before.map_or(self.due, |t| t.max(self.due))
    }
}

/// One chat's queue.
pub struct ChatQueue {
    pub spec: PeerSpec,
    entries: BTreeMap<(i64, i64), Entry>,
    /// A job of this chat is being sent (one at a time: nothing overtakes it).
    pub busy: bool,
    /// Parked by a flood or slow-mode wait until then.
    pub parked_until: Option<Instant>,
    /// The park came from FLOOD_WAIT (not slow mode): a second chat flooded meanwhile means
    /// the account as a whole is being limited.
    pub flood_parked: bool,
    /// Learned on the first attempt; until then the chat is paced as a group (the stricter).
    pub kind: Option<PeerType>,
    pub chat_bucket: Option<Bucket>,
    pub group_bucket: Option<Bucket>,
}

impl ChatQueue {
    pub fn new(spec: PeerSpec) -> Self {
        Self {
            spec,
            entries: BTreeMap::new(),
            busy: false,
            parked_until: None,
            flood_parked: false,
            kind: None,
            chat_bucket: None,
            group_bucket: None,
        }
    }

    /// Adds (or replaces, by id) a job.
    pub fn insert(&mut self, entry: Entry) {
        self.remove(&entry.id);
        self.entries.insert((entry.due, entry.seq), entry);
    }

    /// Whether the job `id` is queued here.
    pub fn contains(&self, id: &str) -> bool {
        self.entries.values().any(|e| e.id == id)
    }

    /// Removes the job `id`, if queued here.
    pub fn remove(&mut self, id: &str) -> Option<Entry> {
        let key = self
            .entries
            .iter()
            .find(|(_, e)| e.id == id)
            .map(|(k, _)| *k)?;
        self.entries.remove(&key)
    }

    /// The job that must go next.
    pub fn head(&self) -> Option<&Entry> {
        self.entries.values().next()
    }

    /// Sets when the job `id` may be tried again.
    pub fn delay(&mut self, id: &str, until_ms: i64) {
        if let Some(entry) = self.entries.values_mut().find(|e| e.id == id) {
            entry.not_before = Some(until_ms);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the chat is parked at `now`.
    pub fn parked(&self, now: Instant) -> bool {
        self.parked_until.is_some_and(|t| t > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, seq: i64, due: i64) -> Entry {
        Entry {
            id: id.into(),
            seq,
            priority: Priority::Normal,
            due,
            not_before: None,
            deadline: None,
        }
    }

    #[test]
    fn the_head_is_the_earliest_due_then_the_first_enqueued() {
        let mut queue = ChatQueue::new(PeerSpec::Me);
        queue.insert(entry("later", 1, 9_000));
        queue.insert(entry("b", 3, 1_000));
        queue.insert(entry("a", 2, 1_000));
        assert_eq!(queue.head().unwrap().id, "a");
        queue.remove("a");
        assert_eq!(queue.head().unwrap().id, "b");
        queue.remove("b");
        assert_eq!(queue.head().unwrap().id, "later");
        assert!(queue.remove("nope").is_none());
        assert_eq!(queue.len(), 1);
    }

    #[test]
    fn a_delayed_head_stays_the_head_and_inserting_twice_keeps_one() {
        let mut queue = ChatQueue::new(PeerSpec::Me);
        queue.insert(entry("a", 1, 1_000));
        queue.insert(entry("b", 2, 1_000));
        queue.delay("a", 5_000);
        let head = queue.head().unwrap();
        assert_eq!((head.id.as_str(), head.ready_ms()), ("a", 5_000));
        queue.insert(entry("a", 1, 1_000));
        assert_eq!(queue.len(), 2);
    }
}
