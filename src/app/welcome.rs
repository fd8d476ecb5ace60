//! What `serve --sandbox` tells the person who started it, on stdout.
//!
//! The first line is always the contract's JSON line, so scripts read it with `head -1 | jq`.
//! After it comes a curl example: one bare line when stdout is a pipe or a file (scripts),
//! a framed banner when it is a terminal, so the essentials stand apart from the logs.

use serde_json::json;

/// Everything the welcome text names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Welcome {
    pub base_url: String,
    pub api_key: String,
    pub control_url: String,
    /// The peer of the curl example (the sandbox's own account).
    pub peer: String,
    /// Set when the default port was busy and another one was taken.
    pub port_note: Option<String>,
}

impl Welcome {
    /// The contract's line, plus the sandbox's control URL.
    pub fn json_line(&self) -> String {
        json!({
            "base_url": self.base_url,
            "api_key": self.api_key,
            "control_url": self.control_url,
        })
        .to_string()
    }

    /// A ready-to-paste send through mtgate into the sandbox.
    pub fn curl(&self) -> String {
        let body = json!({ "peer": self.peer, "text": "Hello from mtgate!" });
        format!(
            "curl -sS -X POST '{}/v1/messages' -H 'Authorization: Bearer {}' \
             -H 'Content-Type: application/json' -d '{body}'",
            self.base_url, self.api_key
        )
    }

    /// The whole text: the JSON line, then the curl line (`terminal == false`) or the banner.
    pub fn render(&self, terminal: bool) -> String {
        if !terminal {
            return format!("{}\n{}\n", self.json_line(), self.curl());
        }
        let rule = "─".repeat(72);
        let note = self
            .port_note
            .as_ref()
            .map(|n| format!("  Note         {n}\n"))
            .unwrap_or_default();
        format!(
            "{json}\n\n{rule}\n  mtgate is serving a sandbox Telegram\n\n\
             \x20 Base URL     {base}\n\
             \x20 API key      {key}\n\
             \x20 Control URL  {control}   (what \"Telegram\" received)\n\
             {note}\n\
             \x20 Send a message (paste it into another terminal):\n\n\
             {curl}\n\n\
             \x20 See what the sandbox holds:  curl -sS '{control}/chats/{peer}/messages'\n\
             \x20 Logs follow on stderr; Ctrl-C stops.\n{rule}\n",
            json = self.json_line(),
            base = self.base_url,
            key = self.api_key,
            control = self.control_url,
            curl = self.curl(),
            peer = self.peer,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn welcome() -> Welcome {
        Welcome {
            base_url: "http://127.0.0.1:8000".into(),
            api_key: "sandbox-k".into(),
            control_url: "http://127.0.0.1:9000".into(),
            peer: "@sandy".into(),
            port_note: None,
        }
    }

    #[test]
    fn the_first_line_is_the_json_line_on_a_pipe_and_on_a_terminal() {
        for terminal in [false, true] {
            let text = welcome().render(terminal);
            let first: serde_json::Value =
                serde_json::from_str(text.lines().next().unwrap()).unwrap();
            assert_eq!(first["base_url"], "http://127.0.0.1:8000");
            assert_eq!(first["api_key"], "sandbox-k");
            assert_eq!(first["control_url"], "http://127.0.0.1:9000");
        }
    }

    #[test]
    fn a_pipe_gets_exactly_the_json_line_and_the_curl_line() {
        let text = welcome().render(false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[1].starts_with("curl -sS -X POST 'http://127.0.0.1:8000/v1/messages'"));
        assert!(lines[1].contains("Bearer sandbox-k"));
        assert!(lines[1].ends_with(r#"-d '{"peer":"@sandy","text":"Hello from mtgate!"}'"#));
    }

    #[test]
    fn the_banner_names_every_address_the_key_and_a_busy_port() {
        let mut welcome = welcome();
        welcome.port_note = Some("127.0.0.1:8000 was busy".into());
        let text = welcome.render(true);
        for part in [
            "Base URL     http://127.0.0.1:8000",
            "API key      sandbox-k",
            "Control URL  http://127.0.0.1:9000",
            "Note         127.0.0.1:8000 was busy",
            &welcome.curl(),
            "/chats/@sandy/messages",
        ] {
            assert!(text.contains(part), "{part:?} missing from:\n{text}");
        }
        assert!(!text.contains('\u{1b}'), "no escape codes");
    }
}
