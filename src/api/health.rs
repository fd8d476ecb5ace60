//! Health endpoints, answered from the manager's health snapshot without waiting on Telegram.
//!
//! - `/health`: 200 healthy or degraded (reconnecting), 503 unhealthy (session unusable) —
//!   for the `default` account, so existing probes keep their meaning; `accounts` lists every
//!   account's own check and `summary` counts them, so one account's trouble shows without
//!   failing the probe of a process whose other accounts serve fine.
//! - `/health/live`: 200 while the process serves HTTP.
//! - `/health/ready`: 200 only when connected and authorized.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{SecondsFormat, Utc};
use serde_json::json;

use super::AppState;
use crate::telegram::health::{Health, HealthSnapshot};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/health/live", get(live))
        .route("/health/ready", get(ready))
}

/// The `/health` body and status for a snapshot.
pub fn health_report(snapshot: &HealthSnapshot) -> (StatusCode, serde_json::Value) {
    let health = snapshot.state.health();
    let status = match health {
        Health::Healthy | Health::Degraded => StatusCode::OK,
        Health::Unhealthy => StatusCode::SERVICE_UNAVAILABLE,
    };
    let body = json!({
        "status": health,
        "timestamp": Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
        "checks": {
            "telegram": telegram_check(snapshot),
            "config": { "status": "ok" },
        },
    });
    (status, body)
}

/// One account's `telegram` check.
fn telegram_check(snapshot: &HealthSnapshot) -> serde_json::Value {
    json!({
        "status": snapshot.state.as_str(),
        "connected": snapshot.connected(),
        "authorized": snapshot.authorized,
        "last_error": snapshot.last_error,
        "since": snapshot.since.to_rfc3339_opts(SecondsFormat::Millis, true),
    })
}

/// The report for the default account's `snapshot`, plus every account (`default` first) as
/// `accounts` and their counts by health as `summary`.
pub fn accounts_report<'a>(
    default: &HealthSnapshot,
    accounts: impl IntoIterator<Item = (&'a str, HealthSnapshot)>,
) -> (StatusCode, serde_json::Value) {
    let (status, mut body) = health_report(default);
    let mut counts = [0usize; 3];
    let list: Vec<serde_json::Value> = accounts
        .into_iter()
        .map(|(name, snapshot)| {
            let health = snapshot.state.health();
            counts[health as usize] += 1;
            json!({
                "name": name,
                "status": health,
                "telegram": telegram_check(&snapshot),
            })
        })
        .collect();
    body["summary"] = json!({
        "accounts": list.len(),
        "healthy": counts[Health::Healthy as usize],
        "degraded": counts[Health::Degraded as usize],
        "unhealthy": counts[Health::Unhealthy as usize],
    });
    body["accounts"] = serde_json::Value::Array(list);
    (status, body)
}

async fn health(State(state): State<AppState>) -> Response {
    let default = state.accounts.default().health();
    let accounts = state.accounts.all().map(|a| (a.name(), a.health()));
    let (status, mut body) = accounts_report(&default, accounts);
    let (id, holds) = match &state.cluster {
        Some(cluster) => (cluster.id().to_owned(), cluster.held()),
        None => (
            state.config.cluster.replica_id.clone(),
            state.accounts.all().map(|a| a.name().to_owned()).collect(),
        ),
    };
    body["replica"] = json!({ "id": id, "holds": holds });
    (status, Json(body)).into_response()
}

async fn live() -> Response {
    Json(json!({ "status": "alive" })).into_response()
}

async fn ready(State(state): State<AppState>) -> Response {
    let snapshot = state.accounts.default().health();
    if snapshot.ready() {
        Json(json!({ "status": "ready" })).into_response()
    } else {
        let body = json!({
            "status": "not_ready",
            "telegram": snapshot.state.as_str(),
            "last_error": snapshot.last_error,
        });
        (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telegram::health::{HealthTracker, SelfUser};

    fn me() -> SelfUser {
        SelfUser {
            id: 7,
            username: None,
            first_name: None,
            last_name: None,
            phone: None,
            is_bot: false,
        }
    }

    #[test]
    fn connected_is_healthy_200_with_every_contract_field() {
        let tracker = HealthTracker::new();
        tracker.set_connected(me());
        let (status, body) = health_report(&tracker.snapshot());
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["status"], "healthy");
        let telegram = &body["checks"]["telegram"];
        assert_eq!(telegram["status"], "connected");
        assert_eq!(telegram["connected"], true);
        assert_eq!(telegram["authorized"], true);
        assert!(telegram["last_error"].is_null());
        assert!(telegram["since"].is_string());
        assert_eq!(body["checks"]["config"]["status"], "ok");
        assert!(body["timestamp"].is_string());
    }

    #[test]
    fn reconnecting_is_degraded_but_200() {
        let tracker = HealthTracker::new();
        tracker.set_connected(me());
        tracker.set_unreachable("connection refused".into());
        let (status, body) = health_report(&tracker.snapshot());
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["status"], "degraded");
        assert_eq!(body["checks"]["telegram"]["connected"], false);
        assert_eq!(
            body["checks"]["telegram"]["last_error"],
            "connection refused"
        );
    }

    #[test]
    fn every_account_is_listed_and_counted_while_the_status_stays_the_default_one() {
        let default = HealthTracker::new();
        default.set_connected(me());
        let revoked = HealthTracker::new();
        revoked.set_unauthorized("AUTH_KEY_UNREGISTERED".into());
        let accounts = [
            ("default", default.snapshot()),
            ("alice", revoked.snapshot()),
        ];
        let (status, body) = accounts_report(&default.snapshot(), accounts);
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["status"], "healthy");
        assert_eq!(body["checks"]["telegram"]["status"], "connected");
        assert_eq!(body["summary"]["accounts"], 2);
        assert_eq!(body["summary"]["healthy"], 1);
        assert_eq!(body["summary"]["unhealthy"], 1);
        assert_eq!(body["summary"]["degraded"], 0);
        assert_eq!(body["accounts"][0]["name"], "default");
        assert_eq!(body["accounts"][1]["name"], "alice");
        assert_eq!(body["accounts"][1]["status"], "unhealthy");
        assert_eq!(body["accounts"][1]["telegram"]["authorized"], false);
    }

    #[test]
    fn unauthorized_is_unhealthy_503() {
        let tracker = HealthTracker::new();
        tracker.set_unauthorized("AUTH_KEY_UNREGISTERED".into());
        let (status, body) = health_report(&tracker.snapshot());
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["status"], "unhealthy");
        assert_eq!(body["checks"]["telegram"]["authorized"], false);
    }
}
