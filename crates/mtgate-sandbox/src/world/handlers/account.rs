//! `account.getAuthorizations`: the account's logged-in sessions, one per auth key logged in
//! as it, each described by what its client said in `initConnection`.

use grammers_tl_types::{self as tl, Serializable};

use super::{Ctx, Reply};
use crate::world::dispatch::ClientInfo;
use crate::world::fixture::ME_ID;

pub fn get_authorizations(ctx: &mut Ctx, _: tl::functions::account::GetAuthorizations) -> Reply {
    let authorizations = ctx
        .state
        .keys_of(ME_ID)
        .into_iter()
        .map(|key| {
            let current = key == ctx.key_id;
            let client = ctx.state.keys[&key].client.clone();
            let said = |f: fn(&ClientInfo) -> &str| {
                client
                    .as_ref()
                    .map_or("unknown".to_string(), |c| f(c).to_string())
            };
            tl::types::Authorization {
                current,
                official_app: false,
                password_pending: false,
                encrypted_requests_disabled: false,
                call_requests_disabled: false,
                unconfirmed: false,
                // Telegram gives the current session hash 0 (it cannot be terminated by hash).
                hash: if current { 0 } else { key },
                device_model: said(|c| &c.device_model),
                platform: said(|c| &c.system_version),
                system_version: said(|c| &c.system_version),
                api_id: client.as_ref().map_or(0, |c| c.api_id),
                app_name: "unofficial app".into(),
                app_version: said(|c| &c.app_version),
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
