//! The lease loop: every fifth of the lease TTL, heartbeat, renew what is held, take free
//! accounts up to the fair share, give one up when above it.
//!
//! Gate deadlines are measured from *before* each database call and end a fifth of the TTL
//! before the lease itself can expire, so a replica whose renewals stall closes its gate (and
//! its connection) while the lease is still its own, before any other replica can take it.

use std::sync::Arc;

use tokio::time::Instant;

use super::balance::{fair_share, to_acquire};
use super::{Cluster, View, lock};
use crate::store::{Store, StoreError};

/// How long replicas that stopped heartbeating stay listed in `/v1/cluster`.
const FORGET_AFTER_MS: i64 = 3_600_000;

pub(super) async fn run(cluster: Arc<Cluster>) {
    let round = cluster.ttl / 5;
    let mut ticks = tokio::time::interval(round);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(e) = one_round(&cluster).await {
            tracing::warn!(error = %e, "lease round failed; gates close at their deadlines");
        }
    }
}

/// How long a gate stays open after a database call sent at `sent`.
fn gate_until(cluster: &Cluster, sent: Instant) -> Instant {
    sent + cluster.ttl - cluster.ttl / 5
}

fn ttl_ms(cluster: &Cluster) -> i64 {
    i64::try_from(cluster.ttl.as_millis()).unwrap_or(i64::MAX)
}

async fn one_round(cluster: &Cluster) -> Result<(), StoreError> {
    let store = &cluster.store;
    let address = cluster.address().unwrap_or_default();
    store.heartbeat(&cluster.id, &address).await?;
    renew_held(cluster).await;

    let view = read_view(store).await?;
    *lock(&cluster.view) = view.clone();
    let live = view
        .replicas
        .iter()
        .filter(|r| r.last_seen_ms > view.now_ms - ttl_ms(cluster))
        .count();
    let share = fair_share(cluster.gates.len(), live);
    let held = cluster.held();
    if held.len() < share {
        take_free(cluster, &view, share - held.len()).await?;
    } else if held.len() > share
        && let Some(extra) = held.last()
    {
        give_up(cluster, extra).await?;
    }
    store.forget_replicas(view.now_ms - FORGET_AFTER_MS).await?;
    Ok(())
}

async fn renew_held(cluster: &Cluster) {
    for (account, gate) in &cluster.gates {
        let Some(token) = gate.token() else { continue };
        let sent = Instant::now();
        match cluster
            .store
            .renew_lease(account, &cluster.id, token, ttl_ms(cluster))
            .await
        {
            Ok(Some(_)) => gate.extend(gate_until(cluster, sent)),
            Ok(None) => {
                gate.revoke();
                tracing::warn!(%account, token, "lost the account's lease; standing by");
            }
            // The gate closes at its deadline if the database stays unreachable.
            Err(e) => tracing::warn!(%account, error = %e, "could not renew the lease"),
        }
    }
}

async fn take_free(cluster: &Cluster, view: &View, want: usize) -> Result<(), StoreError> {
    let free: Vec<&str> = cluster
        .gates
        .keys()
        .map(String::as_str)
        .filter(|name| !cluster.holds(name) && view.holder(name).is_none())
        .collect();
    for account in to_acquire(&free, &cluster.id, want) {
        let sent = Instant::now();
        let granted = cluster
            .store
            .acquire_lease(account, &cluster.id, ttl_ms(cluster))
            .await?;
        if let (Some(granted), Some(gate)) = (granted, cluster.gates.get(account)) {
            gate.grant(granted.token, gate_until(cluster, sent));
            tracing::info!(%account, token = granted.token, "took the account's lease");
        }
    }
    Ok(())
}

/// Above the fair share (a replica joined): close the gate, wait until the connection is
/// really closed, then release the lease so another replica takes it at once.
async fn give_up(cluster: &Cluster, account: &str) -> Result<(), StoreError> {
    let Some(gate) = cluster.gates.get(account) else {
        return Ok(());
    };
    let Some(token) = gate.token() else {
        return Ok(());
    };
    gate.revoke();
    let closed = tokio::time::timeout(cluster.ttl, gate.idle()).await.is_ok();
    if closed {
        cluster
            .store
            .release_lease(account, &cluster.id, token)
            .await?;
        tracing::info!(%account, "gave the account's lease up to rebalance");
    } else {
        tracing::warn!(%account, "the connection did not close in time; letting the lease expire");
    }
    Ok(())
}

pub(super) async fn read_view(store: &Store) -> Result<View, StoreError> {
    let (replicas, _) = store.replicas().await?;
    let (leases, now_ms) = store.leases().await?;
    Ok(View {
        replicas,
        leases,
        now_ms,
    })
}
