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
    for c in s.chars() {
        // What comes before `c` is what was printed: after an escape, a
        // joiner no longer follows the symbol it was meant to join.
        if !escaped(c, out.chars().next_back()) {
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
    fn what_drives_the_terminal_or_shows_as_nothing_becomes_visible_text() {
        for (stored, shown) in [
            // Invisible characters become visible, but emoji keep their
            // joiners.
            ("a\u{200b}b", "a\\u{200b}b"),
            ("\u{feff}bank", "\\u{feff}bank"),
            ("x\u{200e}y\u{200f}", "x\\u{200e}y\\u{200f}"),
            ("a\u{200d}b", "a\\u{200d}b"),
            ("👩\u{200d}💻 ❤\u{fe0f}", "👩\u{200d}💻 ❤\u{fe0f}"),
            // An escape sequence becomes visible text.
            ("a\x1b[2Jb", "a\\x1b[2Jb"),
            // Tab and ordinary Unicode pass through.
            ("Zoë\tКарта 💳", "Zoë\tКарта 💳"),
            // DEL, C1 controls and bidi overrides are escaped.
            ("\x7f\u{9b}\u{202e}", "\\x7f\\u{9b}\\u{202e}"),
            // A joiner after an escaped character joins nothing.
            ("\u{202e}\u{fe0f}", "\\u{202e}\\u{fe0f}"),
            ("¶\u{fe0e}", "¶\u{fe0e}"),
        ] {
            assert_eq!(sanitize(stored), shown, "{stored:?}");
        }
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
            let shown = sanitize(&s);
            prop_assert!(shown.chars().all(|c| !c.is_control() || c == '\t'));
            // Nothing left to escape: what remains invisible is an emoji's
            // joiner right after the symbol it joins.
            prop_assert!(matches!(sanitize(&shown), Cow::Borrowed(_)), "{shown:?}");
        }

        #[test]
        fn json_safe_output_parses_to_the_same_string(s in any::<String>()) {
            let safe = json_safe(serde_json::to_string(&s).expect("json"));
            prop_assert!(safe.chars().all(|c| !c.is_control()));
            prop_assert_eq!(serde_json::from_str::<String>(&safe).expect("parse"), s);
        }
    }
}
