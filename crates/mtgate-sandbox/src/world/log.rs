//! The request log: one entry per API call the world handled, in order, for tests to assert on
//! (`GET /requests`).

use serde::Serialize;

/// One handled call. `peer` is the Bot-API-style id of the chat the call was about (when it
/// names one); `text` is present only for text-bearing calls.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RequestLogEntry {
    /// The TL method name, e.g. `messages.sendMessage`.
    pub method: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The chat action of `messages.setTyping` (its TL name, e.g. `sendMessageTypingAction`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    pub ok: bool,
    /// The rpc_error name (`FLOOD_WAIT_1`, `PEER_ID_INVALID`…) when `ok` is false.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What a handler tells the log about the call besides its outcome.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallFacts {
    pub peer: Option<i64>,
    pub text: Option<String>,
    pub action: Option<String>,
}
