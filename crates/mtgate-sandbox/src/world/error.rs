//! The world's one error type: an rpc_error as Telegram would send it.

/// `rpc_error{code, message}`; the name is Telegram's SCREAMING_SNAKE error name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RpcErr {
    pub code: i32,
    pub name: String,
}

impl RpcErr {
    /// 400: the request is wrong.
    pub fn bad(name: &str) -> Self {
        RpcErr {
            code: 400,
            name: name.to_string(),
        }
    }

    /// 401: the key is not (or no longer) authorized, or login needs another step.
    pub fn unauthorized(name: &str) -> Self {
        RpcErr {
            code: 401,
            name: name.to_string(),
        }
    }

    /// 403: the account may not do this.
    pub fn forbidden(name: &str) -> Self {
        RpcErr {
            code: 403,
            name: name.to_string(),
        }
    }
}
