//! Decoding the raw bytes an SSH client sends into [`Key`]s.
//!
//! [`KeyDecoder`] is a small state machine: a UTF-8 character, an escape
//! sequence, a `\r\n` pair or a bracketed paste may arrive split across
//! several packets, so the decoder remembers what it has seen between calls
//! to [`KeyDecoder::feed`]. Every buffer it keeps is bounded, and no input
//! makes it panic.

use zeroize::Zeroize;

/// One decoded key press (or a whole bracketed paste).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    /// A printable character (never a control character).
    Char(char),
    /// `\r`, `\n`, `\r\n` or `\r\0`.
    Enter,
    /// DEL (0x7f) or Ctrl-H (0x08).
    Backspace,
    /// `ESC [ 3 ~`.
    Delete,
    /// Left arrow or Ctrl-B.
    Left,
    /// Right arrow or Ctrl-F.
    Right,
    /// Up arrow or Ctrl-P.
    Up,
    /// Down arrow or Ctrl-N.
    Down,
    /// Home key (several encodings).
    Home,
    /// End key (several encodings).
    End,
    /// 0x09.
    Tab,
    /// 0x01.
    CtrlA,
    /// 0x03.
    CtrlC,
    /// 0x04.
    CtrlD,
    /// 0x05.
    CtrlE,
    /// 0x0b.
    CtrlK,
    /// 0x0c.
    CtrlL,
    /// 0x15.
    CtrlU,
    /// 0x17.
    CtrlW,
    /// The text of a bracketed paste: decoded lossily, each line break
    /// (`\r\n`, `\r` or `\n`) as one `\n`, control characters other than
    /// tab removed, at most
    /// [`MAX_PASTE_BYTES`] bytes of input kept.
    Paste(String),
    /// Anything else: unmapped control bytes, unknown escape sequences,
    /// invalid UTF-8, overlong escape sequences.
    Unknown,
    /// Bytes that are not valid UTF-8 (one key per bad sequence).
    InvalidUtf8,
}

/// The most bytes of one bracketed paste that are kept; the rest is dropped.
pub const MAX_PASTE_BYTES: usize = 64 * 1024;

/// The longest escape sequence (including the ESC) that is buffered; a
/// longer one is discarded as [`Key::Unknown`] and the bytes after it are
/// decoded afresh.
pub const MAX_ESCAPE_BYTES: usize = 32;

const ESC: u8 = 0x1b;
const PASTE_END: &[u8] = b"\x1b[201~";

/// What the decoder is in the middle of.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Between keys.
    Ground,
    /// Inside a multi-byte UTF-8 character: the bytes seen so far (the lead
    /// byte first) and how many bytes the character has in all.
    Utf8 {
        bytes: [u8; 4],
        have: usize,
        need: usize,
    },
    /// After a lone ESC.
    Escape,
    /// Inside `ESC [`: the bytes after the `[` (parameters and
    /// intermediates).
    Csi(Vec<u8>),
    /// After `ESC O`.
    Ss3,
    /// Inside a bracketed paste: the content so far, whether some was
    /// dropped, and how many bytes of [`PASTE_END`] have been matched.
    Paste {
        content: Vec<u8>,
        truncated: bool,
        matched: usize,
    },
}

/// Turns the bytes an SSH client sends into [`Key`]s, keeping state across
/// calls so that sequences split across packets decode correctly.
///
/// A trailing lone ESC stays pending until the next byte arrives (there is
/// no timeout: the decoder is pure).
#[derive(Debug, Clone)]
pub struct KeyDecoder {
    state: State,
    /// The previous byte was a `\r` that produced [`Key::Enter`]; a
    /// following `\n` or `\0` is swallowed.
    after_cr: bool,
}

impl Default for KeyDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for KeyDecoder {
    fn drop(&mut self) {
        // A paste in flight may hold a password.
        if let State::Paste { content, .. } = &mut self.state {
            content.zeroize();
        }
    }
}

impl KeyDecoder {
    /// A decoder with nothing pending.
    #[must_use]
    pub fn new() -> Self {
        Self {
            state: State::Ground,
            after_cr: false,
        }
    }

