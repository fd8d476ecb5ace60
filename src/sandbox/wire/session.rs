//! Per-MTProto-session server state: the server's seq_no counter and the client msg_ids
//! already seen (duplicates are ignored, as Telegram does).

use std::collections::VecDeque;

/// How many recent client msg_ids are remembered per session.
const REMEMBERED_IDS: usize = 512;

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
    fn duplicate_msg_ids_are_detected() {
        let mut s = SessionState::default();
        assert!(s.remember(4));
        assert!(s.remember(8));
        assert!(!s.remember(4));
        assert!(s.has_seen(8));
        assert!(!s.has_seen(12));
    }
}
