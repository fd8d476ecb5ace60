//! Media as mtgate knows it: what a send attaches ([`MediaSpec`]), what a message carries
//! ([`MediaInfo`]) and where a download reads from ([`MediaSource`]). No Telegram types here.

use std::fmt;

/// How a file is shown, as the API names kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    Photo,
    Document,
    Video,
    Audio,
    Voice,
}

impl MediaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Photo => "photo",
            MediaKind::Document => "document",
            MediaKind::Video => "video",
            MediaKind::Audio => "audio",
            MediaKind::Voice => "voice",
        }
    }
}

impl fmt::Display for MediaKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How one file of a send is to be presented.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaSpec {
    pub kind: MediaKind,
    /// The name Telegram shows (documents) and files the upload under.
    pub file_name: String,
    /// For documents; Telegram guesses when absent.
    pub mime_type: Option<String>,
    /// Blurred until tapped.
    pub spoiler: bool,
    /// Send a photo, video or audio file as a plain document.
    pub force_document: bool,
}

/// What a message's attached file is, as far as it is known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaInfo {
    pub kind: MediaKind,
    /// Bytes (of the largest size, for a photo).
    pub size: u64,
    pub mime_type: Option<String>,
    pub file_name: Option<String>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    /// SHA-256 (hex) of the bytes, known only for files mtgate itself uploaded.
    pub sha256: Option<String>,
}

/// A downloadable file as a download needs it: where it is (opaque to the domain), its
/// size, type and name.
#[derive(Clone, Debug)]
pub struct MediaSource<L> {
    pub location: L,
    pub size: u64,
    pub mime_type: String,
    pub file_name: String,
}
