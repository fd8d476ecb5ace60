//! The update state of an account (`pts`/`qts`/`date`/`seq` and each channel's `pts`), so
//! the client resumes from where it stopped instead of starting over after a restart.

use sqlx::{AnyConnection, AnyPool};

use super::StoreError;

/// The whole update state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpdateStateRecord {
    pub pts: i32,
    pub qts: i32,
    pub date: i32,
    pub seq: i32,
    /// `(bare channel id, pts)`, ordered by id.
    pub channels: Vec<(i64, i32)>,
}

/// One change to the update state, as the client reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UpdateChange {
    All(UpdateStateRecord),
    Primary { pts: i32, date: i32, seq: i32 },
    Secondary { qts: i32 },
    Channel { id: i64, pts: i32 },
}

pub(super) async fn load(pool: &AnyPool, account: &str) -> Result<UpdateStateRecord, StoreError> {
    let main: Option<(i32, i32, i32, i32)> =
        sqlx::query_as("SELECT pts, qts, date, seq FROM update_state WHERE account = $1")
            .bind(account)
            .fetch_optional(pool)
            .await?;
    let channels = sqlx::query_as(
        "SELECT channel_id, pts FROM channel_state WHERE account = $1 ORDER BY channel_id",
    )
    .bind(account)
    .fetch_all(pool)
    .await?;
    let (pts, qts, date, seq) = main.unwrap_or_default();
    Ok(UpdateStateRecord {
        pts,
        qts,
        date,
        seq,
        channels,
    })
}

pub(super) async fn apply(
    conn: &mut AnyConnection,
    account: &str,
    change: &UpdateChange,
) -> Result<(), StoreError> {
    match change {
        UpdateChange::All(state) => {
            upsert_main(conn, account, state).await?;
            sqlx::query("DELETE FROM channel_state WHERE account = $1")
                .bind(account)
                .execute(&mut *conn)
                .await?;
            for &(id, pts) in &state.channels {
                upsert_channel(conn, account, id, pts).await?;
            }
        }
        UpdateChange::Primary { pts, date, seq } => {
            sqlx::query(
                "INSERT INTO update_state (account, pts, qts, date, seq) VALUES ($1, $2, 0, $3, $4)
                 ON CONFLICT (account) DO UPDATE SET
                    pts = excluded.pts, date = excluded.date, seq = excluded.seq",
            )
            .bind(account)
            .bind(pts)
            .bind(date)
            .bind(seq)
            .execute(conn)
            .await?;
        }
        UpdateChange::Secondary { qts } => {
            sqlx::query(
                "INSERT INTO update_state (account, pts, qts, date, seq) VALUES ($1, 0, $2, 0, 0)
                 ON CONFLICT (account) DO UPDATE SET qts = excluded.qts",
            )
            .bind(account)
            .bind(qts)
            .execute(conn)
            .await?;
        }
        UpdateChange::Channel { id, pts } => upsert_channel(conn, account, *id, *pts).await?,
    }
    Ok(())
}

/// Forgets the update state of `account`.
pub(super) async fn clear(conn: &mut AnyConnection, account: &str) -> Result<(), StoreError> {
    for statement in [
        "DELETE FROM update_state WHERE account = $1",
        "DELETE FROM channel_state WHERE account = $1",
    ] {
        sqlx::query(statement)
            .bind(account)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

async fn upsert_main(
    conn: &mut AnyConnection,
    account: &str,
    state: &UpdateStateRecord,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO update_state (account, pts, qts, date, seq) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (account) DO UPDATE SET
            pts = excluded.pts, qts = excluded.qts, date = excluded.date, seq = excluded.seq",
    )
    .bind(account)
    .bind(state.pts)
    .bind(state.qts)
    .bind(state.date)
    .bind(state.seq)
    .execute(conn)
    .await?;
    Ok(())
}

async fn upsert_channel(
    conn: &mut AnyConnection,
    account: &str,
    id: i64,
    pts: i32,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO channel_state (account, channel_id, pts) VALUES ($1, $2, $3)
         ON CONFLICT (account, channel_id) DO UPDATE SET pts = excluded.pts",
    )
    .bind(account)
    .bind(id)
    .bind(pts)
    .execute(conn)
    .await?;
    Ok(())
}
