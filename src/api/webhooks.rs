//! `/v1/webhooks`: subscribe a URL to the account's events, list and delete subscriptions,
//! see a subscription's dead letters and deliver them again.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::account::{CurrentAccount, RequestAccount};
use super::json::{ApiJson, ApiPath, json_response};
use super::optional_json::OptionalJson;
use super::{ApiError, AppState};
use crate::domain::{EventType, PeerSpec};
use crate::events::webhooks::{NewWebhook, WebhookView, Webhooks, signature};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/webhooks", post(create).get(list))
        .route("/v1/webhooks/{id}", delete(remove))
        .route("/v1/webhooks/{id}/failures", get(failures))
        .route("/v1/webhooks/{id}/redeliver", post(redeliver))
}

/// `POST /v1/webhooks` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// Where events are POSTed (`http://…` or `https://…`).
    pub url: String,
    /// `whsec_` + base64 of at least 16 bytes; generated when absent.
    pub secret: Option<String>,
    /// Event types (default: all).
    pub events: Option<Vec<String>>,
    /// Chats as peers (default: all the key may see).
    pub chats: Option<Vec<String>>,
}

/// `POST /v1/webhooks/{id}/redeliver` body (may be empty).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedeliverRequest {
    /// Only these failed events (default: every failure).
    #[serde(default, deserialize_with = "crate::api::json::whole::option_vec_i64")]
    pub event_ids: Option<Vec<i64>>,
}

#[derive(Serialize)]
struct Created {
    id: String,
    url: String,
    secret: String,
    events: Vec<String>,
    chats: Vec<i64>,
}

async fn create(
    State(state): State<AppState>,
    CurrentAccount(account): CurrentAccount,
    body: Result<ApiJson<CreateWebhook>, ApiError>,
) -> Result<Response, ApiError> {
    let body = body?.value;
    let url = check_url(&body.url)?;
    if let Some(secret) = &body.secret
        && !signature::valid_secret(secret)
    {
        return Err(ApiError::invalid(
            "secret must be `whsec_` followed by base64 of at least 16 bytes",
        ));
    }
    let events = body.events.unwrap_or_default();
    for name in &events {
        if EventType::parse(name).is_none() {
            return Err(ApiError::invalid(format!(
                "events: unknown event type `{name}`"
            )));
        }
    }
    let chats = chat_ids(&account, body.chats.unwrap_or_default()).await?;
    let record = webhooks(&state)
        .create(NewWebhook {
            account: account.name().to_string(),
            url,
            secret: body.secret,
            events,
            chats,
        })
        .await
        .map_err(store_error)?;
    let location = format!("/v1/webhooks/{}", record.id);
    let mut response = json_response(
        StatusCode::CREATED,
        &Created {
            id: record.id,
            url: record.url,
            secret: record.secret,
            events: record.events,
            chats: record.chats,
        },
    );
    if let Ok(value) = location.parse() {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

async fn list(
    State(state): State<AppState>,
    CurrentAccount(account): CurrentAccount,
) -> Result<Response, ApiError> {
    let views = webhooks(&state)
        .list(account.name())
        .await
        .map_err(store_error)?;
    let list: Vec<_> = views.iter().map(view_json).collect();
    Ok(json_response(StatusCode::OK, &json!({ "webhooks": list })))
}

async fn remove(
    State(state): State<AppState>,
    CurrentAccount(account): CurrentAccount,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let gone = webhooks(&state)
        .delete(account.name(), &id)
        .await
        .map_err(store_error)?;
    if gone {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::WebhookNotFound(id))
    }
}

async fn failures(
    State(state): State<AppState>,
    CurrentAccount(account): CurrentAccount,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let hooks = webhooks(&state);
    existing(hooks, &account, &id).await?;
    let failures = hooks.failures(&id).await.map_err(store_error)?;
    let list: Vec<_> = failures
        .iter()
        .map(|f| {
            json!({
                "event_id": f.event_id,
                "attempts": f.attempts,
                "last_error": f.last_error,
                "failed_at": rfc3339(f.failed_at),
            })
        })
        .collect();
    Ok(json_response(StatusCode::OK, &json!({ "failures": list })))
}

async fn redeliver(
    State(state): State<AppState>,
    CurrentAccount(account): CurrentAccount,
    ApiPath(id): ApiPath<String>,
    OptionalJson(body): OptionalJson<RedeliverRequest>,
) -> Result<Response, ApiError> {
    let hooks = webhooks(&state);
    existing(hooks, &account, &id).await?;
    let count = hooks
        .redeliver(&id, body.event_ids)
        .await
        .map_err(store_error)?;
    Ok(json_response(
        StatusCode::ACCEPTED,
        &json!({ "redelivering": count }),
    ))
}

fn webhooks(state: &AppState) -> &Arc<Webhooks> {
    &state.webhooks
}

async fn existing(hooks: &Webhooks, account: &RequestAccount, id: &str) -> Result<(), ApiError> {
    match hooks.get(account.name(), id).await.map_err(store_error)? {
        Some(_) => Ok(()),
        None => Err(ApiError::WebhookNotFound(id.to_string())),
    }
}

fn view_json(view: &WebhookView) -> serde_json::Value {
    let r = &view.record;
    json!({
        "id": r.id,
        "url": r.url,
        "events": r.events,
        "chats": r.chats,
        "source": r.source,
        "breaker": view.status.breaker.as_str(),
        "last_error": view.status.last_error,
        "last_event_id": view.cursor,
        "failures": view.failures,
        "created_at": rfc3339(r.created_at),
    })
}

fn rfc3339(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `http://` or `https://` with a host (see [`crate::events::webhooks::target`]).
fn check_url(raw: &str) -> Result<String, ApiError> {
    crate::events::webhooks::target::check_url(raw)
        .map_err(|why| ApiError::invalid(format!("url {why}")))
}

/// The chats asked for as ids (each within the key's chats), or the key's chats.
async fn chat_ids(account: &RequestAccount, asked: Vec<String>) -> Result<Vec<i64>, ApiError> {
    let specs: Vec<PeerSpec> = asked
        .iter()
        .map(|c| PeerSpec::parse(c).map_err(|e| ApiError::invalid(format!("chats: {e}"))))
        .collect::<Result<_, _>>()?;
    account.filter_chat_ids(specs).await
}

fn store_error(e: crate::store::StoreError) -> ApiError {
    tracing::error!(error = %e, "the webhook store failed");
    ApiError::Internal {
        message: "webhooks cannot be read or written right now".into(),
        telegram: None,
        upstream: false,
    }
}
