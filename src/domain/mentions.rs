//! Input grammers' text parsers would panic on, found before they run.
//!
//! Both parsers `unwrap` the id of a `tg://user?id=…` mention link. Reading the text with the
//! same parsers (pulldown-cmark, html5ever's tokenizer) sees the link exactly as they will,
//! after escapes and character references, so a bad id is a 400, never a panic.

use std::cell::Cell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer,
};
use html5ever::{local_name, ns};
use pulldown_cmark::{Event, Parser};

/// The link form of a mention by user id.
const MENTION_PREFIX: &str = "tg://user?id=";

/// The first link (in text order) that is a mention with an id that is not a number.
fn bad_mention(url: &str) -> bool {
    url.strip_prefix(MENTION_PREFIX)
        .is_some_and(|id| id.parse::<i64>().is_err())
}

/// Whether every mention link in markdown `raw` carries a numeric id.
pub fn markdown_mentions_ok(raw: &str) -> bool {
    Parser::new(raw).all(|event| match event {
        Event::Start(pulldown_cmark::Tag::Link { dest_url, .. }) => !bad_mention(&dest_url),
        _ => true,
    })
}

/// Whether every `<a href>` mention in HTML `raw` carries a numeric id.
pub fn html_mentions_ok(raw: &str) -> bool {
    struct Sink {
        ok: Cell<bool>,
    }

    impl TokenSink for Sink {
        type Handle = ();

        fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
            if let Token::TagToken(Tag {
                kind: TagKind::StartTag,
                name,
                attrs,
                ..
            }) = token
                && name == local_name!("a")
            {
                // grammers reads the first `href` only, and "" when there is none.
                let href = attrs
                    .iter()
                    .find(|a| a.name.ns == ns!() && a.name.local == local_name!("href"))
                    .map_or("", |a| &a.value);
                if bad_mention(href) {
                    self.ok.set(false);
                }
            }
            TokenSinkResult::Continue
        }
    }

    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(raw));
    let tokenizer = Tokenizer::new(
        Sink {
            ok: Cell::new(true),
        },
        Default::default(),
    );
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    tokenizer.sink.ok.get()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_mentions_and_ordinary_links_pass() {
        assert!(markdown_mentions_ok(
            "[ada](tg://user?id=42) and [site](https://e.com)"
        ));
        assert!(markdown_mentions_ok("plain tg://user?id=abc is not a link"));
        assert!(html_mentions_ok(
            r#"<a href="tg://user?id=-7">x</a> <a>y</a> <b>z</b>"#
        ));
    }

    #[test]
    fn a_mention_whose_id_is_not_a_number_is_caught() {
        assert!(!markdown_mentions_ok("[x](tg://user?id=abc)"));
        assert!(!markdown_mentions_ok(
            "ok [a](tg://user?id=1) bad [b](tg://user?id=)"
        ));
        assert!(!markdown_mentions_ok(
            "[x](tg://user?id=99999999999999999999)"
        ));
        assert!(!html_mentions_ok(r#"<a href="tg://user?id=abc">x</a>"#));
        assert!(!html_mentions_ok(r#"<a href='tg://user?id=1x'>x</a>"#));
    }

    #[test]
    fn escapes_and_character_references_are_seen_as_the_parsers_see_them() {
        assert!(!html_mentions_ok(
            r#"<a href="&#116;g://user?id=abc">x</a>"#
        ));
        assert!(html_mentions_ok(r#"<a href="tg://user?id=&#49;">x</a>"#));
        assert!(!markdown_mentions_ok(r"[x](tg://user?id=a\bc)"));
        assert!(!markdown_mentions_ok("[x][r]\n\n[r]: tg://user?id=abc"));
    }
}
