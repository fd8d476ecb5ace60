//! The `InputMedia` of a send: for a file just uploaded (as its [`MediaSpec`] presents it),
//! and for a file Telegram stores (named by `messages.uploadMedia`'s answer). Pure.

use grammers_tl_types as tl;

use super::media_upload::UploadedFile;
use crate::domain::{MediaKind, MediaSpec};

/// The `InputMedia` of a freshly uploaded file, as `spec` presents it.
pub(super) fn uploaded_media(spec: &MediaSpec, file: &UploadedFile) -> tl::enums::InputMedia {
    use tl::enums::DocumentAttribute as A;
    if spec.kind == MediaKind::Photo && !spec.force_document {
        return tl::types::InputMediaUploadedPhoto {
            spoiler: spec.spoiler,
            live_photo: false,
            file: file.input(),
            stickers: None,
            ttl_seconds: None,
            video: None,
        }
        .into();
    }
    let mut attributes: Vec<A> = vec![
        tl::types::DocumentAttributeFilename {
            file_name: spec.file_name.clone(),
        }
        .into(),
    ];
    match spec.kind {
        MediaKind::Video => attributes.push(
            tl::types::DocumentAttributeVideo {
                round_message: false,
                supports_streaming: true,
                nosound: false,
                duration: 0.0,
                w: 0,
                h: 0,
                preload_prefix_size: None,
                video_start_ts: None,
                video_codec: None,
            }
            .into(),
        ),
        MediaKind::Audio | MediaKind::Voice => attributes.push(
            tl::types::DocumentAttributeAudio {
                voice: spec.kind == MediaKind::Voice,
                duration: 0,
                title: None,
                performer: None,
                waveform: None,
            }
            .into(),
        ),
        MediaKind::Photo | MediaKind::Document => {}
    }
    tl::types::InputMediaUploadedDocument {
        nosound_video: false,
        force_file: spec.force_document,
        spoiler: spec.spoiler,
        file: file.input(),
        thumb: None,
        mime_type: spec
            .mime_type
            .clone()
            .unwrap_or_else(|| guess_mime(&spec.file_name)),
        attributes,
        stickers: None,
        video_cover: None,
        video_timestamp: None,
        ttl_seconds: None,
    }
    .into()
}

/// The mime type a file name suggests (`application/octet-stream` when none does).
pub fn guess_mime(file_name: &str) -> String {
    mime_guess::from_path(file_name)
        .first_or_octet_stream()
        .essence_str()
        .to_owned()
}

/// `messages.uploadMedia`'s answer as the `InputMedia` an album names it by.
pub(super) fn stored_media(
    media: &tl::enums::MessageMedia,
    spoiler: bool,
) -> Option<tl::enums::InputMedia> {
    match media {
        tl::enums::MessageMedia::Photo(p) => {
            let tl::enums::Photo::Photo(photo) = p.photo.as_ref()? else {
                return None;
            };
            Some(
                tl::types::InputMediaPhoto {
                    spoiler,
                    live_photo: false,
                    id: tl::types::InputPhoto {
                        id: photo.id,
                        access_hash: photo.access_hash,
                        file_reference: photo.file_reference.clone(),
                    }
                    .into(),
                    ttl_seconds: None,
                    video: None,
                }
                .into(),
            )
        }
        tl::enums::MessageMedia::Document(d) => {
            let tl::enums::Document::Document(doc) = d.document.as_ref()? else {
                return None;
            };
            Some(
                tl::types::InputMediaDocument {
                    spoiler,
                    id: tl::types::InputDocument {
                        id: doc.id,
                        access_hash: doc.access_hash,
                        file_reference: doc.file_reference.clone(),
                    }
                    .into(),
                    video_cover: None,
                    video_timestamp: None,
                    ttl_seconds: None,
                    query: None,
                }
                .into(),
            )
        }
        _ => None,
    }
}
