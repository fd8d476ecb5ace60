//! JSON views of the world for the control API: the ground truth a test compares against.

use chrono::{DateTime, SecondsFormat, Utc};
use grammers_tl_types as tl;
use serde::Serialize;
use serde_json::{Value, json};

use super::fixture::ChannelKind;
use super::media::Media;
use super::model::StoredMessage;

/// A chat as the HTTP API names it: Bot-API-style id and type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PeerView {
    pub id: i64,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// One stored message, shaped like the HTTP API's message plus what tests need to check
/// (sender and parsed entities).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MessageView {
    pub id: i32,
    pub peer: PeerView,
    /// RFC 3339.
    pub date: String,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edit_date: Option<String>,
    pub outgoing: bool,
    /// Bot-API-style id of the sending user (absent for channel posts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<i64>,
    pub entities: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<i32>,
    pub silent: bool,
    pub link_preview: bool,
    pub pinned: bool,
    /// Where a forward came from: `{"peer": <Bot-API id>, "date", "channel_post"?}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fwd_from: Option<Value>,
    /// Read by the account (its own messages always are).
    pub read: bool,
    /// The attached file: `{"kind","size","mime_type"?,"file_name"?,"sha256","width"?,
    /// "height"?,"duration"?,"spoiler"}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media: Option<Value>,
    /// The album the message belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grouped_id: Option<i64>,
}

fn rfc3339(unix: i32) -> String {
    DateTime::<Utc>::from_timestamp(i64::from(unix), 0)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl MessageView {
    /// `read` is whether the account has read it ([`State::is_read`](super::state::State::is_read)).
    pub fn of(message: &StoredMessage, channel_kind: Option<ChannelKind>, read: bool) -> Self {
        MessageView {
            id: message.id,
            peer: PeerView {
                id: message.chat.bot_api_id(),
                kind: message.chat.kind_name(channel_kind),
            },
            date: rfc3339(message.date),
            text: message.text.clone(),
            edit_date: message.edit_date.map(rfc3339),
            outgoing: message.out,
            from: message.from,
            entities: message.entities.iter().map(entity).collect(),
            reply_to: message.reply_to,
            silent: message.silent,
            link_preview: message.link_preview,
            pinned: message.pinned,
            fwd_from: message.fwd_from.map(|f| {
                let mut value = json!({"peer": f.from.bot_api_id(), "date": rfc3339(f.date)});
                if let Some(post) = f.channel_post {
                    value["channel_post"] = json!(post);
                }
                value
            }),
            read,
            media: message.media.as_deref().map(media),
            grouped_id: message.grouped_id,
        }
    }
}

/// The ground-truth JSON of a message's media.
pub fn media(media: &Media) -> Value {
    let mut value = json!({
        "kind": media.kind.name(),
        "size": media.blob.bytes.len(),
        "sha256": media.blob.sha256,
        "spoiler": media.spoiler,
    });
    if let Some(mime) = &media.mime_type {
        value["mime_type"] = json!(mime);
    }
    if let Some(name) = &media.file_name {
        value["file_name"] = json!(name);
    }
    if let Some((w, h)) = media.dimensions {
        value["width"] = json!(w);
        value["height"] = json!(h);
    }
    if let Some(duration) = media.duration {
        value["duration"] = json!(duration);
    }
    value
}

/// `{"type","offset","length"}` plus `url` / `language` / `user_id` where the entity has one.
pub fn entity(e: &tl::enums::MessageEntity) -> Value {
    use tl::enums::MessageEntity as E;
    let (kind, extra) = match e {
        E::Bold(_) => ("bold", None),
        E::Italic(_) => ("italic", None),
        E::Underline(_) => ("underline", None),
        E::Strike(_) => ("strikethrough", None),
        E::Spoiler(_) => ("spoiler", None),
        E::Code(_) => ("code", None),
        E::Pre(p) => ("pre", Some(("language", json!(p.language)))),
        E::TextUrl(t) => ("text_url", Some(("url", json!(t.url)))),
        E::Url(_) => ("url", None),
        E::Mention(_) => ("mention", None),
        E::MentionName(m) => ("text_mention", Some(("user_id", json!(m.user_id)))),
        E::Hashtag(_) => ("hashtag", None),
        E::Email(_) => ("email", None),
        E::Blockquote(_) => ("blockquote", None),
        E::CustomEmoji(c) => ("custom_emoji", Some(("document_id", json!(c.document_id)))),
        _ => ("other", None),
    };
    let mut value = json!({"type": kind, "offset": e.offset(), "length": e.length()});
    if let Some((key, v)) = extra {
        value[key] = v;
    }
    value
}
