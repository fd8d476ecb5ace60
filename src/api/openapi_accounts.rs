//! The account-scoped routes in the OpenAPI document: every `/v1/…` operation again under
//! `/v1/accounts/{account}/…` (and `/telegram/session/status` as
//! `/v1/accounts/{account}/session/status`), with the `account` parameter and the answers
//! only accounts and scoped keys give (404 `ACCOUNT_NOT_FOUND`, 403 `KEY_SCOPE`).
//!
//! Generated from the documented routes, as the routes themselves are (see
//! [`super::accounts_routes`]), so the two cannot drift apart.

use utoipa::Modify;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::{
    ContentBuilder, ObjectBuilder, OpenApi, Ref, RefOr, Required, ResponseBuilder, Type,
};

/// The document modifier.
pub struct AccountPaths;

/// The account-scoped path for `path`, when it has one.
pub fn account_path(path: &str) -> Option<String> {
    if path == "/telegram/session/status" {
        return Some("/v1/accounts/{account}/session/status".into());
    }
    path.strip_prefix("/v1/")
        .map(|rest| format!("/v1/accounts/{{account}}/{rest}"))
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}

fn error(description: &str) -> RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
        .into()
}

/// Adds the key-scope refusal to an operation (its 403 row, if any, gains the code).
fn add_key_scope(operation: &mut Operation) {
    let responses = &mut operation.responses.responses;
    match responses.get_mut("403") {
        Some(RefOr::T(response)) => {
            response.description = format!(
                "{} — or KEY_SCOPE: the API key may not use this account or chat, or is read-only",
                response.description
            );
        }
        _ => {
            responses.insert(
                "403".into(),
                error("KEY_SCOPE: the API key may not use this account or chat, or is read-only"),
            );
        }
    }
}

impl Modify for AccountPaths {
    fn modify(&self, openapi: &mut OpenApi) {
        let paths = &mut openapi.paths.paths;
        let mut added = Vec::new();
        for (path, item) in paths.iter_mut() {
            let Some(scoped_path) = account_path(path) else {
                continue;
            };
            operations(item).for_each(add_key_scope);
            let mut scoped = item.clone();
            for operation in operations(&mut scoped) {
                let account = ParameterBuilder::new()
                    .name("account")
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .description(Some(
                        "The account: `default` (TG_SESSION) or a name from MTGATE_ACCOUNTS_FILE",
                    ))
                    .schema(Some(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .pattern(Some("^[a-z0-9_-]{1,32}$")),
                    ))
                    .build();
                operation
                    .parameters
                    .get_or_insert_with(Vec::new)
                    .insert(0, account);
                if let Some(id) = &mut operation.operation_id {
                    id.push_str("_for_account");
                }
                operation.responses.responses.insert(
                    "404".into(),
                    error("ACCOUNT_NOT_FOUND (no such account), or the peer or message is unknown"),
                );
            }
            added.push((scoped_path, scoped));
        }
        paths.extend(added);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_and_session_status_paths_have_account_forms_and_others_none() {
        assert_eq!(
            account_path("/v1/messages/{peer}").as_deref(),
            Some("/v1/accounts/{account}/messages/{peer}")
        );
        assert_eq!(
            account_path("/telegram/session/status").as_deref(),
            Some("/v1/accounts/{account}/session/status")
        );
        assert_eq!(account_path("/health"), None);
        assert_eq!(account_path("/metrics"), None);
    }
}
