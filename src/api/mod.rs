//! The HTTP API: routes, the error boundary, authentication and documentation.

pub mod account;
pub mod accounts_routes;
pub mod auth;
pub mod chats;
pub mod cluster;
pub mod edge;
pub mod error;
pub mod events;
pub mod forward;
pub mod health;
pub mod jobs;
pub mod json;
pub mod key_metrics;
pub mod media;
pub mod messages;
pub mod metrics;
pub mod openapi;
pub mod openapi_accounts;
pub mod openapi_events;
pub mod openapi_rules;
pub mod optional_json;
pub mod outbox;
pub mod outbox_fields;
pub mod outbox_media;
pub mod outbox_types;
pub mod peers;
pub mod request_id;
pub mod router;
pub mod schemas;
pub mod session;
pub mod state;
pub mod telegram_errors;
pub mod webhooks;

pub use error::ApiError;
pub use state::AppState;
