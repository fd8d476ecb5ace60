//! The HTTP API: routes, the error boundary, authentication and documentation.

pub mod auth;
pub mod edge;
pub mod error;
pub mod health;
pub mod json;
pub mod messages;
pub mod metrics;
pub mod openapi;
pub mod openapi_rules;
pub mod peers;
pub mod request_id;
pub mod router;
pub mod session;
pub mod state;
pub mod telegram_errors;

pub use error::ApiError;
pub use state::AppState;
