//! Server-side entity detection: Telegram marks URLs, @mentions, #hashtags, /bot_commands,
//! emails and phone numbers in what users send, whatever formatting the client gave. Offsets
//! and lengths count UTF-16 code units, as every Telegram entity does.
//!
//! The rules are a faithful-enough subset of Telegram's: scheme and `www.` URLs, bare
//! domains with a common top-level domain, `+` phone numbers of 7 to 15 digits.

use grammers_tl_types as tl;

/// What kind of entity a detected span is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detected {
    Url,
    Mention,
    Hashtag,
    BotCommand,
    Email,
    Phone,
}

/// Top-level domains a bare `name.tld` must end in to count as a link.
const TLDS: &[&str] = &[
    "com", "org", "net", "io", "dev", "app", "me", "info", "biz", "edu", "gov", "co", "ai", "ru",
    "de", "uk", "fr", "it", "es", "nl", "eu", "us", "ca", "in", "jp", "cn", "br", "au", "ch", "se",
    "tv", "xyz", "online", "site", "tech", "org.uk",
];

/// Punctuation that ends a sentence rather than a link.
const TRAILING: &[char] = &['.', ',', ';', ':', '!', '?', ')', ']', '"', '\'', '>'];

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn is_username_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Every entity in `text`, in order, as (kind, start, end) over `chars` indices.
fn scan(chars: &[char]) -> Vec<(Detected, usize, usize)> {
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let boundary = i == 0 || !is_word(chars[i - 1]);
        let hit = if boundary {
            match chars[i] {
                '@' => mention(chars, i).map(|end| (Detected::Mention, end)),
                '#' => hashtag(chars, i).map(|end| (Detected::Hashtag, end)),
                '/' if i == 0 || chars[i - 1].is_whitespace() => {
                    bot_command(chars, i).map(|end| (Detected::BotCommand, end))
                }
                '+' => phone(chars, i).map(|end| (Detected::Phone, end)),
                c if c.is_alphanumeric() => url_with_scheme(chars, i)
                    .map(|end| (Detected::Url, end))
                    .or_else(|| email(chars, i).map(|end| (Detected::Email, end)))
                    .or_else(|| bare_url(chars, i).map(|end| (Detected::Url, end))),
                _ => None,
            }
        } else {
            None
        };
        match hit {
            Some((kind, end)) => {
                found.push((kind, i, end));
                i = end;
            }
            None => i += 1,
        }
    }
    found
}

/// Index after the run of chars from `from` matching `ok`.
fn run(chars: &[char], from: usize, ok: impl Fn(char) -> bool) -> usize {
    chars[from..]
        .iter()
        .position(|&c| !ok(c))
        .map_or(chars.len(), |n| from + n)
}

fn mention(chars: &[char], at: usize) -> Option<usize> {
    let end = run(chars, at + 1, is_username_char);
    let name: String = chars[at + 1..end].iter().collect();
    super::peers::is_valid_username(&name).then_some(end)
}

fn hashtag(chars: &[char], at: usize) -> Option<usize> {
    let end = run(chars, at + 1, is_word);
    let tag = &chars[at + 1..end];
    // Telegram needs a letter: "#1" is a number, not a tag.
    (tag.iter().any(|c| c.is_alphabetic() || *c == '_') && tag.len() <= 256).then_some(end)
}

fn bot_command(chars: &[char], at: usize) -> Option<usize> {
    let mut end = run(chars, at + 1, is_username_char);
    if end == at + 1 || end - at - 1 > 64 || !chars[at + 1].is_ascii_alphabetic() {
        return None;
    }
    if chars.get(end) == Some(&'@') {
        let bot_end = run(chars, end + 1, is_username_char);
        if bot_end > end + 1 {
            end = bot_end;
        }
    }
    // "/usr/bin" is a path, not a command.
    (chars.get(end) != Some(&'/')).then_some(end)
}

fn phone(chars: &[char], at: usize) -> Option<usize> {
    let mut digits = 0;
    let mut end = at + 1;
    let mut last_digit_end = at + 1;
    while let Some(&c) = chars.get(end) {
        if c.is_ascii_digit() {
            digits += 1;
            end += 1;
            last_digit_end = end;
        } else if matches!(c, ' ' | '-' | '(' | ')')
            && chars
                .get(end + 1)
                .is_some_and(|n| n.is_ascii_digit() || *n == '(')
        {
            end += 1;
        } else {
            break;
        }
    }
    let followed_by_word = chars.get(last_digit_end).is_some_and(|c| is_word(*c));
    ((7..=15).contains(&digits) && !followed_by_word).then_some(last_digit_end)
}

