//! Several statements run as one unit of work. On SQLite they are joined into one string and
//! sent to the connection's thread as one command: each command is a round trip between a
//! runtime thread and that thread (two wake-ups), and the event log's commit used to make six
//! of them per send (BENCHMARKS.md, "The event log's cost per send"). PostgreSQL cannot
//! prepare several statements at once, so there they run one after the other on the same
//! connection. The SQL is the same on both; only the parameter numbering differs (SQLite
//! numbers them across the whole string, PostgreSQL per statement).

use std::fmt;

use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use super::StoreError;

/// One bound value.
#[derive(Clone, Copy, Debug)]
pub(super) enum Arg<'a> {
    I32(i32),
    I64(i64),
    OptI64(Option<i64>),
    Text(&'a str),
    OptText(Option<&'a str>),
}

/// A `$N` placeholder, as written into the SQL.
#[derive(Clone, Copy, Debug)]
pub(super) struct Param(usize);

impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "${}", self.0)
    }
}

/// Collects the values of one statement while its SQL is written.
pub(super) struct Binder<'s, 'a> {
    args: &'s mut Vec<Arg<'a>>,
    /// Placeholders numbered before this statement (0 unless joined).
    offset: usize,
    start: usize,
}

impl<'a> Binder<'_, 'a> {
    /// Binds `value`; returns its placeholder.
    pub fn bind(&mut self, value: Arg<'a>) -> Param {
        self.args.push(value);
        Param(self.offset + self.args.len() - self.start)
    }
}

/// Statements to run in order on one connection.
pub(super) struct Script<'a> {
    joined: bool,
    statements: Vec<String>,
    /// Every statement's values, in order.
    args: Vec<Arg<'a>>,
    /// Where each statement's values start in `args`.
    starts: Vec<usize>,
}

impl<'a> Script<'a> {
    /// A script for the database behind `conn` (joined on SQLite).
    pub fn for_connection(conn: &AnyConnection) -> Self {
        Self::new(conn.backend_name().eq_ignore_ascii_case("sqlite"))
    }

    pub fn new(joined: bool) -> Self {
        Self {
            joined,
            statements: Vec::new(),
            args: Vec::new(),
            starts: Vec::new(),
        }
    }

    /// Whether the statements go as one string (SQLite).
    pub fn is_joined(&self) -> bool {
        self.joined
    }

    /// Adds a statement whose SQL `write` builds, binding its values through the binder.
    pub fn push(&mut self, write: impl FnOnce(&mut Binder<'_, 'a>) -> String) {
        let start = self.args.len();
        let offset = if self.joined { start } else { 0 };
        let sql = write(&mut Binder {
            args: &mut self.args,
            offset,
            start,
        });
        self.statements.push(sql);
        self.starts.push(start);
    }

    /// Runs every statement; returns the rows they returned, in order. Stops at the first
    /// error (a joined script may then leave its transaction open: see [`run_transaction`]).
    pub async fn run(&self, conn: &mut AnyConnection) -> Result<Vec<AnyRow>, StoreError> {
        if self.statements.is_empty() {
            return Ok(Vec::new());
        }
        if self.joined {
            let sql = self.statements.join(";\n");
            return Ok(bind_all(sqlx::query(&sql), &self.args)
                .fetch_all(conn)
                .await?);
        }
        let mut rows = Vec::new();
        for (i, sql) in self.statements.iter().enumerate() {
            let end = self.starts.get(i + 1).copied().unwrap_or(self.args.len());
            let args = &self.args[self.starts[i]..end];
            rows.extend(
                bind_all(sqlx::query(sql), args)
                    .fetch_all(&mut *conn)
                    .await?,
            );
        }
        Ok(rows)
    }
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

fn bind_all<'q>(mut query: AnyQuery<'q>, args: &[Arg<'q>]) -> AnyQuery<'q> {
    for arg in args {
        query = match *arg {
            Arg::I32(v) => query.bind(v),
            Arg::I64(v) => query.bind(v),
            Arg::OptI64(v) => query.bind(v),
            Arg::Text(v) => query.bind(v),
            Arg::OptText(v) => query.bind(v),
        };
    }
    query
}

/// Runs `body` as one write transaction on a SQLite connection of `pool`, in one round trip:
/// `BEGIN IMMEDIATE`, the statements, `COMMIT`, all in one string. sqlx does not know about
/// this transaction, so a failure rolls it back here; if even that fails, or the caller
/// stops waiting halfway, the connection is closed instead of going back to the pool with a
/// transaction open.
pub(super) async fn run_transaction(
    pool: &sqlx::AnyPool,
    body: Script<'_>,
) -> Result<Vec<AnyRow>, StoreError> {
    debug_assert!(body.is_joined());
    let sql = format!("BEGIN IMMEDIATE;\n{};\nCOMMIT", body.statements.join(";\n"));
    let mut conn = ClosesUnlessDone(Some(pool.acquire().await?));
    let Some(held) = conn.0.as_mut() else {
        unreachable!("the connection was just acquired");
    };
    let result = bind_all(sqlx::query(&sql), &body.args)
        .fetch_all(&mut **held)
        .await
        .map_err(StoreError::from);
    if let Err(e) = &result {
        tracing::debug!(error = %e, "a joined transaction failed; rolling it back");
        if let Err(rollback) = sqlx::query("ROLLBACK").execute(&mut **held).await {
            // Also when BEGIN itself failed (nothing to roll back): the connection is
            // dropped either way, so no transaction can leak.
            tracing::debug!(error = %rollback, "no rollback; closing the connection");
            return result;
        }
    }
    conn.done();
    result
}

/// A pooled connection that is closed, not returned to the pool, unless [`Self::done`] was
/// called: a joined transaction cut off halfway must not be handed to the next user.
struct ClosesUnlessDone(Option<sqlx::pool::PoolConnection<sqlx::Any>>);

impl ClosesUnlessDone {
    fn done(mut self) {
        self.0.take();
    }
}

impl Drop for ClosesUnlessDone {
    fn drop(&mut self) {
        if let Some(conn) = self.0.as_mut() {
            conn.close_on_drop();
        }
    }
}
