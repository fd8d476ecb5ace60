//! mtgate's integration tests: the real app (in-process or the real binary) against a real
//! sandbox Telegram, one binary with a module per topic. Harness: [`common::spawn_app`].

mod common;
mod edge_flood;
mod edge_health;
mod edge_limits;
mod edge_panics;
mod errors_logging;
mod errors_malformed_input;
mod errors_telegram;
mod login_cli;
mod login_pipe;
mod login_pty;
mod login_qr;
mod login_support;
mod messages_edit_delete;
mod messages_history;
mod messages_idempotency;
mod messages_send;
mod messages_support;
mod openapi_document;
mod openapi_rules;
mod openapi_served;
mod peers_resolution;
mod runtime_flood;
mod runtime_health;
mod runtime_process;
mod runtime_session;
mod runtime_session_strings;
mod sandbox_command;
