//! Files as Telegram keeps them: parts saved by `upload.saveFilePart` /
//! `upload.saveBigFilePart` until a send or `messages.uploadMedia` assembles them, the
//! assembled bytes (one copy per distinct content, shared by every message that shows it) and
//! the photo or document records messages carry. Telegram's rules, checked here:
//!
//! - a part is 1 byte to 512 KiB; all parts but the last have the same size, a multiple of
//!   1 KiB that divides 512 KiB; the last may be smaller;
//! - part numbers are 0..4000 (`upload_max_fileparts_default`), so at most ~2000 MiB;
//! - `saveBigFilePart` names the total part count, or -1 while a streamed upload does not
//!   know it yet (then the last part, or `inputFileBig.parts`, settles it);
//! - small files (`inputFile`, `saveFilePart`) are at most 10 MiB (the sandbox's reading of
//!   "use saveBigFilePart above 10 MB"); a non-empty `md5_checksum` must match;
//! - `upload.getFile` windows: without `precise`, `offset` and `limit` are multiples of
//!   4 KiB, 1 MiB is a multiple of `limit` and the window stays inside one 1 MiB block; with
//!   `precise`, multiples of 1 KiB and `limit` at most 1 MiB.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use grammers_tl_types as tl;
use sha2::{Digest, Sha256};

use super::error::RpcErr;

mod image;
pub use image::{image_dimensions, storage_type};

/// Largest part Telegram accepts.
pub const MAX_PART: usize = 512 * 1024;
/// Part numbers are below this (so 4000 × 512 KiB ≈ 2000 MiB at most).
pub const MAX_PARTS: i32 = 4000;
/// Largest file `upload.saveFilePart` may build.
pub const MAX_SMALL_FILE: usize = 10 * 1024 * 1024;
/// Largest photo Telegram takes as a photo (bigger ones must go as documents).
pub const MAX_PHOTO: usize = 10 * 1024 * 1024;
const MIB: i64 = 1024 * 1024;

/// A file's bytes and their SHA-256 (hex), held once however many messages show it.
#[derive(Debug)]
pub struct Blob {
    pub bytes: Vec<u8>,
    pub sha256: String,
}

impl Blob {
    pub fn new(bytes: Vec<u8>) -> Self {
        let sha256 = hex(&Sha256::digest(&bytes));
        Blob { bytes, sha256 }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a message's media is, as the HTTP API names kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaKind {
    Photo,
    Document,
    Video,
    Audio,
    Voice,
}

impl MediaKind {
    pub fn name(self) -> &'static str {
        match self {
            MediaKind::Photo => "photo",
            MediaKind::Document => "document",
            MediaKind::Video => "video",
            MediaKind::Audio => "audio",
            MediaKind::Voice => "voice",
        }
    }
}

/// A photo or document as stored: its TL identity, what it is, and its bytes.
#[derive(Clone, Debug)]
pub struct Media {
    pub id: i64,
    pub access_hash: i64,
    pub date: i32,
    pub kind: MediaKind,
    pub blob: Arc<Blob>,
    /// Documents only (photos are `image/jpeg`-like and nameless on Telegram).
    pub mime_type: Option<String>,
    pub file_name: Option<String>,
    /// Pixel size of a photo (read from its header) or a video (as the sender said).
    pub dimensions: Option<(i32, i32)>,
    /// Seconds, for video, audio and voice.
    pub duration: Option<f64>,
    /// Shown blurred until tapped.
    pub spoiler: bool,
    /// The document attributes the sender gave (returned as sent).
    pub attributes: Vec<tl::enums::DocumentAttribute>,
}

impl Media {
    /// The photo size type (`m`, `x`, `y`, `w`) its one stored size is filed under.
    pub fn photo_size_type(&self) -> &'static str {
        let longest = self.dimensions.map_or(0, |(w, h)| w.max(h));
        match longest {
            0..=320 => "m",
            321..=800 => "x",
            801..=1280 => "y",
            _ => "w",
        }
    }
}

/// One file being uploaded: its parts so far.
#[derive(Default)]
struct Partial {
    /// `file_total_parts` as last declared (big files; -1 = not known yet).
    declared_total: Option<i32>,
    parts: BTreeMap<i32, Vec<u8>>,
}

/// Files being uploaded, by (auth key, big?, file id): Telegram scopes ids to the uploader.
#[derive(Default)]
pub struct Uploads {
    files: HashMap<(i64, bool, i64), Partial>,
}

