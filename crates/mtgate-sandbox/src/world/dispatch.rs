//! Unwrapping a call down to the method it carries: `invokeWithLayer`, `initConnection`,
//! `invokeWithoutUpdates` and `invokeAfterMsg(s)` only wrap the real query.

use grammers_tl_types::{self as tl, Cursor, Deserializable, Identifiable};

/// The rest of a buffer, unparsed: the `query:!X` inside a wrapper.
struct RawQuery(Vec<u8>);

impl Deserializable for RawQuery {
    fn deserialize(buf: &mut Cursor) -> tl::deserialize::Result<Self> {
        let mut rest = Vec::new();
        buf.read_to_end(&mut rest)?;
        Ok(RawQuery(rest))
    }
}

fn inner<W: Deserializable>(body: &[u8], query: impl Fn(W) -> RawQuery) -> Option<Vec<u8>> {
    W::from_bytes(&body[4..]).ok().map(|w| query(w).0)
}

/// The innermost method body (constructor id first), or `None` if a wrapper is malformed.
pub fn peel(body: &[u8]) -> Option<Vec<u8>> {
    use tl::functions as f;
    let mut body = body.to_vec();
    loop {
        let id = u32::from_le_bytes(body.get(..4)?.try_into().ok()?);
        body = match id {
            f::InvokeWithLayer::<()>::CONSTRUCTOR_ID => {
                inner(&body, |w: f::InvokeWithLayer<RawQuery>| w.query)?
            }
            f::InitConnection::<()>::CONSTRUCTOR_ID => {
                inner(&body, |w: f::InitConnection<RawQuery>| w.query)?
            }
            f::InvokeWithoutUpdates::<()>::CONSTRUCTOR_ID => {
                inner(&body, |w: f::InvokeWithoutUpdates<RawQuery>| w.query)?
            }
            f::InvokeAfterMsg::<()>::CONSTRUCTOR_ID => {
                inner(&body, |w: f::InvokeAfterMsg<RawQuery>| w.query)?
            }
            f::InvokeAfterMsgs::<()>::CONSTRUCTOR_ID => {
                inner(&body, |w: f::InvokeAfterMsgs<RawQuery>| w.query)?
            }
            _ => return Some(body),
        };
    }
}

/// What a client says about itself in `initConnection` (shown by `account.getAuthorizations`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientInfo {
    pub api_id: i32,
    pub device_model: String,
    pub system_version: String,
    pub app_version: String,
}

/// The `initConnection` a call carries (inside `invokeWithLayer`), if any.
pub fn client_info(body: &[u8]) -> Option<ClientInfo> {
    use tl::functions as f;
    let mut body = body.to_vec();
    loop {
        let id = u32::from_le_bytes(body.get(..4)?.try_into().ok()?);
        match id {
            f::InvokeWithLayer::<()>::CONSTRUCTOR_ID => {
                body = inner(&body, |w: f::InvokeWithLayer<RawQuery>| w.query)?;
            }
            f::InitConnection::<()>::CONSTRUCTOR_ID => {
                let init = f::InitConnection::<RawQuery>::from_bytes(&body[4..]).ok()?;
                return Some(ClientInfo {
                    api_id: init.api_id,
                    device_model: init.device_model,
                    system_version: init.system_version,
                    app_version: init.app_version,
                });
            }
            _ => return None,
        }
    }
}

/// The layer an outer `invokeWithLayer` announces, if the call starts with one.
pub fn announced_layer(body: &[u8]) -> Option<i32> {
    let id = u32::from_le_bytes(body.get(..4)?.try_into().ok()?);
    if id != tl::functions::InvokeWithLayer::<()>::CONSTRUCTOR_ID {
        return None;
    }
    Some(i32::from_le_bytes(body.get(4..8)?.try_into().ok()?))
}

/// The TL name of a method (`messages.sendMessage`), or its hex id when unknown.
pub fn method_name(constructor_id: u32) -> String {
    match tl::name_for_id(constructor_id) {
        "(unknown)" => format!("0x{constructor_id:08x}"),
        name => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use grammers_tl_types::Serializable;

    #[test]
    fn wrappers_are_peeled_down_to_the_method() {
        let query = tl::functions::help::GetConfig {};
        let wrapped = tl::functions::InvokeWithLayer {
            layer: tl::LAYER,
            query: tl::functions::InitConnection {
                api_id: 1,
                device_model: "d".into(),
                system_version: "s".into(),
                app_version: "a".into(),
                system_lang_code: "en".into(),
                lang_pack: "".into(),
                lang_code: "en".into(),
                proxy: None,
                params: None,
                query: tl::functions::InvokeWithoutUpdates {
                    query: query.clone(),
                },
            },
        };
        assert_eq!(peel(&wrapped.to_bytes()), Some(query.to_bytes()));
        assert_eq!(peel(&query.to_bytes()), Some(query.to_bytes()));
        assert_eq!(peel(&[1, 2]), None);
    }

    #[test]
    fn init_connection_tells_who_the_client_is() {
        let wrapped = tl::functions::InvokeWithLayer {
            layer: tl::LAYER,
            query: tl::functions::InitConnection {
                api_id: 7,
                device_model: "laptop".into(),
                system_version: "linux".into(),
                app_version: "1.0".into(),
                system_lang_code: "en".into(),
                lang_pack: "".into(),
                lang_code: "en".into(),
                proxy: None,
                params: None,
                query: tl::functions::help::GetConfig {},
            },
        };
        let info = client_info(&wrapped.to_bytes()).expect("initConnection is found");
        assert_eq!(
            (
                info.api_id,
                info.device_model.as_str(),
                info.app_version.as_str()
            ),
            (7, "laptop", "1.0")
        );
        assert_eq!(
            client_info(&tl::functions::help::GetConfig {}.to_bytes()),
            None
        );
    }

    #[test]
    fn the_announced_layer_is_read_from_invoke_with_layer_only() {
        let wrapped = tl::functions::InvokeWithLayer {
            layer: 133,
            query: tl::functions::help::GetConfig {},
        };
        assert_eq!(announced_layer(&wrapped.to_bytes()), Some(133));
        assert_eq!(
            announced_layer(&tl::functions::help::GetConfig {}.to_bytes()),
            None
        );
        assert_eq!(announced_layer(&[1]), None);
    }

    #[test]
    fn method_names_are_tl_names() {
        assert_eq!(
            method_name(<tl::functions::messages::SendMessage as Identifiable>::CONSTRUCTOR_ID),
            "messages.sendMessage"
        );
        assert_eq!(method_name(0x0bad_f00d), "0x0badf00d");
    }
}
