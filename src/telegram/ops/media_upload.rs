//! Streaming a file to Telegram as its bytes arrive: 512 KiB parts (`upload.saveFilePart`,
//! or `upload.saveBigFilePart` when the file may be over 10 MiB), a few in flight at once, so
//! at most a handful of parts are ever in memory whatever the file's size.
//!
//! The size of a streamed file is not known until it ends, and `saveBigFilePart` must name
//! the total part count: Telegram lets a streamed upload say -1 until the last part. Whether a
//! file *may* be big is decided up front from an upper bound (the request's Content-Length);
//! a small file sent the big way is still valid.

use grammers_tl_types as tl;
use sha2::{Digest, Sha256};
use tokio::task::JoinSet;

use super::TelegramAccount;
use crate::telegram::TelegramError;

/// Telegram's largest (and recommended) part size.
pub const PART_SIZE: usize = 512 * 1024;
/// Files above this size must go through `saveBigFilePart`.
pub const BIG_FILE_THRESHOLD: u64 = 10 * 1024 * 1024;
/// Parts sent at once: enough to keep the link busy, few enough to bound memory.
const PARTS_IN_FLIGHT: usize = 3;
/// Telegram's part-count limit for non-premium accounts.
const MAX_PARTS: i32 = 4000;

/// Why an upload stopped.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("the file is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("the file is empty")]
    Empty,
    #[error(transparent)]
    Telegram(#[from] TelegramError),
}

/// A file Telegram now holds in parts, ready to be attached to a send (for a few hours).
#[derive(Clone, Debug)]
pub struct UploadedFile {
    input: tl::enums::InputFile,
    pub size: u64,
    /// SHA-256 (hex) of the bytes, computed while streaming.
    pub sha256: String,
}

impl UploadedFile {
    pub(super) fn input(&self) -> tl::enums::InputFile {
        self.input.clone()
    }
}

/// One file being streamed to Telegram.
pub struct FileUpload<'a> {
    account: &'a TelegramAccount,
    file_id: i64,
    big: bool,
    name: String,
    max_bytes: u64,
    next_part: i32,
    buffer: Vec<u8>,
    size: u64,
    md5: md5::Context,
    sha256: Sha256,
    /// Parts on their way, each its own task so they travel while the next bytes are read
    /// (aborted if the upload is dropped half-way).
    in_flight: JoinSet<Result<(), TelegramError>>,
}

impl TelegramAccount {
    /// Starts streaming a file named `name` of at most `max_bytes`; `may_be_big` when the
    /// file could exceed 10 MiB (its size is unknown until it ends).
    pub fn start_upload(&self, name: &str, max_bytes: u64, may_be_big: bool) -> FileUpload<'_> {
        FileUpload {
            account: self,
            file_id: rand::random(),
            big: may_be_big,
            name: name.to_owned(),
            max_bytes,
            next_part: 0,
            buffer: Vec::with_capacity(PART_SIZE),
            size: 0,
            md5: md5::Context::new(),
            sha256: Sha256::new(),
            in_flight: JoinSet::new(),
        }
    }
}

impl<'a> FileUpload<'a> {
    /// Bytes so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Takes the next bytes of the file; sends every part that is complete (waiting when
    /// [`PARTS_IN_FLIGHT`] are already on their way).
    pub async fn push(&mut self, mut chunk: &[u8]) -> Result<(), UploadError> {
        self.size += chunk.len() as u64;
        if self.size > self.max_bytes {
            return Err(UploadError::TooLarge {
                limit: self.max_bytes,
            });
        }
        self.md5.consume(chunk);
        self.sha256.update(chunk);
        while !chunk.is_empty() {
            // A full part is sent only once more bytes follow: the last part must say so.
            if self.buffer.len() == PART_SIZE {
                self.send_part(false).await?;
            }
            let take = (PART_SIZE - self.buffer.len()).min(chunk.len());
            self.buffer.extend_from_slice(&chunk[..take]);
            chunk = &chunk[take..];
        }
        Ok(())
    }

    /// Sends the last part, waits for every part, and names the file for a send.
    pub async fn finish(mut self) -> Result<UploadedFile, UploadError> {
        if self.size == 0 {
            return Err(UploadError::Empty);
        }
        self.send_part(true).await?;
        while let Some(done) = self.in_flight.join_next().await {
            part_result(done)?;
        }
        let parts = self.next_part;
        let input = if self.big {
            tl::types::InputFileBig {
                id: self.file_id,
                parts,
                name: self.name,
            }
            .into()
        } else {
            tl::types::InputFile {
                id: self.file_id,
                parts,
                name: self.name,
                md5_checksum: format!("{:x}", self.md5.finalize()),
            }
            .into()
        };
        let sha256 = self
            .sha256
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(UploadedFile {
            input,
            size: self.size,
            sha256,
        })
    }

    async fn send_part(&mut self, last: bool) -> Result<(), UploadError> {
        let part = self.next_part;
        if part >= MAX_PARTS {
            return Err(UploadError::TooLarge {
                limit: self.max_bytes,
            });
        }
        self.next_part += 1;
        while self.in_flight.len() >= PARTS_IN_FLIGHT {
            if let Some(done) = self.in_flight.join_next().await {
                part_result(done)?;
            }
        }
        let bytes = std::mem::replace(&mut self.buffer, Vec::with_capacity(PART_SIZE));
        let manager = self.account.manager().clone();
        if self.big {
            let request = tl::functions::upload::SaveBigFilePart {
                file_id: self.file_id,
                file_part: part,
                file_total_parts: if last { part + 1 } else { -1 },
                bytes,
            };
            self.in_flight
                .spawn(async move { stored(manager.invoke(request).await?) });
        } else {
            let request = tl::functions::upload::SaveFilePart {
                file_id: self.file_id,
                file_part: part,
                bytes,
            };
            self.in_flight
                .spawn(async move { stored(manager.invoke(request).await?) });
        }
        Ok(())
    }
}

fn part_result(
    done: Result<Result<(), TelegramError>, tokio::task::JoinError>,
) -> Result<(), TelegramError> {
    done.map_err(|e| TelegramError::Other(format!("a file part's task failed: {e}")))?
}

/// Telegram answers `false` when it could not keep a part.
fn stored(ok: bool) -> Result<(), TelegramError> {
    if ok {
        Ok(())
    } else {
        Err(TelegramError::Other(
            "Telegram did not store a file part".into(),
        ))
    }
}
