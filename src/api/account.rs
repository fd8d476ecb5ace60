//! Which account a request acts on: the one seam handlers get their [`Account`] from.
//!
//! Today every route means the default account; `/v1/accounts/{account}/…` routes will pick
//! theirs here (404 `ACCOUNT_NOT_FOUND` for an unknown name), with no handler changing.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::{ApiError, AppState};
use crate::accounts::Account;

/// The account this request acts on.
pub struct CurrentAccount(pub Arc<Account>);

impl FromRequestParts<AppState> for CurrentAccount {
    type Rejection = ApiError;

    async fn from_request_parts(_: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(Self(state.accounts.default().clone()))
    }
}
