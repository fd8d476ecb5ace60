//! `GET /v1/cluster`: the replicas sharing this database, the accounts each holds and how
//! old their leases are. Served by whichever replica receives it; one replica (this one,
//! holding every account) when there is no database URL.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/v1/cluster", get(cluster))
}

async fn cluster(State(state): State<AppState>) -> Json<Value> {
    let Some(cluster) = &state.cluster else {
        let accounts: Vec<&str> = state.accounts.all().map(|a| a.name()).collect();
        return Json(json!({
            "replicas": [{
                "id": state.config.cluster.replica_id,
                "address": format!("http://{}", state.config.listen),
                "self": true,
                "alive": true,
                "accounts": accounts,
                "leases": [],
                "last_seen": rfc3339(Utc::now().timestamp_millis()),
            }]
        }));
    };
    let view = cluster.refresh().await;
    let replicas: Vec<Value> = view
        .replicas
        .iter()
        .map(|replica| {
            let held: Vec<_> = view
                .leases
                .iter()
                .filter(|l| {
                    l.holder.as_deref() == Some(replica.id.as_str()) && l.expires_at_ms > view.now_ms
                })
                .collect();
            json!({
                "id": replica.id,
                "address": replica.address,
                "self": replica.id == cluster.id(),
                "alive": replica.last_seen_ms > view.now_ms - cluster.lease_ttl().as_millis() as i64,
                "accounts": held.iter().map(|l| l.account.as_str()).collect::<Vec<_>>(),
                "leases": held.iter().map(|l| json!({
                    "account": l.account,
                    "token": l.token,
                    "age_ms": view.now_ms - l.acquired_at_ms,
                    "expires_in_ms": l.expires_at_ms - view.now_ms,
                })).collect::<Vec<_>>(),
                "last_seen": rfc3339(replica.last_seen_ms),
            })
        })
        .collect();
    Json(json!({ "replicas": replicas }))
}

fn rfc3339(unix_ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(unix_ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}
