//! The one writer task for learned state (peers, usernames, update state). Callers queue
//! writes without waiting — the grammers session and the resolver learn peers from sync code
//! and on every update — and the task applies whatever is queued in one transaction, in the
//! order it was queued, so a burst of updates costs one commit, not one each. The queue is
//! unbounded so a sync caller never blocks; it drains at commit speed, far above the rate
//! Telegram sends updates.

use std::sync::Arc;

use sqlx::AnyPool;
use tokio::sync::{mpsc, oneshot};

use super::{StoreError, peers, updates};

/// Most writes applied in one transaction.
const MAX_BATCH: usize = 512;

/// A queued write.
pub(super) enum Write {
    Peers {
        account: Arc<str>,
        peers: Vec<peers::PeerRecord>,
    },
    Username {
        account: Arc<str>,
        username: String,
        peer_id: i64,
    },
    UpdateState {
        account: Arc<str>,
        change: updates::UpdateChange,
    },
    /// Answered once everything queued before it is committed (`false` if some of it failed).
    Flush(oneshot::Sender<bool>),
}

/// Runs until every sender is dropped.
pub(super) async fn run(pool: AnyPool, mut queue: mpsc::UnboundedReceiver<Write>) {
    let mut batch = Vec::new();
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (writes, flushes): (Vec<_>, Vec<_>) =
            batch.drain(..).partition(|w| !matches!(w, Write::Flush(_)));
        let ok = writes.is_empty() || commit(&pool, &writes).await;
        for flush in flushes {
            if let Write::Flush(done) = flush {
                // The flusher may have given up waiting; nothing to tell then.
                let _ = done.send(ok);
            }
        }
    }
}

/// Applies `writes` in one transaction; if that fails, one by one so a single bad write does
/// not lose the others. Returns whether everything was stored.
async fn commit(pool: &AnyPool, writes: &[Write]) -> bool {
    if apply_all(pool, writes).await.is_ok() {
        return true;
    }
    let mut ok = true;
    for write in writes {
        if let Err(e) = apply_all(pool, std::slice::from_ref(write)).await {
            tracing::error!(error = %e, what = write.what(), "could not store learned state");
            ok = false;
        }
    }
    ok
}

async fn apply_all(pool: &AnyPool, writes: &[Write]) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    for write in writes {
        match write {
            Write::Peers {
                account,
                peers: list,
            } => {
                for peer in list {
                    peers::upsert(&mut tx, account, peer).await?;
                }
            }
            Write::Username {
                account,
                username,
                peer_id,
            } => peers::index_username(&mut tx, account, username, *peer_id).await?,
            Write::UpdateState { account, change } => {
                updates::apply(&mut tx, account, change).await?;
            }
            Write::Flush(_) => {}
        }
    }
    tx.commit().await?;
    Ok(())
}

impl Write {
    /// What the write is about, for logs (no ids or names).
    fn what(&self) -> &'static str {
        match self {
            Self::Peers { .. } => "peers",
            Self::Username { .. } => "username",
            Self::UpdateState { .. } => "update state",
            Self::Flush(_) => "flush",
        }
    }
}
