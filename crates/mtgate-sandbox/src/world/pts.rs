//! Update sequences: the account's common pts box and one box per channel, each with the
//! log of updates it produced so `updates.getDifference` / `getChannelDifference` can replay
//! what a client missed.

use grammers_tl_types as tl;

/// How many updates a box keeps for replay before forgetting the older half.
const MAX_LOGGED: usize = 20_000;

/// One pts sequence (`pts` is the number of the last event) and its replayable log.
#[derive(Clone, Debug)]
pub struct PtsBox {
    pts: i32,
    /// The pts before the first logged event: a client older than this gets "too long".
    log_start: i32,
    log: Vec<LoggedUpdate>,
    /// Unix time of the last recorded update, so a difference can tell which channels moved.
    changed_at: i32,
}

/// An update with the pts it brought the box to.
#[derive(Clone, Debug)]
pub struct LoggedUpdate {
    pub pts: i32,
    pub update: tl::enums::Update,
}

/// What a client at some pts has missed.
#[derive(Debug, PartialEq)]
pub enum Missed {
    Nothing,
    /// The client is older than the log (or ahead of the box, e.g. after a reset): it must
    /// start over from the current pts.
    TooLong,
    Updates(Vec<tl::enums::Update>),
}

impl PtsBox {
    pub fn starting_at(pts: i32) -> Self {
        PtsBox {
            pts,
            log_start: pts,
            log: Vec::new(),
            changed_at: 0,
        }
    }

    pub fn pts(&self) -> i32 {
        self.pts
    }

    /// Reserves `count` pts for one update and returns the new pts (the one the update names).
    pub fn advance(&mut self, count: i32) -> i32 {
        self.pts += count;
        self.pts
    }

    /// Records an update produced by [`advance`](Self::advance) so it can be replayed.
    pub fn record(&mut self, update: tl::enums::Update) {
        self.changed_at = unix_now();
        self.log.push(LoggedUpdate {
            pts: self.pts,
            update,
        });
        if self.log.len() > MAX_LOGGED {
            // Long-running sandboxes (benchmarks) forget the oldest updates; a client that
            // far behind gets "too long", as on Telegram.
            let forget = self.log.len() - MAX_LOGGED / 2;
            self.log_start = self.log[forget - 1].pts;
            self.log.drain(..forget);
        }
    }

    /// Forgets the log (keeping the pts monotonic, so live clients are never confused).
    pub fn clear_log(&mut self) {
        self.log.clear();
        self.log_start = self.pts;
    }

    /// Whether the box advanced at or after `date` (unix seconds).
    pub fn changed_since(&self, date: i32) -> bool {
        self.changed_at >= date && self.changed_at > 0
    }

    pub fn missed_since(&self, client_pts: i32) -> Missed {
        match self.missed_up_to(client_pts, usize::MAX) {
            (Missed::Updates(updates), _) => Missed::Updates(updates),
            (other, _) => other,
        }
    }

    /// The first `limit` updates after `client_pts` (at least one), and the pts the client
    /// reaches by applying them: `getChannelDifference` answers at most its `limit` and says
    /// whether more follow, as Telegram does.
    pub fn missed_up_to(&self, client_pts: i32, limit: usize) -> (Missed, i32) {
        if client_pts == self.pts {
            (Missed::Nothing, self.pts)
        } else if client_pts < self.log_start || client_pts > self.pts {
            (Missed::TooLong, self.pts)
        } else {
            // The log is in pts order: start at the first update the client lacks.
            let first = self.log.partition_point(|logged| logged.pts <= client_pts);
            let taken = &self.log[first..][..(self.log.len() - first).min(limit.max(1))];
            let reached = taken.last().map_or(self.pts, |logged| logged.pts);
            let updates = taken.iter().map(|logged| logged.update.clone()).collect();
            (Missed::Updates(updates), reached)
        }
    }
}

fn unix_now() -> i32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i32)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delete(pts: i32) -> tl::enums::Update {
        tl::types::UpdateDeleteMessages {
            messages: vec![1],
            pts,
            pts_count: 1,
        }
        .into()
    }

    /// A box starting at pts 10 that then logged `n` deletions (pts 11, 12, …).
    fn box_of_deletions(n: usize) -> PtsBox {
        let mut b = PtsBox::starting_at(10);
        for _ in 0..n {
            let pts = b.advance(1);
            b.record(delete(pts));
        }
        b
    }

    #[test]
    fn a_client_gets_exactly_the_updates_after_its_pts() {
        let b = box_of_deletions(3);
        assert_eq!(b.pts(), 13);
        assert_eq!(b.missed_since(13), Missed::Nothing);
        assert_eq!(
            b.missed_since(11),
            Missed::Updates(vec![delete(12), delete(13)])
        );
        assert_eq!(b.missed_since(9), Missed::TooLong);
        assert_eq!(b.missed_since(14), Missed::TooLong);
    }

    #[test]
    fn a_limited_replay_stops_at_the_limit_and_names_the_pts_it_reached() {
        let b = box_of_deletions(5);
        assert_eq!(
            b.missed_up_to(11, 2),
            (Missed::Updates(vec![delete(12), delete(13)]), 13)
        );
        assert_eq!(
            b.missed_up_to(13, 2),
            (Missed::Updates(vec![delete(14), delete(15)]), 15)
        );
        assert_eq!(
            b.missed_up_to(13, 100),
            (Missed::Updates(vec![delete(14), delete(15)]), 15)
        );
        assert_eq!(
            b.missed_up_to(10, 0),
            (Missed::Updates(vec![delete(11)]), 11),
            "a limit below one still makes progress"
        );
        assert_eq!(b.missed_up_to(15, 2), (Missed::Nothing, 15));
        assert_eq!(b.missed_up_to(9, 2), (Missed::TooLong, 15));
    }

    #[test]
    fn clearing_the_log_keeps_pts_and_makes_older_clients_start_over() {
        let mut b = PtsBox::starting_at(1);
        let pts = b.advance(2);
        b.record(delete(pts));
        b.clear_log();
        assert_eq!(b.pts(), 3);
        assert_eq!(b.missed_since(3), Missed::Nothing);
        assert_eq!(b.missed_since(1), Missed::TooLong);
    }

    #[test]
    fn a_long_log_forgets_its_oldest_half() {
        let mut b = PtsBox::starting_at(0);
        for _ in 0..=MAX_LOGGED {
            let pts = b.advance(1);
            b.record(delete(pts));
        }
        assert_eq!(b.missed_since(0), Missed::TooLong);
        let Missed::Updates(recent) = b.missed_since(b.pts() - 5) else {
            panic!("recent updates are kept")
        };
        assert_eq!(recent.len(), 5);
        let Missed::Updates(oldest_kept) = b.missed_since(b.pts() - (MAX_LOGGED / 2) as i32) else {
            panic!("half the log is kept")
        };
        assert_eq!(oldest_kept.len(), MAX_LOGGED / 2);
    }
}
