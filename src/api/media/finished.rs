//! Uploads that finished, remembered by the `Idempotency-Key` of the request that made them,
//! so a retry whose first attempt uploaded everything but failed to send (flood wait, outage,
//! timeout) sends the same files without uploading them again. In memory only: Telegram keeps
//! uploaded parts for minutes to hours, so they would not outlive a long restart anyway.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::idempotency::IdempotencyKey;
use crate::telegram::ops::UploadedFile;

/// How long a finished upload is reused (well within Telegram's own keeping of parts).
pub const TTL: Duration = Duration::from_secs(30 * 60);

/// Finished uploads by (key, file index in the request).
#[derive(Default)]
pub struct FinishedUploads {
    files: Mutex<HashMap<(IdempotencyKey, usize), (Instant, UploadedFile)>>,
}

impl FinishedUploads {
    /// The file the request with `key` uploaded at `index`, if it is still fresh.
    pub fn get(&self, key: &IdempotencyKey, index: usize) -> Option<UploadedFile> {
        let files = self.lock();
        files
            .get(&(key.clone(), index))
            .filter(|(at, _)| at.elapsed() < TTL)
            .map(|(_, file)| file.clone())
    }

    /// Remembers a finished upload (and forgets stale ones).
    pub fn put(&self, key: &IdempotencyKey, index: usize, file: UploadedFile) {
        let mut files = self.lock();
        files.retain(|_, (at, _)| at.elapsed() < TTL);
        files.insert((key.clone(), index), (Instant::now(), file));
    }

    /// Forgets every upload of the request with `key`.
    pub fn forget(&self, key: &IdempotencyKey) {
        self.lock().retain(|(k, _), _| k != key);
    }

    /// How many uploads are remembered.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<(IdempotencyKey, usize), (Instant, UploadedFile)>> {
        // Every mutation is a single insert or retain: a poisoned map is still consistent.
        self.files.lock().unwrap_or_else(|e| e.into_inner())
    }
}
