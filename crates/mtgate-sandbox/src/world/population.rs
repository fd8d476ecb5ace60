//! More people and groups for load tests and benchmarks (`POST /population`): the fixed
//! world has a handful of chats; a broadcast to fifty needs more. Added users are
//! `@crowdNNN_sandbox`, added supergroups (owned by the account) `@crowdNNN_chat`; they last
//! until the next reset.

use rand::Rng;

use super::World;
use super::fixture::ChannelKind;
use super::model::{ChannelRecord, UserRecord};
use super::pts::PtsBox;

/// First id of added users and of added supergroups.
const FIRST_USER: i64 = 5_100_001;
const FIRST_GROUP: i64 = 1_600_000_001;

/// Most users or groups one world may gain.
pub const MAX_ADDED: u32 = 1000;

impl World {
    /// Makes sure `users` added users and `groups` added supergroups exist (calling it again
    /// with the same counts adds nothing); returns their `@usernames`, in order.
    pub fn populate(&self, users: u32, groups: u32) -> (Vec<String>, Vec<String>) {
        let users = users.min(MAX_ADDED);
        let groups = groups.min(MAX_ADDED);
        let mut state = self.lock();
        let now = super::now();
        let mut rng = rand::thread_rng();
        let mut user_names = Vec::new();
        for i in 0..i64::from(users) {
            let id = FIRST_USER + i;
            let username = format!("crowd{:03}_sandbox", i + 1);
            state.users.entry(id).or_insert_with(|| UserRecord {
                id,
                access_hash: rng.gen_range(1..i64::MAX),
                first_name: format!("Crowd {}", i + 1),
                last_name: None,
                username: username.clone(),
                phone: None,
            });
            user_names.push(format!("@{username}"));
        }
        let mut group_names = Vec::new();
        for i in 0..i64::from(groups) {
            let id = FIRST_GROUP + i;
            let username = format!("crowd{:03}_chat", i + 1);
            if let std::collections::btree_map::Entry::Vacant(slot) = state.channels.entry(id) {
                slot.insert(ChannelRecord {
                    id,
                    access_hash: rng.gen_range(1..i64::MAX),
                    title: format!("Crowd Chat {}", i + 1),
                    username: username.clone(),
                    kind: ChannelKind::OwnedSupergroup,
                    date: now - 3600,
                });
                state.channel_boxes.insert(id, PtsBox::starting_at(1));
            }
            group_names.push(format!("@{username}"));
        }
        (user_names, group_names)
    }
}
