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

    /// The statements as one transaction in one string, with their values: `BEGIN
    /// IMMEDIATE` (the write lock first), the statements, `COMMIT`.
    pub fn as_transaction(&self) -> (String, &[Arg<'a>]) {
        debug_assert!(self.joined);
        let sql = format!("BEGIN IMMEDIATE;\n{};\nCOMMIT", self.statements.join(";\n"));
        (sql, &self.args)
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
    /// error.
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

pub(super) fn bind_all<'q>(mut query: AnyQuery<'q>, args: &[Arg<'q>]) -> AnyQuery<'q> {
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
