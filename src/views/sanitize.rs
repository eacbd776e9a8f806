//! Makes stored text safe to print: stored data never drives the terminal.
//!
//! C0 controls (except tab), DEL, C1 controls, the Unicode bidirectional
//! overrides and marks, and the characters that show as nothing (zero-width
//! spaces and joiners outside emoji, a BOM, soft hyphens) are replaced by
//! visible escapes (`\x1b`, `\u{9b}`, `\u{202e}`, `\u{200b}`).

use std::borrow::Cow;

use crate::domain::{emoji_glue, invisible};

fn needs_escape(c: char) -> bool {
    (c.is_control() && c != '\t') || invisible(c) || matches!(c, '\u{2028}' | '\u{2029}')
}

/// Whether `c`, after `before`, is escaped: emoji keep their joiners.
fn escaped(c: char, before: Option<char>) -> bool {
    needs_escape(c) && !emoji_glue(c, before)
}

/// `s` with every terminal-driving or invisible character replaced by a
/// visible escape.
pub fn sanitize(s: &str) -> Cow<'_, str> {
    let mut before = None;
    if !s.chars().any(|c| escaped(c, before.replace(c))) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    let mut before = None;
    for c in s.chars() {
        if !escaped(c, before.replace(c)) {
            out.push(c);
        } else if (c as u32) < 0x80 {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
    }
    Cow::Owned(out)
}

/// Escapes DEL and C1 controls in serialised JSON (serde_json leaves them raw;
/// it already escapes C0). Only string contents can hold them, so the result
/// is still valid JSON with the same meaning.
pub fn json_safe(json: String) -> String {
    if !json
        .chars()
        .any(|c| ('\u{7f}'..='\u{9f}').contains(&c) || needs_escape(c) && c > '\u{9f}')
    {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 8);
    for c in json.chars() {
        if ('\u{7f}'..='\u{9f}').contains(&c) || (needs_escape(c) && c > '\u{9f}') {
            // JSON escapes UTF-16 units: beyond the BMP, a surrogate pair.
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn invisible_characters_become_visible_but_emoji_keep_their_joiners() {
        assert_eq!(sanitize("a\u{200b}b"), "a\\u{200b}b");
        assert_eq!(sanitize("\u{feff}bank"), "\\u{feff}bank");
        assert_eq!(sanitize("x\u{200e}y\u{200f}"), "x\\u{200e}y\\u{200f}");
        assert_eq!(sanitize("a\u{200d}b"), "a\\u{200d}b");
        assert_eq!(sanitize("👩\u{200d}💻 ❤\u{fe0f}"), "👩\u{200d}💻 ❤\u{fe0f}");
    }

    #[test]
    fn an_escape_sequence_becomes_visible_text() {
        assert_eq!(sanitize("a\x1b[2Jb"), "a\\x1b[2Jb");
    }

    #[test]
    fn tab_and_ordinary_unicode_pass_through() {
        assert_eq!(sanitize("Zoë\tКарта 💳"), "Zoë\tКарта 💳");
    }

    #[test]
    fn del_c1_and_bidi_overrides_are_escaped() {
        assert_eq!(sanitize("\x7f\u{9b}\u{202e}"), "\\x7f\\u{9b}\\u{202e}");
    }

    #[test]
    fn json_keeps_meaning_but_loses_raw_c1() {
        let raw = serde_json::to_string("x\u{9b}y\u{7f}").expect("json");
        let safe = json_safe(raw);
        assert!(!safe.contains('\u{9b}'));
        assert_eq!(
            serde_json::from_str::<String>(&safe).expect("parse"),
            "x\u{9b}y\u{7f}"
        );
    }

    proptest! {
        #[test]
        fn sanitized_text_holds_no_control_character_but_tab(s in any::<String>()) {
            prop_assert!(sanitize(&s).chars().all(|c| c == '\t' || !needs_escape(c)));
        }

        #[test]
        fn json_safe_output_parses_to_the_same_string(s in any::<String>()) {
            let safe = json_safe(serde_json::to_string(&s).expect("json"));
            prop_assert!(safe.chars().all(|c| !c.is_control()));
            prop_assert_eq!(serde_json::from_str::<String>(&safe).expect("parse"), s);
        }
    }
}
