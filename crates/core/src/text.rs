//! What text custody takes in, and how it shows text back (issue 13,
//! point 7). Identifiers (subjects, organisation ids, labels) hold no
//! control characters and no bidirectional overrides, which would let a
//! name read one way on a terminal or a page and mean another ("Trojan
//! Source", CVE-2021-42574); data fields hold no control characters but tab
//! and line breaks, which a postal address may carry. Whatever custody
//! echoes to a terminal goes through [`printable`], so that text read from a
//! file cannot move the cursor, clear the screen or set the window title.
//!
//! The limits are documented in the README (Limits); readers stop at them
//! rather than growing to fit what they are given.

use std::borrow::Cow;

/// The longest row (a CSV record, header included) custody reads: 1 MiB.
pub const ROW_LIMIT: usize = 1 << 20;
/// The longest field of a row: 64 KiB.
pub const FIELD_LIMIT: usize = 64 << 10;
/// The longest subject identifier, organisation id or label: 256 bytes.
pub const IDENTIFIER_LIMIT: usize = 256;
/// The largest notice source (TOML or YAML): 1 MiB.
pub const NOTICE_LIMIT: usize = 1 << 20;
/// The largest collection mapping: 64 KiB.
pub const MAPPING_LIMIT: usize = 64 << 10;
/// The largest history file (`history import`): 16 MiB.
pub const HISTORY_LIMIT: usize = 16 << 20;

/// Unicode's bidirectional embeddings, overrides and isolates.
fn bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Why `s` cannot be an identifier, or `None`.
pub fn identifier_problem(s: &str) -> Option<String> {
    let printable_ascii = |b: &u8| (0x20..0x7f).contains(b);
    if s.len() <= IDENTIFIER_LIMIT && s.as_bytes().iter().all(printable_ascii) {
        return None;
    }
    if s.len() > IDENTIFIER_LIMIT {
        return Some(format!(
            "is {} bytes long; an identifier is at most {IDENTIFIER_LIMIT}",
            s.len()
        ));
    }
    let c = s.chars().find(|c| c.is_control() || bidi_control(*c))?;
    Some(format!(
        "holds the control character {}, which an identifier may not",
        named(c)
    ))
}

/// Why `s` cannot be a data field, or `None`.
pub fn field_problem(s: &str) -> Option<String> {
    // The common case in a byte scan: every control character's UTF-8
    // holds a byte below 0x20, 0x7F, or 0xC2 (U+0080 to U+009F).
    let plain = |b: &u8| *b >= 0x20 && *b != 0x7f && *b != 0xc2;
    if s.len() <= FIELD_LIMIT && s.as_bytes().iter().all(plain) {
        return None;
    }
    if s.len() > FIELD_LIMIT {
        return Some(format!(
            "is {} bytes long; a field is at most {} KiB",
            s.len(),
            FIELD_LIMIT >> 10
        ));
    }
    let c = s
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))?;
    Some(format!(
        "holds the control character {}, which a field may not",
        named(c)
    ))
}

/// `c` as the reader should see it: `U+001B`.
fn named(c: char) -> String {
    format!("U+{:04X}", c as u32)
}

/// `s` with every control character and bidirectional control but line
/// breaks and tab written as `\u{…}`, so that it shows as the characters it
/// holds.
pub fn printable(s: &str) -> Cow<'_, str> {
    let hidden = |c: char| (c.is_control() && !matches!(c, '\n' | '\t')) || bidi_control(c);
    if !s.chars().any(hidden) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if hidden(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_and_fields() {
        // (text, as identifier, as field): whether each is refused.
        let cases: &[(&str, bool, bool)] = &[
            ("mother-0001", false, false),
            ("Zoë Ng", false, false),
            ("12 High St\nLeeds", true, false),
            ("a\tb", true, false),
            ("a\u{1b}[2Jb", true, true),
            ("a\u{0}b", true, true),
            ("a\u{7f}b", true, true),
            ("a\u{85}b", true, true),
            ("admin\u{202E}nimda", true, false),
            ("a\u{2066}b", true, false),
        ];
        for (text, as_id, as_field) in cases {
            assert_eq!(
                identifier_problem(text).is_some(),
                *as_id,
                "{text:?} as identifier"
            );
            assert_eq!(
                field_problem(text).is_some(),
                *as_field,
                "{text:?} as field"
            );
        }
        assert!(identifier_problem(&"x".repeat(IDENTIFIER_LIMIT)).is_none());
        assert!(identifier_problem(&"x".repeat(IDENTIFIER_LIMIT + 1)).is_some());
        assert!(field_problem(&"x".repeat(FIELD_LIMIT + 1)).is_some());
        assert_eq!(
            identifier_problem("a\u{1b}b").unwrap(),
            "holds the control character U+001B, which an identifier may not"
        );
    }

    #[test]
    fn printable_escapes_what_a_terminal_would_act_on() {
        let cases = [
            ("plain", "plain"),
            ("two\nlines\tand tab", "two\nlines\tand tab"),
            ("\u{1b}]0;owned\u{7}", "\\u{1b}]0;owned\\u{7}"),
            ("cr\rback", "cr\\u{d}back"),
            ("admin\u{202E}nimda", "admin\\u{202e}nimda"),
        ];
        for (text, shown) in cases {
            assert_eq!(printable(text), shown, "{text:?}");
        }
        assert!(matches!(printable("plain"), Cow::Borrowed(_)));
    }
}
