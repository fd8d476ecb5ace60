//! What a file's first bytes say: an image's dimensions (Telegram refuses photos it cannot
//! read) and the `storage.FileType` a download names.

use grammers_tl_types as tl;

/// Width and height from a PNG, GIF or JPEG header; `None` when the bytes are none of these
/// (Telegram then refuses them as a photo).
pub fn image_dimensions(bytes: &[u8]) -> Option<(i32, i32)> {
    let be32 = |at: usize| -> Option<i32> {
        let raw: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
        i32::try_from(u32::from_be_bytes(raw)).ok()
    };
    let be16 = |at: usize| -> Option<i32> {
        let raw: [u8; 2] = bytes.get(at..at + 2)?.try_into().ok()?;
        Some(i32::from(u16::from_be_bytes(raw)))
    };
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.get(12..16) == Some(b"IHDR") {
        return Some((be32(16)?, be32(20)?)).filter(|(w, h)| *w > 0 && *h > 0);
    }
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        let le16 = |at: usize| {
            Some(i32::from(u16::from_le_bytes(
                bytes.get(at..at + 2)?.try_into().ok()?,
            )))
        };
        return Some((le16(6)?, le16(8)?)).filter(|(w, h)| *w > 0 && *h > 0);
    }
    if bytes.starts_with(&[0xFF, 0xD8]) {
        // Walk the segments to the first start-of-frame marker.
        let mut at = 2;
        while at + 9 < bytes.len() {
            if bytes[at] != 0xFF {
                return None;
            }
            let marker = bytes[at + 1];
            let length = usize::try_from(be16(at + 2)?).ok()?;
            let is_sof = (0xC0..=0xCF).contains(&marker) && ![0xC4, 0xC8, 0xCC].contains(&marker);
            if is_sof {
                return Some((be16(at + 7)?, be16(at + 5)?)).filter(|(w, h)| *w > 0 && *h > 0);
            }
            at += 2 + length;
        }
    }
    None
}

/// `storage.FileType` for a download answer, from the content's magic bytes.
pub fn storage_type(bytes: &[u8]) -> tl::enums::storage::FileType {
    use tl::enums::storage::FileType as T;
    if bytes.starts_with(&[0xFF, 0xD8]) {
        T::FileJpeg
    } else if bytes.starts_with(b"\x89PNG") {
        T::FilePng
    } else if bytes.starts_with(b"GIF8") {
        T::FileGif
    } else if bytes.starts_with(b"%PDF") {
        T::FilePdf
    } else {
        T::FileUnknown
    }
}
