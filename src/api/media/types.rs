//! The JSON part of a media send (and its OpenAPI schemas, with the multipart form).

use serde::Deserialize;
use utoipa::ToSchema;

use crate::domain::{MediaKind, ParseMode};

/// The `json` part of a `multipart/form-data` send: the send body plus `media`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MediaSendRequest {
    /// Where to send; `MTGATE_DEFAULT_PEER` when absent.
    #[schema(example = "@channel_name")]
    pub peer: Option<String>,
    /// The caption (also accepted as `media.caption`; not both).
    pub text: Option<String>,
    /// How the caption is written: `plain` (default), `markdown` or `html`.
    #[schema(value_type = Option<crate::api::schemas::ParseMode>)]
    pub parse_mode: Option<ParseMode>,
    /// Id of the message in the same chat this one replies to.
    #[serde(default, deserialize_with = "crate::api::json::whole::option_i32")]
    pub reply_to: Option<i32>,
    /// Send without a notification sound (default false).
    pub silent: Option<bool>,
    /// Accepted for symmetry with text sends; media messages show no link preview.
    pub link_preview: Option<bool>,
    pub media: MediaRequest,
}

/// How the file parts are to be shown.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MediaRequest {
    /// `photo`, `document`, `video`, `audio` or `voice` (every file of an album alike).
    #[schema(value_type = String, example = "photo")]
    pub kind: MediaKind,
    /// At most 1024 UTF-16 code units after `parse_mode`; on the first message of an album.
    pub caption: Option<String>,
    /// The name shown for a document; default: the file part's file name.
    pub file_name: Option<String>,
    /// Default: the file part's `Content-Type`, else guessed from the name.
    pub mime_type: Option<String>,
    /// Shown blurred until tapped (default false).
    pub spoiler: Option<bool>,
    /// Send a photo, video or audio file as a plain document (default false).
    pub force_document: Option<bool>,
    /// JSON sends only (no file parts): mtgate fetches the file from this URL, streaming it to
    /// Telegram (schemes as `MTGATE_MEDIA_URL_SCHEMES` allows; redirects are not followed).
    #[schema(example = "http://reports.internal/q3.pdf")]
    pub url: Option<String>,
}

/// `multipart/form-data` body of `POST /v1/messages`: the `json` part first, then one or
/// more `file` parts (several, at most 10: an album). Files stream to Telegram as they arrive.
#[derive(ToSchema)]
#[allow(dead_code)] // documentation only: the parts are read as a stream, never into this
pub struct MediaSendForm {
    /// The send body as JSON (`MediaSendRequest`).
    #[schema(value_type = MediaSendRequest)]
    pub json: String,
    /// The file(s), each with a file name and ideally a `Content-Type`.
    #[schema(value_type = Vec<String>, format = Binary)]
    pub file: Vec<Vec<u8>>,
}
