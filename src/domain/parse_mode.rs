//! Message text as callers give it: how it is to be read, and why it may not be sendable.
//! Parsing it into Telegram's entities is `telegram::text`'s job.

use serde::{Deserialize, Serialize};

/// Telegram's limit for one text message, in UTF-16 code units.
pub const MAX_TEXT_UTF16: usize = 4096;

/// How `text` is to be read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ParseMode {
    /// Sent as written; Telegram itself still links URLs and mentions.
    #[default]
    Plain,
    /// CommonMark (`**bold**`, `*italic*`, `` `code` ``, `[text](url)`, fenced code blocks).
    Markdown,
    /// HTML tags (`<b>`, `<i>`, `<u>`, `<s>`, `<code>`, `<pre>`, `<a href>`, `<blockquote>`…).
    Html,
}

/// Why a text cannot be sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("`text` is empty{}", if *.after_parsing { " after applying parse_mode" } else { "" })]
    Empty { after_parsing: bool },
    #[error(
        "the text is {length} UTF-16 code units long after parsing; Telegram allows at most {MAX_TEXT_UTF16}"
    )]
    TooLong { length: usize },
    #[error("the {mode} text could not be parsed (check its links and mentions)")]
    Unparsable { mode: &'static str },
    #[error("the {mode} text has a tg://user?id= mention whose id is not a number")]
    BadMention { mode: &'static str },
}

/// The length of `text` as Telegram counts it.
pub fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_mode_reads_the_contract_names() {
        for (name, mode) in [
            ("plain", ParseMode::Plain),
            ("markdown", ParseMode::Markdown),
            ("html", ParseMode::Html),
        ] {
            assert_eq!(
                serde_json::from_str::<ParseMode>(&format!("\"{name}\"")).unwrap(),
                mode
            );
        }
        assert!(serde_json::from_str::<ParseMode>("\"MarkdownV2\"").is_err());
    }

    #[test]
    fn length_is_counted_in_utf16_code_units() {
        assert_eq!(utf16_len("a😀"), 3);
        assert_eq!(utf16_len(""), 0);
    }
}
