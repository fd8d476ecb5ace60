//! Remembers answers by `Idempotency-Key` so a retried send never posts twice (stub: the
//! messages API work fills it in).

/// Answers already given, by idempotency key.
#[derive(Default)]
pub struct IdempotencyStore {}

impl IdempotencyStore {
    pub fn new() -> Self {
        Self::default()
    }
}
