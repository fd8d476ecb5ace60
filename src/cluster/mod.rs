//! Replicas sharing one PostgreSQL database: each account's Telegram connection is driven by
//! exactly one replica at a time, the holder of the account's lease (see
//! `store::cluster`), and every replica serves the whole API by forwarding requests for
//! accounts held elsewhere (`api::forward`).
//!
//! - [`Cluster`]: this replica's id and advertised address, one [`LeaseGate`] per account,
//!   and the latest view of who holds what.
//! - [`leases`]: the loop that heartbeats, renews, takes and gives up leases, opening and
//!   closing the gates (the client managers follow their gate).
//! - [`balance`]: the fair share and which free accounts to try.
//!
//! Without `MTGATE_DATABASE_URL` there is no cluster: one process, every account connected.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::config::ClusterConfig;
use crate::store::{LeaseRecord, ReplicaRecord, Store};
use crate::telegram::lease::LeaseGate;

pub mod balance;
mod leases;

/// This replica in the cluster.
pub struct Cluster {
    store: Store,
    id: String,
    configured_address: Option<String>,
    ttl: Duration,
    gates: BTreeMap<String, Arc<LeaseGate>>,
    /// Filled when serving starts (the listen address may only be known then).
    address: Mutex<Option<String>>,
    view: Mutex<View>,
    task: Mutex<Option<JoinHandle<()>>>,
}

/// The last reading of the replicas and leases tables.
#[derive(Clone, Debug, Default)]
pub struct View {
    pub replicas: Vec<ReplicaRecord>,
    pub leases: Vec<LeaseRecord>,
    /// The database's clock when read (Unix ms).
    pub now_ms: i64,
}

impl View {
    /// The live holder of `account` and its address, if any.
    pub fn holder(&self, account: &str) -> Option<&ReplicaRecord> {
        let lease = self.leases.iter().find(|l| {
            l.account == account && l.holder.is_some() && l.expires_at_ms > self.now_ms
        })?;
        let holder = lease.holder.as_deref()?;
        self.replicas.iter().find(|r| r.id == holder)
    }
}

impl Cluster {
    /// A replica of `config` for `accounts` (names); no lease is taken before [`Self::start`].
    pub fn new(store: Store, config: &ClusterConfig, accounts: &[String]) -> Arc<Self> {
        Arc::new(Self {
            store,
            id: config.replica_id.clone(),
            configured_address: config.address.clone(),
            ttl: config.lease_ttl,
            gates: accounts
                .iter()
                .map(|name| (name.clone(), Arc::new(LeaseGate::new())))
                .collect(),
            address: Mutex::new(None),
            view: Mutex::new(View::default()),
            task: Mutex::new(None),
        })
    }

    /// The gate `account`'s client manager follows.
    pub fn gate(&self, account: &str) -> Option<Arc<LeaseGate>> {
        self.gates.get(account).cloned()
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn lease_ttl(&self) -> Duration {
        self.ttl
    }

    /// The base URL other replicas forward to (once serving).
    pub fn address(&self) -> Option<String> {
        lock(&self.address).clone()
    }

    /// The holder of `account` in `view`, if it still heartbeats: one silent for half a lease
    /// (dead, or frozen with its socket still accepting) gets no forwarded request, which
    /// would only hang until the lease moves.
    pub fn live_holder(&self, view: &View, account: &str) -> Option<ReplicaRecord> {
        let silence_ms = i64::try_from(self.ttl.as_millis() / 2).unwrap_or(i64::MAX);
        view.holder(account)
            .filter(|r| r.id == self.id || view.now_ms - r.last_seen_ms <= silence_ms)
            .cloned()
    }

    /// Every account name, held here or not.
    pub fn accounts(&self) -> Vec<String> {
        self.gates.keys().cloned().collect()
    }

    /// Whether this replica may drive `account` now.
    pub fn holds(&self, account: &str) -> bool {
        self.gates.get(account).is_some_and(|g| g.is_open())
    }

    /// The accounts this replica holds now, by name.
    pub fn held(&self) -> Vec<String> {
        self.gates
            .iter()
            .filter(|(_, gate)| gate.is_open())
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// The latest view of replicas and leases (refreshed every lease round).
    pub fn view(&self) -> View {
        lock(&self.view).clone()
    }

    /// Reads the view again now (after a forward found the holder gone).
    pub async fn refresh(&self) -> View {
        match leases::read_view(&self.store).await {
            Ok(view) => {
                *lock(&self.view) = view.clone();
                view
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not read the cluster's leases");
                self.view()
            }
        }
    }

    /// Starts heartbeats and the lease loop, advertising `listen` unless an address was
    /// configured.
    pub fn start(self: &Arc<Self>, listen: std::net::SocketAddr) {
        let address = self
            .configured_address
            .clone()
            .unwrap_or_else(|| format!("http://{listen}"));
        *lock(&self.address) = Some(address);
        let task = tokio::spawn(leases::run(self.clone()));
        *lock(&self.task) = Some(task);
        tracing::info!(replica = %self.id, ttl_ms = self.ttl.as_millis() as u64, "joined the cluster");
    }

    /// Stops the lease loop, closes every gate and gives the leases up at once, so other
    /// replicas take the accounts without waiting for expiry. Call after the accounts shut
    /// down (their connections are closed then).
    pub async fn leave(&self) {
        if let Some(task) = lock(&self.task).take() {
            task.abort();
        }
        for (account, gate) in &self.gates {
            let token = gate.token();
            gate.revoke();
            if let Some(token) = token {
                match self.store.release_lease(account, &self.id, token).await {
                    Ok(_) => tracing::info!(%account, "lease released"),
                    Err(e) => tracing::warn!(%account, error = %e, "could not release the lease"),
                }
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
