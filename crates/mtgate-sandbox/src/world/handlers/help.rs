//! `help.*`: what a client asks right after connecting.

use grammers_tl_types::{self as tl, Serializable};

use super::{Ctx, Reply, SANDBOX_DC};
use crate::world::to_tl;

pub fn get_config(ctx: &mut Ctx, _: tl::functions::help::GetConfig) -> Reply {
    Ok(to_tl::config(ctx.now, SANDBOX_DC).to_bytes())
}

pub fn get_nearest_dc(_: &mut Ctx, _: tl::functions::help::GetNearestDc) -> Reply {
    Ok(tl::enums::NearestDc::Dc(tl::types::NearestDc {
        country: "US".into(),
        this_dc: SANDBOX_DC,
        nearest_dc: SANDBOX_DC,
    })
    .to_bytes())
}
