//! Keeps a chat action ("typing…") showing for as long as the caller asked: Telegram shows
//! one for about five seconds, so it is sent again until the duration ends. One keeper per
//! chat: a new action for the chat (or `cancel`) replaces the one running there, so two
//! requests never stack up repeats.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::AbortHandle;
use tokio::time::Instant;

use crate::domain::{ChatAction, PeerSpec};
use crate::telegram::TelegramAccount;

/// How often a kept action is sent again: under Telegram's ~5 s display time.
pub const REPEAT_EVERY: Duration = Duration::from_secs(4);

/// The longest duration a caller may ask for.
pub const MAX_DURATION: Duration = Duration::from_secs(300);

/// The repeats running now, by chat.
#[derive(Default)]
pub struct TypingKeeper {
    running: Mutex<HashMap<PeerSpec, AbortHandle>>,
}

impl TypingKeeper {
    /// Stops whatever was kept in `chat`, then, when `until` is later than one repeat from
    /// now, keeps `action` showing there until then. The first send is the caller's.
    pub fn keep(
        &self,
        telegram: &Arc<TelegramAccount>,
        chat: &PeerSpec,
        action: ChatAction,
        until: Option<Instant>,
    ) {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(previous) = running.remove(chat) {
            previous.abort();
        }
        let Some(until) = until else { return };
        if action == ChatAction::Cancel || until <= Instant::now() + REPEAT_EVERY {
            return;
        }
        let telegram = telegram.clone();
        let target = chat.clone();
        let task = tokio::spawn(async move {
            while Instant::now() + REPEAT_EVERY < until {
                tokio::time::sleep(REPEAT_EVERY).await;
                if let Err(error) = telegram.send_action(&target, action).await {
                    tracing::warn!(error = %error, "stopped repeating a chat action");
                    break;
                }
            }
        });
        running.insert(chat.clone(), task.abort_handle());
    }
}

impl Drop for TypingKeeper {
    fn drop(&mut self) {
        let running = self.running.get_mut().unwrap_or_else(|e| e.into_inner());
        for (_, task) in running.drain() {
            task.abort();
        }
    }
}
