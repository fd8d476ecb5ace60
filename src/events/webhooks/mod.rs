//! Webhooks: subscriptions (from the API and from `MTGATE_WEBHOOKS_FILE`), each delivered by
//! its own task ([`deliver`]) with Standard Webhooks signatures ([`signature`]), retries, a
//! circuit breaker ([`breaker`]) and dead letters with redelivery.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::Events;
use crate::cluster::Cluster;
use crate::config::WebhookPolicy;
use crate::config::webhooks_file::WebhookConfig;
use crate::store::{FailureRecord, StoreError, WebhookRecord};

pub mod breaker;
mod deliver;
pub mod signature;
pub mod target;

pub use breaker::BreakerState;
pub use deliver::Status;

/// A subscription with how its delivery is going.
#[derive(Clone, Debug)]
pub struct WebhookView {
    pub record: WebhookRecord,
    pub status: Status,
    /// The last event it is done with.
    pub cursor: i64,
    pub failures: usize,
}

/// What a new subscription asks for (already validated).
#[derive(Clone, Debug)]
pub struct NewWebhook {
    pub account: String,
    pub url: String,
    pub secret: Option<String>,
    pub events: Vec<String>,
    pub chats: Vec<i64>,
}

struct Running {
    task: JoinHandle<()>,
    redeliver: mpsc::UnboundedSender<Vec<i64>>,
    status: Arc<Mutex<Status>>,
    counts: Arc<deliver::Counts>,
}

/// Every webhook's delivery task.
pub struct Webhooks {
    events: Arc<Events>,
    http: reqwest::Client,
    policy: WebhookPolicy,
    running: Mutex<HashMap<String, Running>>,
    /// With replicas: only the holder of a webhook's account delivers it.
    cluster: Option<Arc<Cluster>>,
}

impl Webhooks {
    /// Stores the configured webhooks (`source = config`, replacing earlier versions and
    /// dropping configured ones no longer listed) and starts every stored webhook, each
    /// posting with `http` (see [`crate::outgoing`]).
    pub async fn start(
        events: Arc<Events>,
        http: reqwest::Client,
        policy: WebhookPolicy,
        configured: Vec<WebhookConfig>,
        cluster: Option<Arc<Cluster>>,
    ) -> Result<Arc<Self>, StoreError> {
        let store = events.store().clone();
        let configured: Vec<WebhookRecord> = configured
            .into_iter()
            .map(|c| WebhookRecord {
                id: format!("cfg_{}", c.name),
                account: c.account,
                url: c.url,
                secret: c.secret,
                events: c.events,
                chats: c.chats,
                source: "config".into(),
                created_at: crate::store::now(),
            })
            .collect();
        for old in store.webhooks().await? {
            let listed = configured.iter().any(|c| c.id == old.id);
            if old.source == "config" && !listed {
                store.delete_webhook(&old.id).await?;
            }
        }
        for hook in &configured {
            let (_, last) = store.event_bounds(&hook.account).await?;
            store.put_webhook(hook, last).await?;
        }
        let webhooks = Arc::new(Self {
            events,
            http,
            policy,
            running: Mutex::new(HashMap::new()),
            cluster,
        });
        for hook in store.webhooks().await? {
            webhooks.spawn(hook);
        }
        if let Some(cluster) = &webhooks.cluster {
            for account in cluster.accounts() {
                if let Some(gate) = cluster.gate(&account) {
                    tokio::spawn(adopt_on_takeover(Arc::downgrade(&webhooks), account, gate));
                }
            }
        }
        Ok(webhooks)
    }

    /// Starts the stored webhooks of `account` not running here yet (created through
    /// another replica while it held the account).
    async fn adopt(&self, account: &str) -> Result<(), StoreError> {
        for hook in self.events.store().webhooks().await? {
            if hook.account == account && !self.running().contains_key(&hook.id) {
                self.spawn(hook);
            }
        }
        Ok(())
    }