    /// Decodes `bytes`, returning the keys completed by them (possibly none,
    /// if they only start a sequence).
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Key> {
        let mut keys = Vec::new();
        for &b in bytes {
            self.byte(b, &mut keys);
        }
        keys
    }

    fn byte(&mut self, b: u8, keys: &mut Vec<Key>) {
        // A byte is looked at at most twice: once by a sequence it turns out
        // not to belong to, then afresh in the ground state.
        if let Some(again) = self.step(b, keys) {
            let _ = self.step(again, keys);
        }
    }

    /// Processes one byte; returns it back if the current sequence was
    /// abandoned and the byte must be decoded again from the ground state.
    fn step(&mut self, b: u8, keys: &mut Vec<Key>) -> Option<u8> {
        let after_cr = std::mem::take(&mut self.after_cr);
        match &mut self.state {
            State::Ground => {
                self.ground(b, after_cr, keys);
                None
            }
            State::Utf8 { bytes, have, need } => {
                if !continuation_ok(bytes[0], *have, b) {
                    keys.push(Key::InvalidUtf8);
                    self.state = State::Ground;
                    return Some(b);
                }
                bytes[*have] = b;
                *have += 1;
                if *have == *need {
                    let key = match std::str::from_utf8(&bytes[..*need])
                        .ok()
                        .and_then(|s| s.chars().next())
                    {
                        Some(c) if !c.is_control() => Key::Char(c),
                        _ => Key::Unknown,
                    };
                    keys.push(key);
                    self.state = State::Ground;
                }
                None
            }
            State::Escape => match b {
                b'[' => {
                    self.state = State::Csi(Vec::new());
                    None
                }
                b'O' => {
                    self.state = State::Ss3;
                    None
                }
                _ => {
                    keys.push(Key::Unknown);
                    self.state = State::Ground;
                    Some(b)
                }
            },
            State::Ss3 => {
                self.state = State::Ground;
                match b {
                    b'A' => keys.push(Key::Up),
                    b'B' => keys.push(Key::Down),
                    b'C' => keys.push(Key::Right),
                    b'D' => keys.push(Key::Left),
                    b'H' => keys.push(Key::Home),
                    b'F' => keys.push(Key::End),
                    0x40..=0x7e => keys.push(Key::Unknown),
                    _ => {
                        keys.push(Key::Unknown);
                        return Some(b);
                    }
                }
                None
            }
            State::Csi(body) => match b {
                0x20..=0x3f => {
                    body.push(b);
                    // ESC and `[` count towards the cap too.
                    if body.len() + 2 >= MAX_ESCAPE_BYTES {
                        keys.push(Key::Unknown);
                        self.state = State::Ground;
                    }
                    None
                }
                0x40..=0x7e => {
                    let key = csi_key(body, b);
                    self.state = if key.is_none() {
                        State::Paste {
                            content: Vec::new(),
                            truncated: false,
                            matched: 0,
                        }
                    } else {
                        State::Ground
                    };
                    keys.extend(key);
                    None
                }
                _ => {
                    keys.push(Key::Unknown);
                    self.state = State::Ground;
                    Some(b)
                }
            },
            State::Paste {
                content,
                truncated,
                matched,
            } => {
                if b == PASTE_END[*matched] {
                    *matched += 1;
                    if *matched == PASTE_END.len() {
                        keys.push(Key::Paste(clean_paste(content, *truncated)));
                        content.zeroize();
                        self.state = State::Ground;
                    }
                    return None;
                }
                // A partial match of the end marker was content after all.
                // The marker's only ESC is its first byte, so the current
                // byte can only restart a match if it is an ESC.
                let partial = std::mem::take(matched);
                for &p in PASTE_END.iter().take(partial) {
                    push_capped(content, truncated, p);
                }
                if b == PASTE_END[0] {
                    *matched = 1;
                } else {
                    push_capped(content, truncated, b);
                }
                None
            }
        }
    }

