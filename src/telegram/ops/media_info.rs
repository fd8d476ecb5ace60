//! Reading a message's raw media: what the API shows of it ([`media_info`]) and where a
//! download reads it from ([`media_source`]). Pure, so every shape is unit-tested.

use grammers_tl_types as tl;

use crate::domain::{MediaInfo, MediaKind, MediaSource};

/// What the API shows of a message's photo or document; `None` for other media (polls,
/// locations, web pages…) and for none.
pub fn media_info(media: Option<&tl::enums::MessageMedia>) -> Option<MediaInfo> {
    match media? {
        tl::enums::MessageMedia::Photo(p) => {
            let tl::enums::Photo::Photo(photo) = p.photo.as_ref()? else {
                return None;
            };
            let (_, w, h, size) = largest_size(photo)?;
            Some(MediaInfo {
                kind: MediaKind::Photo,
                size,
                mime_type: Some("image/jpeg".into()),
                file_name: None,
                width: Some(w),
                height: Some(h),
                sha256: None,
            })
        }
        tl::enums::MessageMedia::Document(d) => {
            let tl::enums::Document::Document(doc) = d.document.as_ref()? else {
                return None;
            };
            let mut info = MediaInfo {
                kind: MediaKind::Document,
                size: u64::try_from(doc.size).unwrap_or(0),
                mime_type: Some(doc.mime_type.clone()),
                file_name: None,
                width: None,
                height: None,
                sha256: None,
            };
            for attribute in &doc.attributes {
                use tl::enums::DocumentAttribute as A;
                match attribute {
                    A::Filename(f) => info.file_name = Some(f.file_name.clone()),
                    A::Video(v) => {
                        info.width = Some(v.w).filter(|w| *w > 0);
                        info.height = Some(v.h).filter(|h| *h > 0);
                    }
                    A::ImageSize(i) => {
                        info.width = Some(i.w);
                        info.height = Some(i.h);
                    }
                    _ => {}
                }
            }
            info.kind = if d.voice {
                MediaKind::Voice
            } else if d.video {
                MediaKind::Video
            } else if doc
                .attributes
                .iter()
                .any(|a| matches!(a, tl::enums::DocumentAttribute::Audio(_)))
            {
                MediaKind::Audio
            } else {
                MediaKind::Document
            };
            Some(info)
        }
        _ => None,
    }
}

/// The largest plain size of a photo: `(type, w, h, bytes)`. Progressive sizes count by their
/// largest step; stripped and cached thumbnails are skipped (they are not fetched by type).
fn largest_size(photo: &tl::types::Photo) -> Option<(String, i32, i32, u64)> {
    photo
        .sizes
        .iter()
        .filter_map(|size| match size {
            tl::enums::PhotoSize::Size(s) => Some((s.r#type.clone(), s.w, s.h, s.size)),
            tl::enums::PhotoSize::Progressive(s) => {
                Some((s.r#type.clone(), s.w, s.h, *s.sizes.iter().max()?))
            }
            _ => None,
        })
        .max_by_key(|(_, w, h, size)| (i64::from(*w) * i64::from(*h), *size))
        .map(|(t, w, h, size)| (t, w, h, u64::try_from(size).unwrap_or(0)))
}

/// Where to download a message's media from: the photo's largest size or the document.
pub fn media_source(
    media: Option<&tl::enums::MessageMedia>,
    message_id: i32,
) -> Option<MediaSource<tl::enums::InputFileLocation>> {
    match media? {
        tl::enums::MessageMedia::Photo(p) => {
            let tl::enums::Photo::Photo(photo) = p.photo.as_ref()? else {
                return None;
            };
            let (thumb_size, _, _, size) = largest_size(photo)?;
            Some(MediaSource {
                location: tl::types::InputPhotoFileLocation {
                    id: photo.id,
                    access_hash: photo.access_hash,
                    file_reference: photo.file_reference.clone(),
                    thumb_size,
                }
                .into(),
                size,
                mime_type: "image/jpeg".into(),
                file_name: format!("photo_{message_id}.jpg"),
            })
        }
        tl::enums::MessageMedia::Document(d) => {
            let tl::enums::Document::Document(doc) = d.document.as_ref()? else {
                return None;
            };
            let info = media_info(Some(media?))?;
            Some(MediaSource {
                location: tl::types::InputDocumentFileLocation {
                    id: doc.id,
                    access_hash: doc.access_hash,
                    file_reference: doc.file_reference.clone(),
                    thumb_size: String::new(),
                }
                .into(),
                size: info.size,
                mime_type: doc.mime_type.clone(),
                file_name: info
                    .file_name
                    .unwrap_or_else(|| format!("{}_{message_id}", info.kind)),
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests;
