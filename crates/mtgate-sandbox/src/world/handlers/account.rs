//! `account.getAuthorizations`: the account's logged-in sessions, one per auth key logged in
//! as it. Device details are not recorded from `initConnection`: every session reports the
//! same sandbox client.

use grammers_tl_types::{self as tl, Serializable};

use super::{Ctx, Reply};
use crate::world::fixture::ME_ID;

pub fn get_authorizations(ctx: &mut Ctx, _: tl::functions::account::GetAuthorizations) -> Reply {
    let authorizations = ctx
        .state
        .keys_of(ME_ID)
        .into_iter()
        .map(|key| {
            let current = key == ctx.key_id;
            tl::types::Authorization {
                current,
                official_app: false,
                password_pending: false,
                encrypted_requests_disabled: false,
                call_requests_disabled: false,
                unconfirmed: false,
                // Telegram gives the current session hash 0 (it cannot be terminated by hash).
                hash: if current { 0 } else { key },
                device_model: "sandbox client".into(),
                platform: "sandbox".into(),
                system_version: "sandbox".into(),
                api_id: 0,
                app_name: "mtgate sandbox".into(),
                app_version: env!("CARGO_PKG_VERSION").into(),
                date_created: ctx.now,
                date_active: ctx.now,
                ip: "127.0.0.1".into(),
                country: "Sandbox".into(),
                region: String::new(),
            }
            .into()
        })
        .collect();
    Ok(
        tl::enums::account::Authorizations::Authorizations(tl::types::account::Authorizations {
            authorization_ttl_days: 180,
            authorizations,
        })
        .to_bytes(),
    )
}