    fn ground(&mut self, b: u8, after_cr: bool, keys: &mut Vec<Key>) {
        let key = match b {
            b'\n' | 0x00 if after_cr => return,
            b'\r' => {
                self.after_cr = true;
                Key::Enter
            }
            b'\n' => Key::Enter,
            0x01 => Key::CtrlA,
            0x02 => Key::Left,
            0x03 => Key::CtrlC,
            0x04 => Key::CtrlD,
            0x05 => Key::CtrlE,
            0x06 => Key::Right,
            0x08 | 0x7f => Key::Backspace,
            b'\t' => Key::Tab,
            0x0b => Key::CtrlK,
            0x0c => Key::CtrlL,
            0x0e => Key::Down,
            0x10 => Key::Up,
            0x15 => Key::CtrlU,
            0x17 => Key::CtrlW,
            ESC => {
                self.state = State::Escape;
                return;
            }
            0x20..=0x7e => Key::Char(char::from(b)),
            0xc2..=0xdf => return self.start_utf8(b, 2),
            0xe0..=0xef => return self.start_utf8(b, 3),
            0xf0..=0xf4 => return self.start_utf8(b, 4),
            // Stray continuation bytes and bytes that never start a valid
            // UTF-8 sequence.
            0x80..=0xc1 | 0xf5..=0xff => Key::InvalidUtf8,
            // Other C0 controls.
            _ => Key::Unknown,
        };
        keys.push(key);
    }

    fn start_utf8(&mut self, lead: u8, need: usize) {
        self.state = State::Utf8 {
            bytes: [lead, 0, 0, 0],
            have: 1,
            need,
        };
    }
}

/// Whether `b` may be byte number `have` (0-based) of a UTF-8 sequence
/// starting with `lead`: the ranges of the Unicode standard's table 3-7, so
/// overlong forms, surrogates and code points beyond U+10FFFF are refused
/// at the first byte that makes them invalid.
fn continuation_ok(lead: u8, have: usize, b: u8) -> bool {
    let range = match (lead, have) {
        (0xe0, 1) => 0xa0..=0xbf,
        (0xed, 1) => 0x80..=0x9f,
        (0xf0, 1) => 0x90..=0xbf,
        (0xf4, 1) => 0x80..=0x8f,
        _ => 0x80..=0xbf,
    };
    range.contains(&b)
}

/// Maps a complete CSI sequence (`body` holds the bytes between `[` and the
/// final byte) to a key; `None` means it starts a bracketed paste.
fn csi_key(body: &[u8], fin: u8) -> Option<Key> {
    let key = match fin {
        b'A' => Key::Up,
        b'B' => Key::Down,
        b'C' => Key::Right,
        b'D' => Key::Left,
        b'H' => Key::Home,
        b'F' => Key::End,
        b'~' => {
            let first = body.split(|&c| c == b';').next().unwrap_or_default();
            match first {
                b"1" | b"7" => Key::Home,
                b"4" | b"8" => Key::End,
                b"3" => Key::Delete,
                b"200" if body == b"200" => return None,
                _ => Key::Unknown,
            }
        }
        _ => Key::Unknown,
    };
    Some(key)
}

fn push_capped(content: &mut Vec<u8>, truncated: &mut bool, b: u8) {
    if content.len() < MAX_PASTE_BYTES {
        content.push(b);
    } else {
        *truncated = true;
    }
}