/// The end of a link body starting at `from`: up to whitespace, minus trailing punctuation.
fn link_end(chars: &[char], from: usize) -> usize {
    let mut end = run(chars, from, |c| !c.is_whitespace());
    while end > from && TRAILING.contains(&chars[end - 1]) {
        end -= 1;
    }
    end
}

fn starts_with_ignore_case(chars: &[char], at: usize, prefix: &str) -> bool {
    let mut i = at;
    for p in prefix.chars() {
        match chars.get(i) {
            Some(c) if c.eq_ignore_ascii_case(&p) => i += 1,
            _ => return false,
        }
    }
    true
}

fn url_with_scheme(chars: &[char], at: usize) -> Option<usize> {
    let scheme = ["https://", "http://", "tg://", "ftp://"]
        .into_iter()
        .find(|s| starts_with_ignore_case(chars, at, s))?;
    let body = at + scheme.len();
    let end = link_end(chars, body);
    (end > body && chars[body].is_alphanumeric()).then_some(end)
}

/// `label.label.tld` starting at `at`; returns the end of the host and its last label.
fn domain(chars: &[char], at: usize) -> Option<(usize, String)> {
    let end = run(chars, at, |c| c.is_alphanumeric() || c == '-' || c == '.');
    let mut end = end;
    while end > at && matches!(chars[end - 1], '.' | '-') {
        end -= 1;
    }
    let host: String = chars[at..end].iter().collect();
    let labels: Vec<&str> = host.split('.').collect();
    if labels.len() < 2 || labels.iter().any(|l| l.is_empty()) {
        return None;
    }
    Some((end, labels[labels.len() - 1].to_ascii_lowercase()))
}

fn bare_url(chars: &[char], at: usize) -> Option<usize> {
    let (host_end, tld) = domain(chars, at)?;
    let known = TLDS.contains(&tld.as_str()) || starts_with_ignore_case(chars, at, "www.");
    if !known
        || chars
            .get(host_end)
            .is_some_and(|c| is_word(*c) || *c == '@')
    {
        return None;
    }
    match chars.get(host_end) {
        Some('/' | ':' | '?' | '#') => Some(link_end(chars, host_end).max(host_end)),
        _ => Some(host_end),
    }
}

fn email(chars: &[char], at: usize) -> Option<usize> {
    let local_end = run(chars, at, |c| {
        c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-')
    });
    if chars.get(local_end) != Some(&'@') || local_end == at {
        return None;
    }
    let (end, tld) = domain(chars, local_end + 1)?;
    (tld.len() >= 2 && tld.chars().all(|c| c.is_alphabetic())).then_some(end)
}

/// The entities Telegram would detect in `text`, with UTF-16 offsets.
pub fn detect(text: &str) -> Vec<(Detected, i32, i32)> {
    let chars: Vec<char> = text.chars().collect();
    let mut utf16_at = Vec::with_capacity(chars.len() + 1);
    let mut offset = 0i32;
    for c in &chars {
        utf16_at.push(offset);
        offset += c.len_utf16() as i32;
    }
    utf16_at.push(offset);
    scan(&chars)
        .into_iter()
        .map(|(kind, start, end)| (kind, utf16_at[start], utf16_at[end] - utf16_at[start]))
        .collect()
}

fn to_tl(kind: Detected, offset: i32, length: i32) -> tl::enums::MessageEntity {
    use tl::enums::MessageEntity as E;
    use tl::types as t;
    match kind {
        Detected::Url => E::Url(t::MessageEntityUrl { offset, length }),
        Detected::Mention => E::Mention(t::MessageEntityMention { offset, length }),
        Detected::Hashtag => E::Hashtag(t::MessageEntityHashtag { offset, length }),
        Detected::BotCommand => E::BotCommand(t::MessageEntityBotCommand { offset, length }),
        Detected::Email => E::Email(t::MessageEntityEmail { offset, length }),
        Detected::Phone => E::Phone(t::MessageEntityPhone { offset, length }),
    }
}

/// Formatting that may overlap a detected entity (a bold link stays a link).
fn is_formatting(entity: &tl::enums::MessageEntity) -> bool {
    use tl::enums::MessageEntity as E;
    matches!(
        entity,
        E::Bold(_)
            | E::Italic(_)
            | E::Underline(_)
            | E::Strike(_)
            | E::Spoiler(_)
            | E::Blockquote(_)
    )
}

/// The client's entities plus what Telegram detects in `text`, in offset order. Detection
/// never reaches into code, pre, text links or other entities the client set itself.
pub fn with_detected(
    text: &str,
    given: Vec<tl::enums::MessageEntity>,
) -> Vec<tl::enums::MessageEntity> {
    let mut all = given;
    for (kind, offset, length) in detect(text) {
        let overlaps = all.iter().any(|e| {
            !is_formatting(e) && e.offset() < offset + length && offset < e.offset() + e.length()
        });
        if !overlaps {
            all.push(to_tl(kind, offset, length));
        }
    }
    all.sort_by_key(|e| e.offset());
    all
}

