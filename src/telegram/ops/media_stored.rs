//! Files the outbox keeps for later: registered once with `messages.uploadMedia` for the
//! account itself (`inputPeerSelf`), which makes Telegram store them as a photo or document
//! any chat can be sent — so a broadcast uploads a file once, and a job survives restarts.
//! The `InputMedia` naming the stored file is kept as an opaque [`MediaRef`] (base64 of its
//! TL bytes): made and read here only.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use grammers_tl_types::{self as tl, Deserializable, Serializable};

use super::TelegramAccount;
use super::media_upload::UploadedFile;
use crate::domain::{MediaRef, MediaSpec, MessageView, PeerSpec, SendOptions};
use crate::telegram::TelegramError;
use crate::telegram::invoke::Waits;
use crate::telegram::text::FormattedText;

impl TelegramAccount {
    /// Registers uploaded files for later sends to any chat; one reference per file.
    pub async fn register_media(
        &self,
        files: &[(MediaSpec, UploadedFile)],
    ) -> Result<Vec<MediaRef>, TelegramError> {
        let mut references = Vec::with_capacity(files.len());
        for (spec, file) in files {
            let media = self
                .register(None, tl::enums::InputPeer::PeerSelf, spec, file)
                .await?;
            references.push(encode(&media));
        }
        Ok(references)
    }

    /// Sends registered files to `spec`'s chat for the outbox: one message or an album
    /// (`random_id`, `random_id + 1`, …), every flood wait handed back at once.
    pub async fn send_queued_media(
        &self,
        spec: &PeerSpec,
        caption: &FormattedText,
        options: SendOptions,
        references: &[MediaRef],
        random_id: i64,
    ) -> Result<Vec<MessageView>, TelegramError> {
        let media = references
            .iter()
            .map(decode)
            .collect::<Result<Vec<_>, _>>()?;
        let peer = self.resolve(spec).await?;
        self.post_media(&peer, caption, options, media, random_id, Waits::Return)
            .await
    }
}

fn encode(media: &tl::enums::InputMedia) -> MediaRef {
    MediaRef::new(STANDARD.encode(media.to_bytes()))
}

fn decode(reference: &MediaRef) -> Result<tl::enums::InputMedia, TelegramError> {
    let unreadable =
        |why: String| TelegramError::Other(format!("a stored file reference is unreadable: {why}"));
    let bytes = STANDARD
        .decode(reference.as_str())
        .map_err(|e| unreadable(e.to_string()))?;
    tl::enums::InputMedia::from_bytes(&bytes).map_err(|e| unreadable(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_reads_back_as_the_media_it_was_made_from() {
        let media: tl::enums::InputMedia = tl::types::InputMediaDocument {
            spoiler: true,
            id: tl::types::InputDocument {
                id: 42,
                access_hash: -7,
                file_reference: vec![1, 2, 3],
            }
            .into(),
            video_cover: None,
            video_timestamp: None,
            ttl_seconds: None,
            query: None,
        }
        .into();
        let reference = encode(&media);
        assert_eq!(decode(&reference).unwrap().to_bytes(), media.to_bytes());
    }

    #[test]
    fn a_damaged_reference_is_an_error_not_a_panic() {
        for raw in ["not base64!", "AAAA", ""] {
            assert!(decode(&MediaRef::new(raw.into())).is_err(), "{raw:?}");
        }
    }
}
