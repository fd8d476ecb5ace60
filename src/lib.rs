//! mtgate: a small HTTP API in front of a Telegram *user* account (MTProto), plus the sandbox
//! Telegram it is tested against.
//!
//! # Layout
//!
//! - [`cli`]: the `mtgate` command line; dispatches to the three commands below.
//! - [`app`]: `mtgate serve`: wires config, telemetry, the client manager and the HTTP
//!   server; [`app::run`] takes its listener and shutdown future from the caller.
//! - [`config`]: environment (`.env` via dotenvy) and the accounts and keys files, validated
//!   once into a typed [`config::Config`]; every problem is reported at once.
//! - [`telemetry`]: tracing subscriber (bunyan JSON or pretty).
//! - [`accounts`]: [`accounts::Account`] (one Telegram account: its client manager, peer
//!   knowledge, health, typed operations) and the registry that picks one per request.
//! - [`telegram`]: everything that names grammers: one client manager per account (grammers
//!   client behind a `tokio::sync::Mutex`), the supervisor (liveness probes, reconnects),
//!   flood memory (`telegram::flood`), stall detection (`telegram::stall`), health, the typed
//!   operations (`telegram::ops`, media uploads streamed part by part included) and the one
//!   mapping of Telegram errors.
//! - [`events`]: events out: the durable event log filled from each account's updates (with
//!   the update state, in one transaction), live fan-out to SSE streams, retention, and
//!   webhooks (Standard Webhooks signatures, retries, circuit breaker, dead letters).
//! - [`domain`]: plain types: request input (peers, message text, account names, key scopes)
//!   and operation results.
//! - [`api`]: axum routes (also under `/v1/accounts/{account}/…`), the
//!   [`api::error::ApiError`] boundary, auth and key scopes, health, OpenAPI, metrics, media
//!   sends and downloads ([`api::media`]: multipart, URL, `Range`), and the
//!   HTTP edge ([`api::edge`]: accept loop, timeouts, connection and in-flight caps).
//! - [`cluster`]: replicas on one PostgreSQL database: account leases (one live connection
//!   per account), heartbeats, who holds what (requests for other accounts are forwarded).
//! - [`outgoing`]: the HTTP(S) clients of outgoing requests (`media.url`, webhooks), all
//!   trusting the built-in roots plus `MTGATE_TLS_CA_FILE`.
//! - [`idempotency`]: remembers answers by `Idempotency-Key` so retries never post twice.
//! - [`outbox`]: the durable outbox: jobs stored with their idempotency record, one
//!   scheduler per account (FIFO per chat, priorities, pacing, flood parking, retries).
//! - [`login`]: `mtgate login`, the interactive / scripted session generator.
//! - [`store`]: the durable store (sqlx: SQLite at `MTGATE_STATE_DIR/mtgate.db` by default,
//!   PostgreSQL with `MTGATE_DATABASE_URL`): peers, update state, idempotency records, outbox
//!   jobs, the event log and webhooks, replicas and leases, one view per account; the only
//!   code that writes state to disk.

pub mod accounts;
pub mod api;
pub mod app;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod domain;
pub mod events;
pub mod idempotency;
pub mod login;
pub mod outbox;
pub mod outgoing;
pub mod store;
pub mod telegram;
pub mod telemetry;