impl Uploads {
    /// `upload.saveFilePart` (`total` = `None`) or `upload.saveBigFilePart`.
    pub fn save_part(
        &mut self,
        key_id: i64,
        file_id: i64,
        part: i32,
        total: Option<i32>,
        bytes: Vec<u8>,
    ) -> Result<(), RpcErr> {
        if bytes.is_empty() {
            return Err(RpcErr::bad("FILE_PART_EMPTY"));
        }
        if bytes.len() > MAX_PART {
            return Err(RpcErr::bad("FILE_PART_TOO_BIG"));
        }
        if !(0..MAX_PARTS).contains(&part) {
            return Err(RpcErr::bad("FILE_PART_INVALID"));
        }
        if let Some(total) = total {
            if total == 0 || !(-1..=MAX_PARTS).contains(&total) {
                return Err(RpcErr::bad("FILE_PARTS_INVALID"));
            }
            if total > 0 && part >= total {
                return Err(RpcErr::bad("FILE_PART_INVALID"));
            }
        }
        let file = self
            .files
            .entry((key_id, total.is_some(), file_id))
            .or_default();
        if let (Some(new), Some(old)) = (total.filter(|t| *t > 0), file.declared_total)
            && old > 0
            && old != new
        {
            return Err(RpcErr::bad("FILE_PARTS_INVALID"));
        }
        if let Some(total) = total
            && (total > 0 || file.declared_total.is_none())
        {
            file.declared_total = Some(total);
        }
        // A part re-sent (a retry) simply replaces the earlier copy.
        file.parts.insert(part, bytes);
        Ok(())
    }

    /// Assembles the file `input` names from the caller's parts (and forgets them), checking
    /// part count, sizes and checksum. Returns the bytes and the file name.
    pub fn take(
        &mut self,
        key_id: i64,
        input: &tl::enums::InputFile,
    ) -> Result<(Vec<u8>, String), RpcErr> {
        let (big, id, parts, name, md5) = match input {
            tl::enums::InputFile::File(f) => (false, f.id, f.parts, &f.name, Some(&f.md5_checksum)),
            tl::enums::InputFile::Big(f) => (true, f.id, f.parts, &f.name, None),
            _ => return Err(RpcErr::bad("FILE_ID_INVALID")),
        };
        if !(1..=MAX_PARTS).contains(&parts) {
            return Err(RpcErr::bad("FILE_PARTS_INVALID"));
        }
        let Some(file) = self.files.get(&(key_id, big, id)) else {
            return Err(RpcErr::bad("FILE_PART_0_MISSING"));
        };
        if big && file.declared_total.is_some_and(|t| t > 0 && t != parts) {
            return Err(RpcErr::bad("FILE_PARTS_INVALID"));
        }
        if let Some(missing) = (0..parts).find(|n| !file.parts.contains_key(n)) {
            return Err(RpcErr::bad(&format!("FILE_PART_{missing}_MISSING")));
        }
        if file.parts.keys().any(|&n| n >= parts) {
            return Err(RpcErr::bad("FILE_PARTS_INVALID"));
        }
        check_part_sizes(file.parts.values().map(Vec::len))?;
        let total: usize = file.parts.values().map(Vec::len).sum();
        if !big && total > MAX_SMALL_FILE {
            return Err(RpcErr::bad("FILE_PARTS_INVALID"));
        }
        if let Some(md5) = md5.filter(|m| !m.is_empty()) {
            let mut context = md5::Context::new();
            for part in file.parts.values() {
                context.consume(part);
            }
            if !md5.eq_ignore_ascii_case(&format!("{:x}", context.finalize())) {
                return Err(RpcErr::bad("MD5_CHECKSUM_INVALID"));
            }
        }
        let file = self
            .files
            .remove(&(key_id, big, id))
            .expect("checked above");
        // Each part is freed as soon as it is copied: never two whole copies at once.
        let mut bytes = Vec::with_capacity(total);
        for (_, part) in file.parts {
            bytes.extend_from_slice(&part);
        }
        Ok((bytes, name.clone()))
    }
}

/// Every part but the last has the same, valid size; the last is no bigger.
fn check_part_sizes(sizes: impl ExactSizeIterator<Item = usize>) -> Result<(), RpcErr> {
    let count = sizes.len();
    let mut part_size = None;
    for (i, size) in sizes.enumerate() {
        let last = i + 1 == count;
        match part_size {
            None if !last => {
                if !size.is_multiple_of(1024) || !MAX_PART.is_multiple_of(size) {
                    return Err(RpcErr::bad("FILE_PART_SIZE_INVALID"));
                }
                part_size = Some(size);
            }
            None => {}
            Some(expected) if size > expected || (!last && size != expected) => {
                return Err(RpcErr::bad("FILE_PART_SIZE_CHANGED"));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Checks an `upload.getFile` window against Telegram's alignment rules.
pub fn check_window(offset: i64, limit: i32, precise: bool) -> Result<(), RpcErr> {
    let limit = i64::from(limit);
    let align = if precise { 1024 } else { 4096 };
    if offset < 0 || offset % align != 0 {
        return Err(RpcErr::bad("OFFSET_INVALID"));
    }
    if limit <= 0 || limit % align != 0 || limit > MIB {
        return Err(RpcErr::bad("LIMIT_INVALID"));
    }
    if !precise && (MIB % limit != 0 || offset / MIB != (offset + limit - 1) / MIB) {
        return Err(RpcErr::bad("LIMIT_INVALID"));
    }
    Ok(())
}

/// The window of `bytes` a valid `getFile` asks for (empty past the end, as Telegram does).
pub fn window(bytes: &[u8], offset: i64, limit: i32) -> &[u8] {
    let start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(bytes.len());
    let end = start
        .saturating_add(usize::try_from(limit).unwrap_or(0))
        .min(bytes.len());
    &bytes[start..end]
}

#[cfg(test)]
mod tests;
