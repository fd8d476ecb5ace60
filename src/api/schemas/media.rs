//! The JSON of media: what a message carries (`media`) and the answer to a media send (the
//! first message, plus every message of an album).

use serde::Serialize;
use utoipa::ToSchema;

use super::MessageView;
use crate::domain;

/// A message's photo or document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct MediaView {
    /// `photo`, `document`, `video`, `audio` or `voice`.
    #[schema(example = "photo")]
    pub kind: String,
    /// Bytes (of the largest size, for a photo).
    pub size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<i32>,
    /// SHA-256 (hex) of the bytes: known for files mtgate uploaded (in the send's answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

impl From<domain::MediaInfo> for MediaView {
    fn from(m: domain::MediaInfo) -> Self {
        Self {
            kind: m.kind.as_str().to_owned(),
            size: m.size,
            mime_type: m.mime_type,
            file_name: m.file_name,
            width: m.width,
            height: m.height,
            sha256: m.sha256,
        }
    }
}

/// The answer to a media send: the (first) message, and for an album every message of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct SentMedia {
    #[serde(flatten)]
    pub message: MessageView,
    /// Every message of the album, in order (absent for a single file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub album: Option<Vec<MessageView>>,
}

impl From<Vec<domain::MessageView>> for SentMedia {
    fn from(messages: Vec<domain::MessageView>) -> Self {
        let views: Vec<MessageView> = messages.into_iter().map(MessageView::from).collect();
        let album = (views.len() > 1).then(|| views.clone());
        Self {
            message: views
                .into_iter()
                .next()
                .expect("a send answers at least one message"),
            album,
        }
    }
}
