//! Telegram's leniency on argument types: it accepts `inputPeerChannel` where a method's
//! schema says `InputChannel`, and `inputPeerUser` / `inputPeerSelf` where it says
//! `InputUser`, and widely used clients rely on that. The TL decoder is strict, so the
//! request bytes are rewritten first: the lenient constructors carry exactly the fields of
//! the strict ones, so swapping the constructor id is the whole conversion.

use grammers_tl_types::{self as tl, Identifiable};

const VECTOR: u32 = 0x1cb5_c415;

fn id_at(body: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(body.get(at..at + 4)?.try_into().ok()?))
}

fn set_id(body: &mut [u8], at: usize, id: u32) {
    body[at..at + 4].copy_from_slice(&id.to_le_bytes());
}

/// Rewrites an `InputChannel` at `at`; returns the offset after it, if it could be read.
fn channel_at(body: &mut [u8], at: usize) -> Option<usize> {
    let id = id_at(body, at)?;
    if id == tl::types::InputPeerChannel::CONSTRUCTOR_ID {
        set_id(body, at, tl::types::InputChannel::CONSTRUCTOR_ID);
        Some(at + 20)
    } else if id == tl::types::InputChannel::CONSTRUCTOR_ID {
        Some(at + 20)
    } else if id == tl::types::InputChannelEmpty::CONSTRUCTOR_ID {
        Some(at + 4)
    } else {
        None
    }
}

/// Rewrites an `InputUser` at `at`; returns the offset after it, if it could be read.
fn user_at(body: &mut [u8], at: usize) -> Option<usize> {
    let id = id_at(body, at)?;
    if id == tl::types::InputPeerUser::CONSTRUCTOR_ID {
        set_id(body, at, tl::types::InputUser::CONSTRUCTOR_ID);
        Some(at + 20)
    } else if id == tl::types::InputPeerSelf::CONSTRUCTOR_ID {
        set_id(body, at, tl::types::InputUserSelf::CONSTRUCTOR_ID);
        Some(at + 4)
    } else if id == tl::types::InputUser::CONSTRUCTOR_ID {
        Some(at + 20)
    } else if id == tl::types::InputUserSelf::CONSTRUCTOR_ID
        || id == tl::types::InputUserEmpty::CONSTRUCTOR_ID
    {
        Some(at + 4)
    } else {
        None
    }
}

/// Rewrites each element of a vector at `at` with `element` until one cannot be read.
fn vector_at(body: &mut [u8], at: usize, element: fn(&mut [u8], usize) -> Option<usize>) {
    if id_at(body, at) != Some(VECTOR) {
        return;
    }
    let Some(count) = id_at(body, at + 4) else {
        return;
    };
    let mut next = at + 8;
    for _ in 0..count {
        match element(body, next) {
            Some(after) => next = after,
            None => return,
        }
    }
}

/// Rewrites the lenient argument variants of `body` (constructor id first) in place. Bodies
/// of other methods, and anything that does not parse, are left for the decoder to judge.
pub fn normalize(body: &mut [u8]) {
    use tl::functions as f;
    let Some(method) = id_at(body, 0) else {
        return;
    };
    match method {
        f::channels::GetMessages::CONSTRUCTOR_ID
        | f::channels::DeleteMessages::CONSTRUCTOR_ID
        | f::channels::ReadHistory::CONSTRUCTOR_ID
        | f::channels::GetFullChannel::CONSTRUCTOR_ID => {
            channel_at(body, 4);
        }
        f::channels::GetChannels::CONSTRUCTOR_ID => vector_at(body, 4, channel_at),
        f::users::GetUsers::CONSTRUCTOR_ID => vector_at(body, 4, user_at),
        f::users::GetFullUser::CONSTRUCTOR_ID => {
            user_at(body, 4);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use grammers_tl_types::{Deserializable, Serializable};

    fn peer_channel() -> tl::enums::InputPeer {
        tl::types::InputPeerChannel {
            channel_id: 77,
            access_hash: -5,
        }
        .into()
    }

    /// `method` with its first argument's bytes replaced by `arg` (same length or not).
    fn with_first_arg(method: Vec<u8>, strict_len: usize, arg: Vec<u8>) -> Vec<u8> {
        [&method[..4], &arg, &method[4 + strict_len..]].concat()
    }

    #[test]
    fn an_input_peer_channel_is_read_as_an_input_channel() {
        let strict = tl::functions::channels::GetMessages {
            channel: tl::types::InputChannel {
                channel_id: 77,
                access_hash: -5,
            }
            .into(),
            id: vec![tl::types::InputMessageId { id: 3 }.into()],
        };
        let mut lenient = with_first_arg(strict.to_bytes(), 20, peer_channel().to_bytes());
        assert!(tl::functions::channels::GetMessages::from_bytes(&lenient[4..]).is_err());
        normalize(&mut lenient);
        assert_eq!(lenient, strict.to_bytes());
    }

    #[test]
    fn input_peer_users_and_self_in_a_vector_are_read_as_input_users() {
        let strict = tl::functions::users::GetUsers {
            id: vec![
                tl::types::InputUser {
                    user_id: 9,
                    access_hash: 4,
                }
                .into(),
                tl::enums::InputUser::UserSelf,
            ],
        };
        let lenient_items: Vec<tl::enums::InputPeer> = vec![
            tl::types::InputPeerUser {
                user_id: 9,
                access_hash: 4,
            }
            .into(),
            tl::enums::InputPeer::PeerSelf,
        ];
        let mut lenient = [
            &tl::functions::users::GetUsers::CONSTRUCTOR_ID.to_le_bytes()[..],
            &lenient_items.to_bytes(),
        ]
        .concat();
        normalize(&mut lenient);
        assert_eq!(lenient, strict.to_bytes());
    }

    #[test]
    fn full_user_and_full_channel_accept_peers() {
        let strict = tl::functions::users::GetFullUser {
            id: tl::enums::InputUser::UserSelf,
        };
        let mut lenient = with_first_arg(
            strict.to_bytes(),
            4,
            tl::enums::InputPeer::PeerSelf.to_bytes(),
        );
        normalize(&mut lenient);
        assert_eq!(lenient, strict.to_bytes());
        let strict = tl::functions::channels::GetFullChannel {
            channel: tl::types::InputChannel {
                channel_id: 77,
                access_hash: -5,
            }
            .into(),
        };
        let mut lenient = with_first_arg(strict.to_bytes(), 20, peer_channel().to_bytes());
        normalize(&mut lenient);
        assert_eq!(lenient, strict.to_bytes());
    }

    #[test]
    fn other_methods_and_truncated_bodies_are_left_alone() {
        let send = tl::functions::messages::ReadHistory {
            peer: peer_channel(),
            max_id: 0,
        }
        .to_bytes();
        let mut copy = send.clone();
        normalize(&mut copy);
        assert_eq!(copy, send);
        let mut short = tl::functions::users::GetUsers::CONSTRUCTOR_ID.to_le_bytes()[..3].to_vec();
        normalize(&mut short);
        let mut vector_cut = [
            &tl::functions::users::GetUsers::CONSTRUCTOR_ID.to_le_bytes()[..],
            &VECTOR.to_le_bytes(),
            &5u32.to_le_bytes(),
            &tl::types::InputPeerUser::CONSTRUCTOR_ID.to_le_bytes(),
        ]
        .concat();
        normalize(&mut vector_cut);
    }
}
