//! The schema, as numbered migrations applied in order at start-up and recorded in
//! `schema_migrations`. A migration is never edited once released: changes are new numbers.
//!
//! The SQL is portable between SQLite and PostgreSQL (`BIGINT`, `TEXT`, `BOOLEAN`, `BYTEA` —
//! SQLite stores a `BYTEA` column's blobs as they are — and `$N` placeholders), so both
//! backends run the same list.

use sqlx::AnyPool;

use super::{Backend, StoreError};

/// One schema step: its number, a name for logs, and its statements.
struct Migration {
    version: i64,
    name: &'static str,
    statements: &'static [&'static str],
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "accounts and peers",
        statements: &[
            // One row per account (named in config; "default" today). `auth_key_id` is the
            // public id of the session's key (never the key): a new key starts a fresh state.
            "CREATE TABLE accounts (
                name TEXT PRIMARY KEY,
                auth_key_id TEXT,
                self_id BIGINT,
                created_at BIGINT NOT NULL
            )",
            // Peers by Bot-API dialog id. NULL means "not known", so writers that know
            // different things (the grammers session, the resolver) complete one row.
            "CREATE TABLE peers (
                account TEXT NOT NULL,
                id BIGINT NOT NULL,
                access_hash BIGINT,
                bot BOOLEAN,
                is_self BOOLEAN,
                channel_kind TEXT,
                title TEXT,
                usernames TEXT,
                updated_at BIGINT NOT NULL,
                PRIMARY KEY (account, id)
            )",
            // Lower-cased username → peer id, for lookups without Telegram.
            "CREATE TABLE peer_usernames (
                account TEXT NOT NULL,
                username TEXT NOT NULL,
                peer_id BIGINT NOT NULL,
                PRIMARY KEY (account, username)
            )",
        ],
    },
    Migration {
        version: 2,
        name: "update state",
        statements: &[
            "CREATE TABLE update_state (
                account TEXT PRIMARY KEY,
                pts INTEGER NOT NULL,
                qts INTEGER NOT NULL,
                date INTEGER NOT NULL,
                seq INTEGER NOT NULL
            )",
            "CREATE TABLE channel_state (
                account TEXT NOT NULL,
                channel_id BIGINT NOT NULL,
                pts INTEGER NOT NULL,
                PRIMARY KEY (account, channel_id)
            )",
        ],
    },
    Migration {
        version: 3,
        name: "idempotency records",
        statements: &[
            // Scoped per API-key name and account; `fingerprint` is the request's SHA-256.
            "CREATE TABLE idempotency (
                key_name TEXT NOT NULL,
                account TEXT NOT NULL,
                idem_key TEXT NOT NULL,
                fingerprint BYTEA NOT NULL,
                status INTEGER NOT NULL,
                headers TEXT NOT NULL,
                body BYTEA NOT NULL,
                created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL,
                PRIMARY KEY (key_name, account, idem_key)
            )",
            "CREATE INDEX idempotency_expiry ON idempotency (expires_at)",
        ],
    },
    Migration {
        version: 4,
        name: "replicas and account leases",
        statements: &[
            // Each replica's advertised internal address (for forwarding) and heartbeat.
            // Times are the database's clock, in Unix milliseconds, so replicas never compare
            // their own clocks.
            "CREATE TABLE replicas (
                id TEXT PRIMARY KEY,
                address TEXT NOT NULL,
                started_at_ms BIGINT NOT NULL,
                last_seen_ms BIGINT NOT NULL
            )",
            // Who may drive an account's Telegram connection, until when; `token` grows with
            // every new holder (the fencing token). `holder` NULL = released.
            "CREATE TABLE leases (
                account TEXT PRIMARY KEY,
                holder TEXT,
                token BIGINT NOT NULL,
                acquired_at_ms BIGINT NOT NULL,
                expires_at_ms BIGINT NOT NULL
            )",
        ],
    },
    Migration {
        version: 5,
        name: "outbox jobs",
        statements: &[
            // One row per job, keyed by account. `seq` grows per account in enqueue order
            // (FIFO within a chat, listing cursor); times are Unix milliseconds. `body` is the
            // send's JSON (text included: never logged). `random_id` is derived from the job.
            // `previous_state`: the state before the last change (read back by the change).
            "CREATE TABLE jobs (
                account TEXT NOT NULL,
                id TEXT NOT NULL,
                seq BIGINT NOT NULL,
                chat TEXT NOT NULL,
                priority INTEGER NOT NULL,
                state TEXT NOT NULL,
                body TEXT NOT NULL,
                random_id BIGINT NOT NULL,
                attempts INTEGER NOT NULL,
                failures INTEGER NOT NULL,
                send_at_ms BIGINT,
                deadline_ms BIGINT,
                next_attempt_at_ms BIGINT,
                message_id BIGINT,
                error TEXT,
                previous_state TEXT,
                created_at_ms BIGINT NOT NULL,
                updated_at_ms BIGINT NOT NULL,
                PRIMARY KEY (account, id)
            )",
            "CREATE UNIQUE INDEX jobs_seq ON jobs (account, seq)",
            "CREATE INDEX jobs_state ON jobs (account, state, seq)",
            "CREATE INDEX jobs_chat ON jobs (account, chat, seq)",
        ],
    },
    Migration {
        version: 6,
        name: "events and webhooks",
        statements: &[
            // `created_at` in milliseconds; `data` is the event's JSON `data`; `dedup` names
            // the fact (NULLs never collide), so one fact seen twice is logged once.
            "CREATE TABLE events (
                account TEXT NOT NULL,
                id BIGINT NOT NULL,
                type TEXT NOT NULL,
                chat_id BIGINT,
                dedup TEXT,
                created_at BIGINT NOT NULL,
                data TEXT NOT NULL,
                PRIMARY KEY (account, id)
            )",
            "CREATE UNIQUE INDEX events_dedup ON events (account, dedup)",
            "CREATE INDEX events_age ON events (account, created_at)",
            // The last id given per account: ids are never reused after retention.
            "CREATE TABLE event_counters (
                account TEXT PRIMARY KEY,
                last_id BIGINT NOT NULL
            )",
            // `events` and `chats` are JSON arrays (empty: all); `source` is `api` or `config`.
            "CREATE TABLE webhooks (
                id TEXT PRIMARY KEY,
                account TEXT NOT NULL,
                url TEXT NOT NULL,
                secret TEXT NOT NULL,
                events TEXT NOT NULL,
                chats TEXT NOT NULL,
                source TEXT NOT NULL,
                created_at BIGINT NOT NULL
            )",
            // The last event each webhook is done with (delivered or dead-lettered).
            "CREATE TABLE webhook_cursors (
                webhook_id TEXT PRIMARY KEY,
                last_event_id BIGINT NOT NULL
            )",
            "CREATE TABLE webhook_failures (
                webhook_id TEXT NOT NULL,
                event_id BIGINT NOT NULL,
                attempts INTEGER NOT NULL,
                last_error TEXT NOT NULL,
                failed_at BIGINT NOT NULL,
                PRIMARY KEY (webhook_id, event_id)
            )",
        ],
    },
];