/// The text of a paste: lossy UTF-8, `\r\n`, `\r` and `\n` each become one
/// `\n` (a command line makes it a space, a note keeps its lines), other
/// control characters except tab are removed. If the paste
/// was cut at the cap, a character cut in half there is dropped rather
/// than shown as U+FFFD.
fn clean_paste(raw: &[u8], truncated: bool) -> String {
    let raw = if truncated { trim_cut_char(raw) } else { raw };
    let text = String::from_utf8_lossy(raw);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push('\n');
            }
            '\n' => out.push('\n'),
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// `raw` without a multi-byte character cut short at its very end.
fn trim_cut_char(raw: &[u8]) -> &[u8] {
    for back in 1..=raw.len().min(3) {
        let start = raw.len() - back;
        let Some(&b) = raw.get(start) else {
            break;
        };
        if b & 0xc0 != 0x80 {
            let need = match b {
                0xc2..=0xdf => 2,
                0xe0..=0xef => 3,
                0xf0..=0xf4 => 4,
                _ => 1,
            };
            return if need > back {
                raw.get(..start).unwrap_or(raw)
            } else {
                raw
            };
        }
    }
    raw
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> Vec<Key> {
        KeyDecoder::new().feed(bytes)
    }

    /// Feeds each chunk in turn to one decoder and collects all keys.
    fn decode_chunks(chunks: &[&[u8]]) -> Vec<Key> {
        let mut decoder = KeyDecoder::new();
        chunks.iter().flat_map(|c| decoder.feed(c)).collect()
    }

    /// Feeds the bytes one at a time.
    fn decode_bytewise(bytes: &[u8]) -> Vec<Key> {
        let mut decoder = KeyDecoder::new();
        bytes.iter().flat_map(|b| decoder.feed(&[*b])).collect()
    }

    #[test]
    fn whole_inputs_decode_to_their_keys() {
        let cases: &[(&[u8], Vec<Key>)] = &[
            // Printable text, in one byte or several, is chars.
            (
                b"aZ9 ~",
                vec![
                    Key::Char('a'),
                    Key::Char('Z'),
                    Key::Char('9'),
                    Key::Char(' '),
                    Key::Char('~'),
                ],
            ),
            (
                "é€😀".as_bytes(),
                vec![Key::Char('é'), Key::Char('€'), Key::Char('😀')],
            ),
            // CR LF and CR NUL are one Enter; other pairs of line ends are
            // two, and a NUL or LF not after a CR is not swallowed.
            (b"\r\n", vec![Key::Enter]),
            (b"a\r\nb", vec![Key::Char('a'), Key::Enter, Key::Char('b')]),
            (b"\r\0", vec![Key::Enter]),
            (b"\r\r", vec![Key::Enter, Key::Enter]),
            (b"\n\n", vec![Key::Enter, Key::Enter]),
            (b"\n\r\n", vec![Key::Enter, Key::Enter]),
            (b"\r\n\n", vec![Key::Enter, Key::Enter]),
            (b"\r\0\0", vec![Key::Enter, Key::Unknown]),
            (b"\ra\n", vec![Key::Enter, Key::Char('a'), Key::Enter]),
            // A lone escape before an unrelated byte is unknown, then the
            // byte.
            (b"\x1bx", vec![Key::Unknown, Key::Char('x')]),
            (b"\x1b\r", vec![Key::Unknown, Key::Enter]),
            (b"\x1b\x1b[A", vec![Key::Unknown, Key::Up]),
            ("\x1bé".as_bytes(), vec![Key::Unknown, Key::Char('é')]),
            // A control byte inside CSI aborts it and is decoded.
            (b"\x1b[1\r", vec![Key::Unknown, Key::Enter]),
            (b"\x1b[\x1b[B", vec![Key::Unknown, Key::Down]),
            (b"\x1bO\x03", vec![Key::Unknown, Key::CtrlC]),
            // Invalid UTF-8 is unknown once per bad sequence: a stray
            // continuation byte, impossible lead bytes, a truncated sequence
            // followed by ASCII or another lead byte, a surrogate (ED is cut
            // short, A0 and 80 are stray), an overlong form and a code
            // point beyond U+10FFFF.
            (b"\x80", vec![Key::InvalidUtf8]),
            (b"\xc0\xc1\xf5\xff", vec![Key::InvalidUtf8; 4]),
            (b"\xe2\x82a", vec![Key::InvalidUtf8, Key::Char('a')]),
            (b"\xe2\xc3\xa9", vec![Key::InvalidUtf8, Key::Char('é')]),
            (b"\xed\xa0\x80", vec![Key::InvalidUtf8; 3]),
            (b"\xe0\x80\x80", vec![Key::InvalidUtf8; 3]),
            (b"\xf4\x90\x80\x80", vec![Key::InvalidUtf8; 4]),
            // A C1 control character (NEXT LINE, CSI) is unknown, not a
            // char.
            ("\u{85}\u{9b}".as_bytes(), vec![Key::Unknown; 2]),
            // A bracketed paste is one key: line breaks become `\n`, controls
            // are dropped, a partial end marker is content and invalid
            // UTF-8 is decoded lossily.
            (
                b"\x1b[200~hello world\x1b[201~x",
                vec![Key::Paste("hello world".into()), Key::Char('x')],
            ),
            (
                b"\x1b[200~a\r\nb\nc\rd\te\x07f\x1b[Ag\x7fh\x1b[201~",
                vec![Key::Paste("a\nb\nc\nd\tef[Agh".into())],
            ),
            (
                b"\x1b[200~x\x1b[20y\x1b[201~",
                vec![Key::Paste("x[20y".into())],
            ),
            (b"\x1b[200~\x1b[2\x1b[201~", vec![Key::Paste("[2".into())]),
            (
                b"\x1b[200~a\xffb\x1b[201~",
                vec![Key::Paste("a\u{fffd}b".into())],
            ),
            (b"\x1b[200~\x1b[201~", vec![Key::Paste(String::new())]),
            (
                b"\x1b[200~a\x1b[201~\r\n",
                vec![Key::Paste("a".into()), Key::Enter],
            ),
        ];
        for (bytes, keys) in cases {
            assert_eq!(&decode(bytes), keys, "{bytes:?}");
        }
    }

    #[test]
    fn input_split_across_feeds_or_fed_byte_by_byte_decodes_the_same() {
        let emoji = "😀".as_bytes();
        let cases: &[(&[&[u8]], Vec<Key>)] = &[
            (
                &[&emoji[..1], &emoji[1..3], &emoji[3..]],
                vec![Key::Char('😀')],
            ),
            (&["€x".as_bytes()], vec![Key::Char('€'), Key::Char('x')]),
            (&[b"\r", b"\n"], vec![Key::Enter]),
            (
                &[b"x\r", b"\0y"],
                vec![Key::Char('x'), Key::Enter, Key::Char('y')],
            ),
            (&[b"\x1b", b"[", b"A"], vec![Key::Up]),
            (
                &[b"a\x1b[1", b";5", b"Cb"],
                vec![Key::Char('a'), Key::Right, Key::Char('b')],
            ),
            (&[b"\x1bO", b"H"], vec![Key::Home]),
            (&[b"\x1b", b"\x7f"], vec![Key::Unknown, Key::Backspace]),
            (
                &[b"\x1b[20", b"0~ab", b"c\x1b[2", b"01", b"~"],
                vec![Key::Paste("abc".into())],
            ),
            (
                &["\x1b[200~pässwörd\x1b[201~".as_bytes()],
                vec![Key::Paste("pässwörd".into())],
            ),
        ];
        for (chunks, keys) in cases {
            assert_eq!(&decode_chunks(chunks), keys, "{chunks:?}");
            assert_eq!(
                &decode_bytewise(&chunks.concat()),
                keys,
                "{chunks:?} bytewise"
            );
        }
    }

    #[test]
    fn control_bytes_map_to_their_keys() {
        let table: &[(u8, Key)] = &[
            (0x01, Key::CtrlA),
            (0x02, Key::Left),
            (0x03, Key::CtrlC),
            (0x04, Key::CtrlD),
            (0x05, Key::CtrlE),
            (0x06, Key::Right),
            (0x08, Key::Backspace),
            (0x09, Key::Tab),
            (0x0a, Key::Enter),
            (0x0b, Key::CtrlK),
            (0x0c, Key::CtrlL),
            (0x0d, Key::Enter),
            (0x0e, Key::Down),
            (0x10, Key::Up),
            (0x15, Key::CtrlU),
            (0x17, Key::CtrlW),
            (0x7f, Key::Backspace),
        ];
        for (byte, key) in table {
            assert_eq!(decode(&[*byte]), vec![key.clone()], "byte {byte:#04x}");
        }
    }

    #[test]
    fn other_c0_controls_are_unknown() {
        for byte in [
            0x00u8, 0x07, 0x0f, 0x11, 0x12, 0x13, 0x14, 0x16, 0x18, 0x19, 0x1a, 0x1c, 0x1d, 0x1e,
            0x1f,
        ] {
            assert_eq!(decode(&[byte]), vec![Key::Unknown], "byte {byte:#04x}");
        }
    }

    #[test]
    fn every_single_byte_decodes_to_at_most_one_key() {
        for byte in 0..=255u8 {
            assert!(decode(&[byte]).len() <= 1, "byte {byte:#04x}");
        }
    }

    #[test]
    fn csi_and_ss3_sequences_map_to_their_keys() {
        let table: &[(&[u8], Key)] = &[
            (b"\x1b[A", Key::Up),
            (b"\x1b[B", Key::Down),
            (b"\x1b[C", Key::Right),
            (b"\x1b[D", Key::Left),
            (b"\x1b[H", Key::Home),
            (b"\x1b[F", Key::End),
            (b"\x1bOA", Key::Up),
            (b"\x1bOB", Key::Down),
            (b"\x1bOC", Key::Right),
            (b"\x1bOD", Key::Left),
            (b"\x1bOH", Key::Home),
            (b"\x1bOF", Key::End),
            (b"\x1b[1~", Key::Home),
            (b"\x1b[7~", Key::Home),
            (b"\x1b[4~", Key::End),
            (b"\x1b[8~", Key::End),
            (b"\x1b[3~", Key::Delete),
            (b"\x1b[1;5C", Key::Right),
            (b"\x1b[1;5D", Key::Left),
            (b"\x1b[1;2A", Key::Up),
            (b"\x1b[1;3B", Key::Down),
            (b"\x1b[1;5H", Key::Home),
            (b"\x1b[1;5F", Key::End),
            (b"\x1b[3;5~", Key::Delete),
            (b"\x1b[2~", Key::Unknown),
            (b"\x1b[5~", Key::Unknown),
            (b"\x1b[6~", Key::Unknown),
            (b"\x1b[15~", Key::Unknown),
            (b"\x1b[201~", Key::Unknown),
            (b"\x1b[Z", Key::Unknown),
            (b"\x1b[?1;2c", Key::Unknown),
            (b"\x1bOP", Key::Unknown),
        ];
        for (bytes, key) in table {
            assert_eq!(decode(bytes), vec![key.clone()], "sequence {bytes:?}");
            assert_eq!(
                decode_bytewise(bytes),
                vec![key.clone()],
                "sequence {bytes:?} fed bytewise"
            );
        }
    }

    #[test]
    fn a_trailing_lone_escape_stays_pending() {
        let mut decoder = KeyDecoder::new();
        assert_eq!(decoder.feed(b"a\x1b"), vec![Key::Char('a')]);
        assert_eq!(decoder.feed(b"[D"), vec![Key::Left]);
    }

    #[test]
    fn an_overlong_escape_sequence_is_discarded_as_unknown() {
        let mut bytes = b"\x1b[".to_vec();
        bytes.extend(std::iter::repeat_n(b'1', MAX_ESCAPE_BYTES - 2));
        let keys = decode(&bytes);
        assert_eq!(keys, vec![Key::Unknown]);
        // What follows the discarded part is decoded afresh.
        bytes.extend(b"9x");
        assert_eq!(
            decode(&bytes),
            vec![Key::Unknown, Key::Char('9'), Key::Char('x')]
        );
    }

    #[test]
    fn an_escape_sequence_just_under_the_cap_still_decodes() {
        let mut bytes = b"\x1b[".to_vec();
        bytes.extend(std::iter::repeat_n(b'1', MAX_ESCAPE_BYTES - 4));
        bytes.extend(b";C");
        assert_eq!(bytes.len(), MAX_ESCAPE_BYTES);
        assert_eq!(decode(&bytes), vec![Key::Right]);
    }

    #[test]
    fn bracketed_paste_is_capped_at_64_kib() {
        let mut bytes = b"\x1b[200~".to_vec();
        bytes.extend(std::iter::repeat_n(b'a', MAX_PASTE_BYTES + 1000));
        bytes.extend(b"\x1b[201~z");
        let keys = decode_chunks(&bytes.chunks(1000).collect::<Vec<_>>());
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0], Key::Paste("a".repeat(MAX_PASTE_BYTES)));
        assert_eq!(keys[1], Key::Char('z'));
    }

    #[test]
    fn a_capped_paste_drops_a_character_cut_in_half() {
        let mut bytes = b"\x1b[200~".to_vec();
        bytes.extend(std::iter::repeat_n(b'a', MAX_PASTE_BYTES - 1));
        bytes.extend("€€".as_bytes());
        bytes.extend(b"\x1b[201~");
        assert_eq!(
            decode(&bytes),
            vec![Key::Paste("a".repeat(MAX_PASTE_BYTES - 1))]
        );
    }
}
