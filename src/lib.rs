//! mtgate: a small HTTP API in front of a Telegram *user* account (MTProto), plus the sandbox
//! Telegram it is tested against.
//!
//! # Layout
//!
//! - [`cli`]: the `mtgate` command line; dispatches to the three commands below.
//! - [`app`]: `mtgate serve`: wires config, telemetry, the client manager and the HTTP
//!   server; [`app::run`] takes its listener and shutdown future from the caller.
//! - [`config`]: environment (`.env` via dotenvy) validated once into a typed [`config::Config`].
//! - [`telemetry`]: tracing subscriber (bunyan JSON or pretty).
//! - [`telegram`]: the one client manager per process (grammers client behind a
//!   `tokio::sync::Mutex`), its reconnect policy, persisted state and connection health.
//! - [`domain`]: request input parsed into small types (peers, message text).
//! - [`api`]: axum routes, the [`api::error::ApiError`] boundary, auth, health, OpenAPI, metrics,
//!   and the HTTP edge ([`api::edge`]: accept loop, timeouts, connection and in-flight caps).
//! - [`idempotency`]: remembers answers by `Idempotency-Key` so retries never post twice.
//! - [`login`]: `mtgate login`, the interactive / scripted session generator.

pub mod api;
pub mod app;
pub mod cli;
pub mod config;
pub mod domain;
pub mod idempotency;
pub mod login;
pub mod telegram;
pub mod telemetry;
