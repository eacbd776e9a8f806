//! Makes stored text safe to print: stored data never drives the terminal.
//!
//! C0 controls (except tab), DEL, C1 controls, and the Unicode bidirectional
//! overrides are replaced by visible escapes (`\x1b`, `\u{9b}`, `\u{202e}`).

use std::borrow::Cow;

fn needs_escape(c: char) -> bool {
    (c.is_control() && c != '\t') || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` with every terminal-driving character replaced by a visible escape.
pub fn sanitize(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !needs_escape(c) {
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
            out.push_str(&format!("\\u{:04x}", c as u32));
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
