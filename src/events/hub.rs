//! Live fan-out: one `watch` per account holding the log's newest id. Appending sets it;
//! subscribers wake, read the log from their cursor, and sleep again. No queue per
//! subscriber, so none can overflow, and no polling of the database.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::watch;

#[derive(Default)]
pub struct Hub {
    accounts: Mutex<HashMap<String, watch::Sender<i64>>>,
}

impl Hub {
    fn sender(&self, account: &str) -> watch::Sender<i64> {
        let mut accounts = self.accounts.lock().unwrap_or_else(|p| p.into_inner());
        accounts
            .entry(account.to_string())
            .or_insert_with(|| watch::channel(0).0)
            .clone()
    }

    pub fn subscribe(&self, account: &str) -> watch::Receiver<i64> {
        self.sender(account).subscribe()
    }

    pub fn notify(&self, account: &str, last_id: i64) {
        self.sender(account).send_if_modified(|known| {
            let grew = last_id > *known;
            if grew {
                *known = last_id;
            }
            grew
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_subscriber_wakes_when_its_accounts_log_grows_and_not_for_another() {
        let hub = Hub::default();
        let mut mine = hub.subscribe("a");
        let theirs = hub.subscribe("b");
        hub.notify("a", 3);
        mine.changed().await.unwrap();
        assert_eq!(*mine.borrow_and_update(), 3);
        assert!(!theirs.has_changed().unwrap());
        hub.notify("a", 2);
        assert!(!mine.has_changed().unwrap(), "ids only move forward");
    }
}