#[cfg(test)]
mod tests {
    use super::Detected::*;
    use super::*;

    fn spans(text: &str) -> Vec<(Detected, String)> {
        let units: Vec<u16> = text.encode_utf16().collect();
        detect(text)
            .into_iter()
            .map(|(kind, offset, length)| {
                let span = &units[offset as usize..(offset + length) as usize];
                (kind, String::from_utf16(span).unwrap())
            })
            .collect()
    }

    fn one(kind: Detected, s: &str) -> Vec<(Detected, String)> {
        vec![(kind, s.to_string())]
    }

    #[test]
    fn urls_with_a_scheme_stop_before_trailing_punctuation() {
        assert_eq!(
            spans("see https://example.com/a?b=1."),
            one(Url, "https://example.com/a?b=1")
        );
        assert_eq!(spans("(http://x.org/path)"), one(Url, "http://x.org/path"));
        assert_eq!(spans("https:// nothing"), vec![]);
    }

    #[test]
    fn bare_domains_need_a_known_top_level_domain() {
        assert_eq!(spans("visit example.com today"), one(Url, "example.com"));
        assert_eq!(spans("www.example.test/x"), one(Url, "www.example.test/x"));
        assert_eq!(spans("open file.txt now"), vec![]);
        assert_eq!(spans("e.g. this"), vec![]);
    }

    #[test]
    fn offsets_count_utf16_units_after_emoji_and_cjk() {
        // 🎉 is two UTF-16 units, 字 one.
        let text = "🎉字 @alice_sandbox";
        assert_eq!(detect(text), vec![(Mention, 4, 14)]);
        assert_eq!(spans(text), one(Mention, "@alice_sandbox"));
    }

    #[test]
    fn mentions_follow_username_rules_and_emails_are_not_mentions() {
        assert_eq!(spans("hi @bob_sandbox!"), one(Mention, "@bob_sandbox"));
        assert_eq!(spans("hi @ab"), vec![]);
        assert_eq!(
            spans("mail sandy@example.com"),
            one(Email, "sandy@example.com")
        );
        assert_eq!(spans("a@b"), vec![]);
    }

    #[test]
    fn hashtags_need_a_letter_and_a_word_boundary() {
        assert_eq!(spans("#rust and #1"), one(Hashtag, "#rust"));
        assert_eq!(spans("issue#12x"), vec![]);
        assert_eq!(spans("#привет"), one(Hashtag, "#привет"));
    }

    #[test]
    fn bot_commands_start_a_word_and_may_name_a_bot() {
        assert_eq!(spans("/start"), one(BotCommand, "/start"));
        assert_eq!(
            spans("try /help@my_bot now"),
            one(BotCommand, "/help@my_bot")
        );
        assert_eq!(spans("see /usr/bin"), vec![]);
        assert_eq!(spans("a/b"), vec![]);
    }

    #[test]
    fn phone_numbers_have_seven_to_fifteen_digits() {
        assert_eq!(
            spans("call +1 555 010-0001."),
            one(Phone, "+1 555 010-0001")
        );
        assert_eq!(spans("+123"), vec![]);
        assert_eq!(spans("+1234567890123456"), vec![]);
    }

    #[test]
    fn several_entities_come_in_order() {
        let kinds: Vec<Detected> = detect("@sandy_box #tag https://t.me /cmd x@y.io")
            .into_iter()
            .map(|(k, _, _)| k)
            .collect();
        assert_eq!(kinds, vec![Mention, Hashtag, Url, BotCommand, Email]);
    }

    #[test]
    fn detection_keeps_out_of_code_but_overlaps_formatting() {
        let code = tl::enums::MessageEntity::Code(tl::types::MessageEntityCode {
            offset: 0,
            length: 11,
        });
        let bold = tl::enums::MessageEntity::Bold(tl::types::MessageEntityBold {
            offset: 12,
            length: 11,
        });
        let all = with_detected("example.com example.org", vec![code.clone(), bold.clone()]);
        assert_eq!(all.len(), 3);
        assert_eq!(all[0], code);
        assert!(all.contains(&bold));
        assert!(
            all.iter()
                .any(|e| matches!(e, tl::enums::MessageEntity::Url(u) if u.offset == 12))
        );
    }

    #[test]
    fn arbitrary_text_never_panics() {
        for text in [
            "", "@", "#", "/", "+", "http://", "a.", ".com", "+(((", "x@.com", "é@ü.de",
        ] {
            let _ = with_detected(text, Vec::new());
        }
    }
}
