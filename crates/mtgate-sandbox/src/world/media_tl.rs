//! Stored media as TL objects (`messageMediaPhoto` / `messageMediaDocument`), every field
//! spelled out once here.

use grammers_tl_types as tl;

use super::handlers::SANDBOX_DC;
use super::media::{Media, MediaKind};

/// What a message (or `messages.uploadMedia`) shows of `media`.
pub fn message_media(media: &Media) -> tl::enums::MessageMedia {
    match media.kind {
        MediaKind::Photo => tl::types::MessageMediaPhoto {
            spoiler: media.spoiler,
            live_photo: false,
            photo: Some(photo(media)),
            ttl_seconds: None,
            video: None,
        }
        .into(),
        kind => tl::types::MessageMediaDocument {
            nopremium: false,
            spoiler: media.spoiler,
            video: kind == MediaKind::Video,
            round: false,
            voice: kind == MediaKind::Voice,
            document: Some(document(media)),
            alt_documents: None,
            video_cover: None,
            video_timestamp: None,
            ttl_seconds: None,
        }
        .into(),
    }
}

/// A file reference: opaque to clients, constant here (references never expire).
fn file_reference(media: &Media) -> Vec<u8> {
    media.id.to_le_bytes().to_vec()
}

fn size(media: &Media) -> i64 {
    i64::try_from(media.blob.bytes.len()).unwrap_or(i64::MAX)
}

fn photo(media: &Media) -> tl::enums::Photo {
    let (w, h) = media.dimensions.unwrap_or((0, 0));
    tl::types::Photo {
        has_stickers: false,
        id: media.id,
        access_hash: media.access_hash,
        file_reference: file_reference(media),
        date: media.date,
        // One size: the bytes as sent (Telegram would recompress and add thumbnails).
        sizes: vec![
            tl::types::PhotoSize {
                r#type: media.photo_size_type().to_string(),
                w,
                h,
                size: i32::try_from(size(media)).unwrap_or(i32::MAX),
            }
            .into(),
        ],
        video_sizes: None,
        dc_id: SANDBOX_DC,
    }
    .into()
}

fn document(media: &Media) -> tl::enums::Document {
    tl::types::Document {
        id: media.id,
        access_hash: media.access_hash,
        file_reference: file_reference(media),
        date: media.date,
        mime_type: media
            .mime_type
            .clone()
            .unwrap_or_else(|| "application/octet-stream".into()),
        size: size(media),
        thumbs: None,
        video_thumbs: None,
        dc_id: SANDBOX_DC,
        attributes: media.attributes.clone(),
    }
    .into()
}