/// Applies every migration not yet recorded, all in one write transaction that holds the
/// database's write lock from its start (`BEGIN IMMEDIATE` on SQLite, an advisory lock on
/// PostgreSQL), so processes starting together cannot both apply the same step: the others
/// wait, then find nothing left to do.
pub async fn apply(pool: &AnyPool, backend: Backend) -> Result<(), StoreError> {
    let mut tx = super::backend::begin_write(pool, backend).await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version BIGINT PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at BIGINT NOT NULL
        )",
    )
    .execute(&mut *tx)
    .await?;
    let (current,): (Option<i64>,) = sqlx::query_as("SELECT MAX(version) FROM schema_migrations")
        .fetch_one(&mut *tx)
        .await?;
    let current = current.unwrap_or(0);
    if let Some(newest) = MIGRATIONS.last()
        && current > newest.version
    {
        return Err(StoreError::Schema(format!(
            "the database is at schema version {current}, newer than this mtgate knows ({}): use a newer mtgate",
            newest.version
        )));
    }
    for migration in MIGRATIONS.iter().filter(|m| m.version > current) {
        for statement in migration.statements {
            sqlx::query(statement).execute(&mut *tx).await?;
        }
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
        )
        .bind(migration.version)
        .bind(migration.name)
        .bind(super::now())
        .execute(&mut *tx)
        .await?;
        tracing::info!(
            version = migration.version,
            name = migration.name,
            "store migrated"
        );
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[tokio::test]
    async fn stores_opened_together_on_one_new_file_both_start() {
        let dir = crate::store::tests::TempDir::new("store-race");
        let (a, b) = tokio::join!(Store::open(&dir), Store::open(&dir));
        assert!(a.is_ok() && b.is_ok(), "{:?} {:?}", a.err(), b.err());
    }

    #[test]
    fn versions_are_increasing_from_one() {
        // Contiguous: the runner applies what is above the highest applied version, so a
        // gap filled later would never run.
        for (i, migration) in MIGRATIONS.iter().enumerate() {
            assert_eq!(migration.version, i as i64 + 1, "{}", migration.name);
        }
    }
}
