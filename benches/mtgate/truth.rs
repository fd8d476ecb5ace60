//! Checking sends against the sandbox's ground truth (`GET /chats/{peer}/messages`): every
//! message the bench sends starts with a tag unique to the run, scenario and operation, so a
//! tag found zero times is a lost message and a tag found twice a duplicate.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::procs::Error;

/// Every send the bench made, by tag: the id the sender was told, if it was told one.
#[derive(Clone, Default)]
pub struct Ledger(Arc<Mutex<Vec<Entry>>>);

#[derive(Clone, Debug)]
pub struct Entry {
    /// The scenario label the tag belongs to (`direct send c=16`), for the per-row audit.
    pub scenario: String,
    pub tag: String,
    /// `Some(id)` when the send was acknowledged (201 / an RPC result).
    pub acked_id: Option<i64>,
}

impl Ledger {
    pub fn record(&self, scenario: &str, tag: String, acked_id: Option<i64>) {
        self.0.lock().unwrap().push(Entry {
            scenario: scenario.to_owned(),
            tag,
            acked_id,
        });
    }

    pub fn entries(&self) -> Vec<Entry> {
        self.0.lock().unwrap().clone()
    }
}

/// Text of message `index` of a scenario. The tag is the first word; the rest makes the
/// message look like an ordinary short notification.
pub fn message_text(tag: &str) -> String {
    format!("{tag} deploy finished: build green, 3 services restarted")
}

/// The tag a message text starts with.
pub fn tag_of(text: &str) -> &str {
    text.split_whitespace().next().unwrap_or("")
}

/// What the ground truth says about one scenario's sends.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Audit {
    /// Sends made.
    pub sent: usize,
    /// Sends acknowledged to the sender.
    pub acked: usize,
    /// Acknowledged sends whose tag the sandbox does not hold.
    pub lost: usize,
    /// Tags the sandbox holds more than once (counted once per extra copy).
    pub duplicated: usize,
    /// Acknowledged sends whose acknowledged id is not the id the sandbox holds for the tag.
    pub wrong_id: usize,
    /// Sends that failed for the sender but were delivered anyway (not a loss; the sender
    /// knows the outcome is unknown).
    pub failed_but_delivered: usize,
}

/// Audits `entries` against `truth`: `(id, text)` of every message the sandbox holds.
/// The result is keyed by scenario.
pub fn audit(entries: &[Entry], truth: &[(i64, String)]) -> BTreeMap<String, Audit> {
    let mut held: HashMap<&str, Vec<i64>> = HashMap::new();
    for (id, text) in truth {
        held.entry(tag_of(text)).or_default().push(*id);
    }
    let mut audits: BTreeMap<String, Audit> = BTreeMap::new();
    for entry in entries {
        let audit = audits.entry(entry.scenario.clone()).or_default();
        let ids = held
            .get(entry.tag.as_str())
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        audit.sent += 1;
        audit.duplicated += ids.len().saturating_sub(1);
        match entry.acked_id {
            Some(id) => {
                audit.acked += 1;
                if ids.is_empty() {
                    audit.lost += 1;
                } else if !ids.contains(&id) {
                    audit.wrong_id += 1;
                }
            }
            None if !ids.is_empty() => audit.failed_but_delivered += 1,
            None => {}
        }
    }
    audits
}

/// Fetches the sandbox's messages of `peer` as `(id, text)`. The element shape is read
/// leniently (`text` or `message`) since only the array itself is fixed by the contract.
pub async fn fetch(control_url: &str, peer: &str) -> Result<Vec<(i64, String)>, Error> {
    let url = format!(
        "{}/chats/{peer}/messages",
        control_url.trim_end_matches('/')
    );
    let response = reqwest::get(&url).await?.error_for_status()?;
    let messages: Vec<serde_json::Value> = response.json().await?;
    messages
        .iter()
        .map(|m| {
            let id = m["id"]
                .as_i64()
                .ok_or("a ground-truth message has no integer id")?;
            let text = m["text"]
                .as_str()
                .or_else(|| m["message"].as_str())
                .unwrap_or("");
            Ok((id, text.to_owned()))
        })
        .collect()
}
