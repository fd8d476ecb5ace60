//! `GET /telegram/session/status`: who the session is logged in as, fetched live so the
//! answer is the truth of this moment (and a revoked key is noticed right here).

use axum::Json;
use axum::Router;
use axum::routing::get;
use serde::Serialize;

use super::account::CurrentAccount;
use super::{ApiError, AppState};
use crate::domain::SessionInfo;

pub fn routes() -> Router<AppState> {
    Router::new().route("/telegram/session/status", get(status))
}

/// The contract's status body.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct SessionStatus {
    pub status: &'static str,
    pub user_id: i64,
    pub username: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub is_bot: bool,
    pub dc_id: i32,
}

impl SessionStatus {
    pub fn new(SessionInfo { me, dc_id }: SessionInfo) -> Self {
        Self {
            status: "connected",
            user_id: me.id,
            username: me.username,
            first_name: me.first_name,
            last_name: me.last_name,
            phone: me.phone.as_deref().map(mask_phone),
            is_bot: me.is_bot,
            dc_id,
        }
    }
}

/// Replaces every digit but the last four with `*` (all of them when there are four or
/// fewer), keeping other characters such as a leading `+`.
pub fn mask_phone(phone: &str) -> String {
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    let keep_from = if digits > 4 { digits - 4 } else { digits };
    let mut seen = 0;
    phone
        .chars()
        .map(|c| {
            if c.is_ascii_digit() {
                seen += 1;
                if seen <= keep_from { '*' } else { c }
            } else {
                c
            }
        })
        .collect()
}

async fn status(CurrentAccount(account): CurrentAccount) -> Result<Json<SessionStatus>, ApiError> {
    Ok(Json(SessionStatus::new(account.session_info().await?)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::SelfUser;

    #[test]
    fn only_the_last_four_digits_of_the_phone_show() {
        assert_eq!(mask_phone("15551234567"), "*******4567");
        assert_eq!(mask_phone("+44 7700 900123"), "+** **** **0123");
        assert_eq!(mask_phone("1234"), "****");
        assert_eq!(mask_phone(""), "");
    }

    #[test]
    fn the_status_body_masks_the_phone() {
        let me = SelfUser {
            id: 5,
            username: Some("alice".into()),
            first_name: Some("Alice".into()),
            last_name: None,
            phone: Some("15550001111".into()),
            is_bot: false,
        };
        let body = serde_json::to_value(SessionStatus::new(SessionInfo { me, dc_id: 2 })).unwrap();
        assert_eq!(body["status"], "connected");
        assert_eq!(body["user_id"], 5);
        assert_eq!(body["phone"], "*******1111");
        assert_eq!(body["dc_id"], 2);
        assert!(body["last_name"].is_null());
    }
}
