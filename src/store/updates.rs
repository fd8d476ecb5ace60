//! The update state of an account (`pts`/`qts`/`date`/`seq` and each channel's `pts`), so
//! the client resumes from where it stopped instead of starting over after a restart.

use sqlx::{AnyConnection, AnyPool};

use super::StoreError;
use super::script::{Arg, Script};

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

impl UpdateChange {
    /// One change per sequence, the same end state in fewer statements: the furthest pts of
    /// each (state only moves forward), with the last date and seq seen. A whole state
    /// (`All`) replaces everything before it.
    pub fn coalesce(changes: impl IntoIterator<Item = UpdateChange>) -> Vec<UpdateChange> {
        let mut primary: Option<UpdateChange> = None;
        let mut secondary: Option<i32> = None;
        let mut channels: Vec<(i64, i32)> = Vec::new();
        for change in changes {
            match change {
                UpdateChange::Primary { pts, date, seq } => match &mut primary {
                    // Folded into the whole state, which must still be applied.
                    Some(UpdateChange::All(all)) => {
                        all.pts = all.pts.max(pts);
                        all.date = date;
                        all.seq = seq;
                    }
                    Some(UpdateChange::Primary { pts: known, .. }) => {
                        primary = Some(UpdateChange::Primary {
                            pts: (*known).max(pts),
                            date,
                            seq,
                        });
                    }
                    _ => primary = Some(UpdateChange::Primary { pts, date, seq }),
                },
                UpdateChange::Secondary { qts } => {
                    secondary = Some(secondary.map_or(qts, |known| known.max(qts)));
                }
                UpdateChange::Channel { id, pts } => {
                    match channels.iter_mut().find(|c| c.0 == id) {
                        Some(known) => known.1 = known.1.max(pts),
                        None => channels.push((id, pts)),
                    }
                }
                all @ UpdateChange::All(_) => {
                    // Applying it deletes every channel's state and sets qts.
                    primary = Some(all);
                    secondary = None;
                    channels.clear();
                }
            }
        }
        primary
            .into_iter()
            .chain(secondary.map(|qts| UpdateChange::Secondary { qts }))
            .chain(
                channels
                    .into_iter()
                    .map(|(id, pts)| UpdateChange::Channel { id, pts }),
            )
            .collect()
    }
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
    let mut script = Script::for_connection(conn);
    push_change(&mut script, account, change);
    script.run(conn).await?;
    Ok(())
}

/// The statements that apply `change` (appended to a larger unit of work, e.g. an event
/// commit).
pub(super) fn push_change<'a>(script: &mut Script<'a>, account: &'a str, change: &'a UpdateChange) {
    match change {
        UpdateChange::All(state) => {
            script.push(|p| {
                format!(
                    "INSERT INTO update_state (account, pts, qts, date, seq) VALUES ({}, {}, {}, {}, {})
                     ON CONFLICT (account) DO UPDATE SET
                        pts = excluded.pts, qts = excluded.qts, date = excluded.date, seq = excluded.seq",
                    p.bind(Arg::Text(account)),
                    p.bind(Arg::I32(state.pts)),
                    p.bind(Arg::I32(state.qts)),
                    p.bind(Arg::I32(state.date)),
                    p.bind(Arg::I32(state.seq)),
                )
            });
            script.push(|p| {
                format!(
                    "DELETE FROM channel_state WHERE account = {}",
                    p.bind(Arg::Text(account))
                )
            });
            for &(id, pts) in &state.channels {
                push_channel(script, account, id, pts);
            }
        }
        UpdateChange::Primary { pts, date, seq } => script.push(|p| {
            format!(
                "INSERT INTO update_state (account, pts, qts, date, seq) VALUES ({}, {}, 0, {}, {})
                 ON CONFLICT (account) DO UPDATE SET
                    pts = excluded.pts, date = excluded.date, seq = excluded.seq",
                p.bind(Arg::Text(account)),
                p.bind(Arg::I32(*pts)),
                p.bind(Arg::I32(*date)),
                p.bind(Arg::I32(*seq)),
            )
        }),
        UpdateChange::Secondary { qts } => script.push(|p| {
            format!(
                "INSERT INTO update_state (account, pts, qts, date, seq) VALUES ({}, 0, {}, 0, 0)
                 ON CONFLICT (account) DO UPDATE SET qts = excluded.qts",
                p.bind(Arg::Text(account)),
                p.bind(Arg::I32(*qts)),
            )
        }),
        UpdateChange::Channel { id, pts } => push_channel(script, account, *id, *pts),
    }
}

fn push_channel<'a>(script: &mut Script<'a>, account: &'a str, id: i64, pts: i32) {
    script.push(|p| {
        format!(
            "INSERT INTO channel_state (account, channel_id, pts) VALUES ({}, {}, {})
             ON CONFLICT (account, channel_id) DO UPDATE SET pts = excluded.pts",
            p.bind(Arg::Text(account)),
            p.bind(Arg::I64(id)),
            p.bind(Arg::I32(pts)),
        )
    });
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coalescing_keeps_the_furthest_pts_of_each_sequence() {
        let changes = UpdateChange::coalesce([
            UpdateChange::Primary {
                pts: 5,
                date: 1,
                seq: 0,
            },
            UpdateChange::Channel { id: 9, pts: 3 },
            UpdateChange::Secondary { qts: 4 },
            UpdateChange::Primary {
                pts: 7,
                date: 2,
                seq: 0,
            },
            UpdateChange::Channel { id: 9, pts: 2 },
            UpdateChange::Channel { id: 8, pts: 1 },
            UpdateChange::Secondary { qts: 3 },
        ]);
        assert_eq!(
            changes,
            [
                UpdateChange::Primary {
                    pts: 7,
                    date: 2,
                    seq: 0
                },
                UpdateChange::Secondary { qts: 4 },
                UpdateChange::Channel { id: 9, pts: 3 },
                UpdateChange::Channel { id: 8, pts: 1 },
            ]
        );
    }

    #[test]
    fn a_whole_state_replaces_the_changes_before_it_but_not_those_after() {
        let all = UpdateChange::All(UpdateStateRecord {
            pts: 1,
            qts: 1,
            date: 1,
            seq: 1,
            channels: vec![(9, 1)],
        });
        let changes = UpdateChange::coalesce([
            UpdateChange::Channel { id: 9, pts: 50 },
            UpdateChange::Secondary { qts: 50 },
            all,
            UpdateChange::Primary {
                pts: 3,
                date: 4,
                seq: 5,
            },
            UpdateChange::Channel { id: 7, pts: 2 },
        ]);
        let folded = UpdateChange::All(UpdateStateRecord {
            pts: 3,
            qts: 1,
            date: 4,
            seq: 5,
            channels: vec![(9, 1)],
        });
        assert_eq!(changes, [folded, UpdateChange::Channel { id: 7, pts: 2 }]);
    }
}
