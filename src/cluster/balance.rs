//! How many accounts a replica should hold, and which ones to try for: pure decisions, so
//! the lease loop is only plumbing around them.

/// Each live replica's fair share of `accounts`: all of them split evenly, rounded up so
/// that the live replicas together can always hold every account.
pub fn fair_share(accounts: usize, live_replicas: usize) -> usize {
    accounts.div_ceil(live_replicas.max(1))
}

/// The accounts to try to take this round: free ones (`free[i]`), in an order that differs
/// per replica (so replicas starting together do not all race for the same account first),
/// at most `want` of them.
pub fn to_acquire<'a>(free: &[&'a str], replica_id: &str, want: usize) -> Vec<&'a str> {
    if free.is_empty() || want == 0 {
        return Vec::new();
    }
    let start = (stable_hash(replica_id) % free.len() as u64) as usize;
    free.iter()
        .cycle()
        .skip(start)
        .take(free.len())
        .take(want)
        .copied()
        .collect()
}

/// FNV-1a: stable across processes and versions (the std hasher is randomly seeded).
fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_share_covers_every_account_and_grows_as_replicas_go() {
        assert_eq!(fair_share(2, 3), 1);
        assert_eq!(fair_share(2, 1), 2);
        assert_eq!(fair_share(5, 2), 3);
        assert_eq!(fair_share(4, 2), 2);
        assert_eq!(fair_share(0, 3), 0);
        assert_eq!(
            fair_share(3, 0),
            3,
            "no live replica seen: take what is free"
        );
    }

    #[test]
    fn candidates_are_free_accounts_at_most_the_wanted_number() {
        let free = ["a", "b", "c"];
        let picked = to_acquire(&free, "replica-1", 2);
        assert_eq!(picked.len(), 2);
        assert!(picked.iter().all(|p| free.contains(p)));
        assert_ne!(picked[0], picked[1]);
        assert_eq!(to_acquire(&free, "replica-1", 9).len(), 3);
        assert!(to_acquire(&free, "replica-1", 0).is_empty());
        assert!(to_acquire(&[], "replica-1", 2).is_empty());
    }

    #[test]
    fn replicas_start_from_different_accounts() {
        let free = ["a", "b", "c", "d", "e", "f", "g", "h"];
        let firsts: std::collections::HashSet<&str> = (0..8)
            .map(|i| to_acquire(&free, &format!("replica-{i}"), 1)[0])
            .collect();
        assert!(firsts.len() > 1, "{firsts:?}");
    }
}
