//! Events: what happened in an account's chats (and, later, to its outbox jobs), in the one
//! JSON shape apps receive over SSE and webhooks:
//! `{"id", "account", "type", "created_at", "data":{…}}`.
//!
//! `data` is kept as JSON in the log, so producers other than the update handling (the
//! outbox's `job.*` events) append their own payloads without touching this module's types.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use super::PeerType;

/// The type of an event (its `type` field and SSE `event:` name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventType {
    MessageNew,
    MessageEdited,
    MessageDeleted,
    JobSent,
    JobFailed,
    JobDead,
}

impl EventType {
    pub const ALL: [EventType; 6] = [
        Self::MessageNew,
        Self::MessageEdited,
        Self::MessageDeleted,
        Self::JobSent,
        Self::JobFailed,
        Self::JobDead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::MessageNew => "message.new",
            Self::MessageEdited => "message.edited",
            Self::MessageDeleted => "message.deleted",
            Self::JobSent => "job.sent",
            Self::JobFailed => "job.failed",
            Self::JobDead => "job.dead",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A chat as events name it (Bot-API id and the contract's peer type).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct EventChat {
    pub id: i64,
    #[serde(rename = "type")]
    pub kind: PeerType,
}

/// Who sent a message (Bot-API id); absent for a channel's own posts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct EventSender {
    pub id: i64,
    #[serde(rename = "type")]
    pub kind: PeerType,
}

/// A formatting entity of the text (offsets and lengths in UTF-16 code units, as Telegram's).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EventEntity {
    /// `bold`, `italic`, `code`, `pre`, `text_link`, `mention`, `url`, … (Bot API names).
    #[serde(rename = "type")]
    pub kind: String,
    pub offset: i32,
    pub length: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// The `data` of `message.new` and `message.edited`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MessageEvent {
    /// The message id (unique within its chat).
    pub id: i32,
    pub chat: EventChat,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender: Option<EventSender>,
    /// Sent by the account itself (from mtgate or any other of its sessions).
    pub outgoing: bool,
    pub text: String,
    pub entities: Vec<EventEntity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<i32>,
    pub date: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edit_date: Option<DateTime<Utc>>,
}

/// The `data` of `message.deleted`. Telegram names no chat when messages of private chats
/// or basic groups are deleted (their ids are unique within the account): `chat` is absent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeletedEvent {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat: Option<EventChat>,
    pub ids: Vec<i32>,
}

/// An event about to be appended to the log (the log gives it its id and time).
#[derive(Clone, Debug, PartialEq)]
pub struct NewEvent {
    pub kind: EventType,
    /// The chat it is about, for `chats=` filters and key scopes (`None`: no chat known).
    pub chat: Option<i64>,
    /// Identifies the fact, so the same fact seen twice (a live update and the difference
    /// that repeats it) is logged once. `None`: always logged.
    pub dedup: Option<String>,
    pub data: Value,
}

impl NewEvent {
    pub fn message_new(message: &MessageEvent) -> Self {
        Self {
            kind: EventType::MessageNew,
            chat: Some(message.chat.id),
            dedup: Some(format!("new:{}:{}", message.chat.id, message.id)),
            data: to_value(message),
        }
    }

    pub fn message_edited(message: &MessageEvent) -> Self {
        let version = message.edit_date.map_or(0, |d| d.timestamp());
        Self {
            kind: EventType::MessageEdited,
            chat: Some(message.chat.id),
            dedup: Some(format!(
                "edit:{}:{}:{version}:{}",
                message.chat.id,
                message.id,
                short_hash(&message.text)
            )),
            data: to_value(message),
        }
    }

    pub fn message_deleted(deleted: &DeletedEvent) -> Self {
        let chat = deleted.chat.map(|c| c.id);
        let ids: Vec<String> = deleted.ids.iter().map(i32::to_string).collect();
        Self {
            kind: EventType::MessageDeleted,
            chat,
            dedup: Some(format!("del:{}:{}", chat.unwrap_or(0), ids.join(","))),
            data: to_value(deleted),
        }
    }
}

fn to_value(data: &impl Serialize) -> Value {
    serde_json::to_value(data).expect("event data always serializes")
}

/// A short, stable digest of `text` (FNV-1a), so two different edits within one second
/// are not taken for the same fact.
fn short_hash(text: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// An event in the log.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Monotonically increasing per account, never reused.
    pub id: i64,
    pub account: String,
    pub kind: EventType,
    pub created_at: DateTime<Utc>,
    pub chat: Option<i64>,
    pub data: Value,
}

impl Event {
    /// The contract's JSON: `{"id","account","type","created_at","data"}`.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "account": self.account,
            "type": self.kind.as_str(),
            "created_at": self.created_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "data": self.data,
        })
    }
}

/// Which events a subscriber wants: by type and by chat (empty: all).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventFilter {
    pub types: Vec<EventType>,
    pub chats: Vec<i64>,
}

impl EventFilter {
    /// Whether `event` passes. An event about no chat passes a chat filter only when it is
    /// empty (nothing says it is about one of those chats).
    pub fn matches(&self, event: &Event) -> bool {
        let type_ok = self.types.is_empty() || self.types.contains(&event.kind);
        let chat_ok =
            self.chats.is_empty() || event.chat.is_some_and(|chat| self.chats.contains(&chat));
        type_ok && chat_ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: EventType, chat: Option<i64>) -> Event {
        Event {
            id: 7,
            account: "default".into(),
            kind,
            created_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            chat,
            data: json!({"x": 1}),
        }
    }

    #[test]
    fn type_names_round_trip_and_unknown_names_are_refused() {
        for kind in EventType::ALL {
            assert_eq!(EventType::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(EventType::parse("message.created"), None);
    }

    #[test]
    fn the_json_shape_is_the_contracts() {
        let json = event(EventType::MessageNew, Some(5)).to_json();
        assert_eq!(json["id"], 7);
        assert_eq!(json["account"], "default");
        assert_eq!(json["type"], "message.new");
        assert_eq!(json["created_at"], "2027-01-15T08:00:00.000Z");
        assert_eq!(json["data"], json!({"x": 1}));
    }

    #[test]
    fn filters_pass_by_type_and_chat_and_an_empty_filter_passes_all() {
        let new = event(EventType::MessageNew, Some(5));
        let deleted_private = event(EventType::MessageDeleted, None);
        assert!(EventFilter::default().matches(&new));
        assert!(EventFilter::default().matches(&deleted_private));
        let by_type = EventFilter {
            types: vec![EventType::MessageEdited],
            chats: vec![],
        };
        assert!(!by_type.matches(&new));
        let by_chat = EventFilter {
            types: vec![],
            chats: vec![5],
        };
        assert!(by_chat.matches(&new));
        assert!(!by_chat.matches(&event(EventType::MessageNew, Some(6))));
        assert!(!by_chat.matches(&deleted_private));
    }

    #[test]
    fn two_edits_in_one_second_are_different_facts_and_one_repeated_is_the_same() {
        let message = MessageEvent {
            id: 1,
            chat: EventChat {
                id: 5,
                kind: PeerType::User,
            },
            sender: None,
            outgoing: false,
            text: "a".into(),
            entities: vec![],
            reply_to: None,
            date: DateTime::from_timestamp(1, 0).unwrap(),
            edit_date: DateTime::from_timestamp(2, 0),
        };
        let other = MessageEvent {
            text: "b".into(),
            ..message.clone()
        };
        let first = NewEvent::message_edited(&message);
        assert_eq!(first.dedup, NewEvent::message_edited(&message).dedup);
        assert_ne!(first.dedup, NewEvent::message_edited(&other).dedup);
    }
}
