//! The files an outbox job carries. They are uploaded and registered with Telegram when the
//! job is enqueued, so the job stores only how Telegram names them (an opaque reference,
//! made and read by `telegram` alone) next to plain facts the API shows.

use serde::{Deserialize, Serialize};

use super::media::MediaKind;

/// The media of one job: one file, or an album (2 to 10, every file of one kind).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobMedia {
    pub kind: MediaKind,
    pub spoiler: bool,
    pub force_document: bool,
    pub files: Vec<JobFile>,
}

/// One file of a job, as registered with Telegram.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobFile {
    pub size: u64,
    /// SHA-256 (hex) of the bytes uploaded.
    pub sha256: String,
    pub file_name: String,
    pub mime_type: Option<String>,
    pub reference: MediaRef,
}

/// How Telegram names a stored file (opaque here). Telegram may refuse an old one
/// (`FILE_REFERENCE_EXPIRED`); the job then fails rather than send something else.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MediaRef(String);

impl MediaRef {
    pub fn new(raw: String) -> Self {
        Self(raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl JobMedia {
    /// Bytes of every file together.
    pub fn size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    pub fn references(&self) -> Vec<MediaRef> {
        self.files.iter().map(|f| f.reference.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn media() -> JobMedia {
        JobMedia {
            kind: MediaKind::Photo,
            spoiler: true,
            force_document: false,
            files: vec![JobFile {
                size: 10,
                sha256: "ab".repeat(32),
                file_name: "a.png".into(),
                mime_type: Some("image/png".into()),
                reference: MediaRef::new("cmVm".into()),
            }],
        }
    }

    #[test]
    fn media_round_trips_through_json_with_the_reference_as_a_plain_string() {
        let json = serde_json::to_value(media()).unwrap();
        assert_eq!(json["kind"], "photo");
        assert_eq!(json["files"][0]["reference"], "cmVm");
        let back: JobMedia = serde_json::from_value(json).unwrap();
        assert_eq!(back, media());
    }

    #[test]
    fn size_adds_up_every_file() {
        let mut album = media();
        album.files.push(album.files[0].clone());
        assert_eq!(album.size(), 20);
        assert_eq!(album.references().len(), 2);
    }
}