    fn running(&self) -> std::sync::MutexGuard<'_, HashMap<String, Running>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn spawn(&self, hook: WebhookRecord) {
        let status = Arc::new(Mutex::new(Status {
            breaker: BreakerState::Closed,
            last_error: None,
        }));
        let (redeliver, requests) = mpsc::unbounded_channel();
        let counts = Arc::new(deliver::Counts::default());
        let id = hook.id.clone();
        let hook_account = hook.account.clone();
        let deliverer = deliver::Deliverer {
            events: self.events.clone(),
            http: self.http.clone(),
            policy: self.policy.clone(),
            hook,
            status: status.clone(),
            counts: counts.clone(),
            gate: self.cluster.as_ref().and_then(|c| c.gate(&hook_account)),
        };
        let task = tokio::spawn(deliverer.run(requests));
        if let Some(old) = self.running().insert(
            id,
            Running {
                task,
                redeliver,
                status,
                counts,
            },
        ) {
            old.task.abort();
        }
    }

    /// Stores a new subscription (it gets what happens from now on) and starts it.
    pub async fn create(&self, new: NewWebhook) -> Result<WebhookRecord, StoreError> {
        let store = self.events.store();
        let record = WebhookRecord {
            id: format!("wh_{:016x}", rand::random::<u64>()),
            account: new.account,
            url: new.url,
            secret: new.secret.unwrap_or_else(signature::generate_secret),
            events: new.events,
            chats: new.chats,
            source: "api".into(),
            created_at: crate::store::now(),
        };
        let (_, last) = store.event_bounds(&record.account).await?;
        store.put_webhook(&record, last).await?;
        self.spawn(record.clone());
        Ok(record)
    }

    /// The subscriptions of `account`.
    pub async fn list(&self, account: &str) -> Result<Vec<WebhookView>, StoreError> {
        let store = self.events.store();
        let mut views = Vec::new();
        for record in store.webhooks().await? {
            if record.account != account {
                continue;
            }
            let status = self
                .running()
                .get(&record.id)
                .map(|r| r.status.lock().unwrap_or_else(|p| p.into_inner()).clone())
                .unwrap_or(Status {
                    breaker: BreakerState::Closed,
                    last_error: None,
                });
            let cursor = store.webhook_cursor(&record.id).await?;
            let failures = store.webhook_failures(&record.id).await?.len();
            views.push(WebhookView {
                record,
                status,
                cursor,
                failures,
            });
        }
        Ok(views)
    }

    /// One subscription of `account`, if it exists.
    pub async fn get(&self, account: &str, id: &str) -> Result<Option<WebhookView>, StoreError> {
        Ok(self
            .list(account)
            .await?
            .into_iter()
            .find(|v| v.record.id == id))
    }

    /// Stops and forgets a subscription of `account`; whether it existed.
    pub async fn delete(&self, account: &str, id: &str) -> Result<bool, StoreError> {
        if self.get(account, id).await?.is_none() {
            return Ok(false);
        }
        if let Some(running) = self.running().remove(id) {
            running.task.abort();
        }
        self.events.store().delete_webhook(id).await
    }

    /// The dead letters of a subscription.
    pub async fn failures(&self, id: &str) -> Result<Vec<FailureRecord>, StoreError> {
        self.events.store().webhook_failures(id).await
    }

    /// Queues dead letters for delivery again (`ids`, or all of them); how many.
    pub async fn redeliver(&self, id: &str, ids: Option<Vec<i64>>) -> Result<usize, StoreError> {
        let failed: Vec<i64> = self
            .failures(id)
            .await?
            .into_iter()
            .map(|f| f.event_id)
            .filter(|event| ids.as_ref().is_none_or(|ids| ids.contains(event)))
            .collect();
        let count = failed.len();
        if let Some(running) = self.running().get(id)
            && count > 0
        {
            let _ = running.redeliver.send(failed);
        }
        Ok(count)
    }

    /// Prometheus text: deliveries per webhook and outcome, and each breaker's state.
    pub fn render_metrics(&self) -> String {
        use std::sync::atomic::Ordering::Relaxed;
        let running = self.running();
        let mut ids: Vec<&String> = running.keys().collect();
        ids.sort();
        let mut out = String::from(
            "# HELP mtgate_webhook_deliveries_total Webhook delivery attempts since start, by outcome.\n\
             # TYPE mtgate_webhook_deliveries_total counter\n",
        );
        for id in &ids {
            let c = &running[*id].counts;
            for (outcome, n) in [
                ("delivered", c.delivered.load(Relaxed)),
                ("failed_attempt", c.failed_attempts.load(Relaxed)),
                ("dead_letter", c.dead.load(Relaxed)),
            ] {
                out.push_str(&format!(
                    "mtgate_webhook_deliveries_total{{webhook=\"{id}\",outcome=\"{outcome}\"}} {n}\n"
                ));
            }
        }
        out.push_str(
            "# HELP mtgate_webhook_breaker_open Whether the webhook's circuit breaker is open (1) or not (0).\n\
             # TYPE mtgate_webhook_breaker_open gauge\n",
        );
        for id in &ids {
            let status = running[*id]
                .status
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            let open = u8::from(status.breaker == BreakerState::Open);
            out.push_str(&format!(
                "mtgate_webhook_breaker_open{{webhook=\"{id}\"}} {open}\n"
            ));
        }
        out
    }

    /// Stops every delivery task (shutdown).
    pub fn stop(&self) {
        for (_, running) in self.running().drain() {
            running.task.abort();
        }
    }
}

/// With replicas: each time this replica takes `account` over, starts the account's webhooks
/// it does not run yet, for as long as the webhooks exist.
async fn adopt_on_takeover(
    webhooks: std::sync::Weak<Webhooks>,
    account: String,
    gate: Arc<crate::telegram::lease::LeaseGate>,
) {
    loop {
        gate.opened().await;
        let Some(webhooks) = webhooks.upgrade() else {
            return;
        };
        if let Err(e) = webhooks.adopt(&account).await {
            tracing::warn!(%account, error = %e, "could not load the account's webhooks");
        }
        drop(webhooks);
        gate.closed().await;
    }
}
