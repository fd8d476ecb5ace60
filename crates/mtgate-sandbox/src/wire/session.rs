//! Per-MTProto-session server state: the server's seq_no counter and the client msg_ids
//! already seen (duplicates are ignored, as Telegram does).

use std::collections::{HashMap, VecDeque};

/// How many recent client msg_ids are remembered per session.
const REMEMBERED_IDS: usize = 512;
/// Sessions remembered per connection (a client normally uses one).
const MAX_SESSIONS: usize = 16;

/// The sessions one connection has seen, and which one spoke last.
#[derive(Debug, Default)]
pub struct Sessions {
    by_id: HashMap<i64, SessionState>,
    /// The session that last sent an accepted message: where pushed updates go.
    pub current: Option<i64>,
}

impl Sessions {
    /// The session's state, created on first use (forgetting all but the current session
    /// when a client opens too many).
    pub fn get(&mut self, session_id: i64) -> &mut SessionState {
        if !self.by_id.contains_key(&session_id) && self.by_id.len() >= MAX_SESSIONS {
            let current = self.current;
            self.by_id.retain(|id, _| Some(*id) == current);
        }
        self.by_id.entry(session_id).or_default()
    }

    /// Forgets a session; `false` if it was not known.
    pub fn remove(&mut self, session_id: i64) -> bool {
        self.by_id.remove(&session_id).is_some()
    }
}

#[derive(Debug, Default)]
pub struct SessionState {
    /// Content-related messages sent so far; seq_no derives from it.
    content_sent: i32,
    /// Whether `new_session_created` has been sent.
    pub announced: bool,
    recent: VecDeque<i64>,
}

impl SessionState {
    /// MTProto seq_no: twice the content-related messages sent before, plus one if this
    /// message is content-related itself.
    pub fn next_seq_no(&mut self, content_related: bool) -> i32 {
        let seq = self.content_sent * 2;
        if content_related {
            self.content_sent += 1;
            seq + 1
        } else {
            seq
        }
    }

    /// Records a client msg_id; `false` when it was already seen.
    pub fn remember(&mut self, msg_id: i64) -> bool {
        if self.recent.contains(&msg_id) {
            return false;
        }
        if self.recent.len() == REMEMBERED_IDS {
            self.recent.pop_front();
        }
        self.recent.push_back(msg_id);
        true
    }

    pub fn has_seen(&self, msg_id: i64) -> bool {
        self.recent.contains(&msg_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seq_nos_follow_the_spec() {
        let mut s = SessionState::default();
        assert_eq!(s.next_seq_no(true), 1);
        assert_eq!(s.next_seq_no(false), 2);
        assert_eq!(s.next_seq_no(true), 3);
        assert_eq!(s.next_seq_no(true), 5);
        assert_eq!(s.next_seq_no(false), 6);
    }

    #[test]
    fn too_many_sessions_keep_only_the_current_one() {
        let mut sessions = Sessions::default();
        sessions.get(1).next_seq_no(true);
        sessions.current = Some(1);
        for id in 2..=MAX_SESSIONS as i64 {
            sessions.get(id);
        }
        sessions.get(100);
        assert!(sessions.remove(1), "the current session survives");
        assert!(!sessions.remove(2));
        assert!(sessions.remove(100));
    }

    #[test]
    fn duplicate_msg_ids_are_detected() {
        let mut s = SessionState::default();
        assert!(s.remember(4));
        assert!(s.remember(8));
        assert!(!s.remember(4));
        assert!(s.has_seen(8));
        assert!(!s.has_seen(12));
    }
}
