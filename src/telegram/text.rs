//! Message text: the caller's `parse_mode` applied with grammers' parsers, then checked the way
//! Telegram checks it (UTF-16 code units of the text *after* parsing), so an over-long or
//! empty message is refused before any Telegram call.

use std::panic::{AssertUnwindSafe, catch_unwind};

use grammers_client::parsers::{parse_html_message, parse_markdown_message};
use grammers_tl_types as tl;

use crate::domain::mentions::{html_mentions_ok, markdown_mentions_ok};

use crate::domain::parse_mode::{MAX_TEXT_UTF16, ParseMode, TextError, utf16_len};

/// Text ready for Telegram: what the recipient reads plus its formatting entities.
#[derive(Clone, Debug, PartialEq)]
pub struct FormattedText {
    pub text: String,
    pub entities: Vec<tl::enums::MessageEntity>,
}

impl FormattedText {
    /// Applies `mode` to `raw` and checks the result against Telegram's rules.
    pub fn parse(raw: &str, mode: ParseMode) -> Result<Self, TextError> {
        if raw.trim().is_empty() {
            return Err(TextError::Empty {
                after_parsing: false,
            });
        }
        let (text, entities) = match mode {
            ParseMode::Plain => (raw.to_owned(), Vec::new()),
            ParseMode::Markdown if !markdown_mentions_ok(raw) => {
                return Err(TextError::BadMention { mode: "markdown" });
            }
            ParseMode::Html if !html_mentions_ok(raw) => {
                return Err(TextError::BadMention { mode: "html" });
            }
            ParseMode::Markdown => guarded("markdown", || parse_markdown_message(raw))?,
            ParseMode::Html => guarded("html", || parse_html_message(raw))?,
        };
        if text.trim().is_empty() {
            return Err(TextError::Empty {
                after_parsing: true,
            });
        }
        let length = utf16_len(&text);
        if length > MAX_TEXT_UTF16 {
            return Err(TextError::TooLong { length });
        }
        Ok(Self { text, entities })
    }
}

/// A backstop for input grammers' parsers panic on that [`crate::domain::mentions`] does not catch:
/// the request gets a 400, and the panic hook logs one JSON line (no panic text on stderr).
fn guarded(
    mode: &'static str,
    parse: impl FnOnce() -> (String, Vec<tl::enums::MessageEntity>),
) -> Result<(String, Vec<tl::enums::MessageEntity>), TextError> {
    catch_unwind(AssertUnwindSafe(parse)).map_err(|_| TextError::Unparsable { mode })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entity_kinds(text: &FormattedText) -> Vec<(&'static str, i32, i32)> {
        use tl::enums::MessageEntity as E;
        text.entities
            .iter()
            .map(|e| match e {
                E::Bold(b) => ("bold", b.offset, b.length),
                E::Italic(i) => ("italic", i.offset, i.length),
                E::Code(c) => ("code", c.offset, c.length),
                E::Pre(p) => ("pre", p.offset, p.length),
                E::TextUrl(u) => ("text_url", u.offset, u.length),
                E::Underline(u) => ("underline", u.offset, u.length),
                E::Strike(s) => ("strike", s.offset, s.length),
                _ => ("other", 0, 0),
            })
            .collect()
    }

    #[test]
    fn plain_text_is_sent_as_written_without_entities() {
        let t = FormattedText::parse("**not bold**", ParseMode::Plain).unwrap();
        assert_eq!(t.text, "**not bold**");
        assert!(t.entities.is_empty());
    }

    #[test]
    fn markdown_produces_bold_italic_code_and_link_entities() {
        let t = FormattedText::parse(
            "**bold** *it* `code` [site](https://example.com)",
            ParseMode::Markdown,
        )
        .unwrap();
        assert_eq!(t.text, "bold it code site");
        assert_eq!(
            entity_kinds(&t),
            vec![
                ("bold", 0, 4),
                ("italic", 5, 2),
                ("code", 8, 4),
                ("text_url", 13, 4)
            ]
        );
    }

    #[test]
    fn html_produces_entities_with_utf16_offsets() {
        // The emoji is two UTF-16 code units, so the bold entity starts at 3.
        let t = FormattedText::parse("😀 <b>bold</b> <u>u</u>", ParseMode::Html).unwrap();
        assert_eq!(t.text, "😀 bold u");
        assert_eq!(entity_kinds(&t), vec![("bold", 3, 4), ("underline", 8, 1)]);
    }

    #[test]
    fn length_counts_utf16_code_units_after_parsing() {
        // 4096 emoji are 8192 UTF-16 units although only 4096 chars.
        let emoji = "😀".repeat(2048);
        assert_eq!(utf16_len(&emoji), 4096);
        assert!(FormattedText::parse(&emoji, ParseMode::Plain).is_ok());
        let over = format!("{emoji}x");
        assert_eq!(
            FormattedText::parse(&over, ParseMode::Plain),
            Err(TextError::TooLong { length: 4097 })
        );
        // Markup does not count: 4096 letters inside <b> fit.
        let html = format!("<b>{}</b>", "a".repeat(4096));
        assert!(FormattedText::parse(&html, ParseMode::Html).is_ok());
        assert_eq!(
            FormattedText::parse(&"a".repeat(5000), ParseMode::Markdown),
            Err(TextError::TooLong { length: 5000 })
        );
    }

    #[test]
    fn empty_text_is_rejected_before_and_after_parsing() {
        assert_eq!(
            FormattedText::parse("", ParseMode::Plain),
            Err(TextError::Empty {
                after_parsing: false
            })
        );
        assert_eq!(
            FormattedText::parse(" \n ", ParseMode::Html),
            Err(TextError::Empty {
                after_parsing: false
            })
        );
        assert_eq!(
            FormattedText::parse("<b></b>", ParseMode::Html),
            Err(TextError::Empty {
                after_parsing: true
            })
        );
    }

    #[test]
    fn a_malformed_mention_link_is_an_error_not_a_panic() {
        for mode in [ParseMode::Markdown, ParseMode::Html] {
            let raw = match mode {
                ParseMode::Html => r#"<a href="tg://user?id=abc">x</a>"#,
                _ => "[x](tg://user?id=abc)",
            };
            assert!(matches!(
                FormattedText::parse(raw, mode),
                Err(TextError::BadMention { .. })
            ));
        }
    }
}
