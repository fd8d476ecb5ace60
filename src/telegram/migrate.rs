//! Following Telegram's `*_MIGRATE_X` answers (code 303) for ordinary calls.
//!
//! grammers 0.11 follows them only while signing in (`PHONE_MIGRATE`/`USER_MIGRATE` in
//! `sign_in`/`bot_sign_in`) and for file downloads (`FILE_MIGRATE`); any other call hands the
//! 303 back. mtgate follows them here for every call it makes:
//! - `USER_MIGRATE`, `PHONE_MIGRATE`, `NETWORK_MIGRATE`: the account's home is DC X now —
//!   carry the authorization there, make X the home DC, and repeat the call there.
//! - `FILE_MIGRATE`, `STATS_MIGRATE`: this one call belongs in DC X — carry the authorization
//!   there (once per DC) and repeat the call there; the home DC stays.
//!
//! Which addresses DC X has comes from the session's DC table (Telegram's published list for
//! a real session; the one pinned address for a sandbox session).

use std::future::Future;

use grammers_mtsender::InvocationError;

/// Most DC switches one call may make (Telegram never chains more than one or two).
const MAX_HOPS: usize = 3;

/// What a 303 asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Migration {
    /// The account lives in this DC from now on.
    Home(i32),
    /// Only this call goes to this DC.
    Once(i32),
}

/// The migration an error asks for, if it is a `*_MIGRATE_X`.
pub fn migration(error: &InvocationError) -> Option<Migration> {
    let InvocationError::Rpc(rpc) = error else {
        return None;
    };
    if rpc.code != 303 {
        return None;
    }
    let dc = i32::try_from(rpc.value?).ok()?;
    match rpc.name.as_str() {
        "USER_MIGRATE" | "PHONE_MIGRATE" | "NETWORK_MIGRATE" => Some(Migration::Home(dc)),
        "FILE_MIGRATE" | "STATS_MIGRATE" => Some(Migration::Once(dc)),
        _ => None,
    }
}

/// The DC bookkeeping a migration needs (grammers' client and session, or a test double).
pub trait DataCentres {
    fn home_dc(&self) -> i32;
    fn set_home_dc(&self, dc_id: i32) -> impl Future<Output = Result<(), InvocationError>>;
    /// Makes the account's authorization valid in `dc_id` (no-op when it already is).
    fn authorize_in(&self, dc_id: i32) -> impl Future<Output = Result<(), InvocationError>>;
}

/// Runs `call(dc)` in the home DC, following at most [`MAX_HOPS`] migrations.
pub async fn follow<T, C, Fut>(dcs: &impl DataCentres, mut call: C) -> Result<T, InvocationError>
where
    C: FnMut(i32) -> Fut,
    Fut: Future<Output = Result<T, InvocationError>>,
{
    let mut dc = dcs.home_dc();
    let mut hops = 0;
    loop {
        let error = match call(dc).await {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        let next = match migration(&error) {
            Some(Migration::Home(to) | Migration::Once(to)) if to != dc && hops < MAX_HOPS => to,
            _ => return Err(error),
        };
        hops += 1;
        tracing::info!(
            from_dc = dc,
            to_dc = next,
            "Telegram moved the call to another DC"
        );
        // Boxed: the authorization exchange's future holds whole TL answers (kilobytes),
        // and inline it would enlarge every call's future, migrating or not.
        Box::pin(dcs.authorize_in(next)).await?;
        if matches!(migration(&error), Some(Migration::Home(_))) {
            dcs.set_home_dc(next).await?;
        }
        dc = next;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use grammers_mtsender::RpcError;

    use super::*;

    fn rpc(code: i32, name: &str, value: Option<u32>) -> InvocationError {
        InvocationError::Rpc(RpcError {
            code,
            name: name.into(),
            value,
            caused_by: None,
        })
    }

    /// Records every DC switch and authorization.
    struct FakeDcs {
        home: Mutex<i32>,
        authorized: Mutex<Vec<i32>>,
    }

    impl FakeDcs {
        fn at(home: i32) -> Self {
            Self {
                home: Mutex::new(home),
                authorized: Mutex::new(Vec::new()),
            }
        }
    }

    impl DataCentres for FakeDcs {
        fn home_dc(&self) -> i32 {
            *self.home.lock().unwrap()
        }
        async fn set_home_dc(&self, dc_id: i32) -> Result<(), InvocationError> {
            *self.home.lock().unwrap() = dc_id;
            Ok(())
        }
        async fn authorize_in(&self, dc_id: i32) -> Result<(), InvocationError> {
            self.authorized.lock().unwrap().push(dc_id);
            Ok(())
        }
    }

    #[tokio::test]
    async fn user_migrate_moves_the_home_dc_and_repeats_the_call_there() {
        let dcs = FakeDcs::at(2);
        let calls = Mutex::new(Vec::new());
        let answer = follow(&dcs, |dc| {
            calls.lock().unwrap().push(dc);
            async move {
                match dc {
                    2 => Err(rpc(303, "USER_MIGRATE", Some(4))),
                    _ => Ok(dc),
                }
            }
        })
        .await
        .unwrap();
        assert_eq!(answer, 4);
        assert_eq!(*calls.lock().unwrap(), [2, 4]);
        assert_eq!(dcs.home_dc(), 4);
        assert_eq!(*dcs.authorized.lock().unwrap(), [4]);
    }

    #[tokio::test]
    async fn file_migrate_sends_one_call_elsewhere_and_keeps_the_home_dc() {
        let dcs = FakeDcs::at(2);
        let answer = follow(&dcs, |dc| async move {
            match dc {
                2 => Err(rpc(303, "FILE_MIGRATE", Some(5))),
                _ => Ok(dc),
            }
        })
        .await
        .unwrap();
        assert_eq!(answer, 5);
        assert_eq!(dcs.home_dc(), 2);
        assert_eq!(*dcs.authorized.lock().unwrap(), [5]);
    }

    #[tokio::test]
    async fn other_errors_and_endless_migrations_come_back_unchanged() {
        let dcs = FakeDcs::at(2);
        let flood = follow(&dcs, |_| async {
            Err::<(), _>(rpc(420, "FLOOD_WAIT", Some(3)))
        });
        assert!(matches!(flood.await, Err(InvocationError::Rpc(r)) if r.code == 420));
        let ping_pong = follow(&dcs, |dc| async move {
            let to = if dc == 2 { 3 } else { 2 };
            Err::<(), _>(rpc(303, "NETWORK_MIGRATE", Some(to)))
        });
        assert!(matches!(ping_pong.await, Err(InvocationError::Rpc(r)) if r.code == 303));
        assert_eq!(dcs.authorized.lock().unwrap().len(), MAX_HOPS);
    }

    #[test]
    fn only_migrate_errors_with_a_dc_are_migrations() {
        assert_eq!(
            migration(&rpc(303, "PHONE_MIGRATE", Some(1))),
            Some(Migration::Home(1))
        );
        assert_eq!(
            migration(&rpc(303, "STATS_MIGRATE", Some(3))),
            Some(Migration::Once(3))
        );
        assert_eq!(migration(&rpc(303, "USER_MIGRATE", None)), None);
        assert_eq!(migration(&rpc(400, "USER_MIGRATE", Some(2))), None);
    }
}
