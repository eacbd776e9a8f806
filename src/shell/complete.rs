//! Tab completion of commands, subcommands, flags and the user's item names.

use std::collections::HashMap;

use crate::domain::ItemKind;
use crate::editor::Completer;

use super::grammar::tree;
use crate::views::sanitize::sanitize;

/// The names of the user's items, by kind.
pub type ItemNames = HashMap<ItemKind, Vec<String>>;

/// Completes against the grammar and the names the session knows.
#[derive(Debug, Default, Clone)]
pub struct ShellCompleter {
    pub names: ItemNames,
}

/// The kind a command group acts on: `pass` for passwords.
pub fn group_kind(group: &str) -> Option<ItemKind> {
    match group {
        "card" => Some(ItemKind::Card),
        "pass" => Some(ItemKind::Password),
        "note" => Some(ItemKind::Note),
        "totp" => Some(ItemKind::Totp),
        "id" => Some(ItemKind::Identity),
        _ => None,
    }
}

/// Quotes a name with spaces or quotes so it completes into one word.
fn quoted(name: &str) -> String {
    if name
        .chars()
        .any(|c| c.is_whitespace() || "'\"\\$`".contains(c))
    {
        shell_words::quote(name).into_owned()
    } else {
        name.to_owned()
    }
}

impl ShellCompleter {
    /// Candidates for the word ending at `pos` in `line`: `(start, words)`.
    pub fn candidates(&self, line: &str, pos: usize) -> (usize, Vec<String>) {
        let chars: Vec<char> = line.chars().collect();
        let pos = pos.min(chars.len());
        let before: String = chars[..pos].iter().collect();
        let start = before
            .rfind(char::is_whitespace)
            .map_or(0, |i| before[..i].chars().count() + 1);
        let word: String = chars[start..pos].iter().collect();
        let done: Vec<&str> = before[..before.len() - word.len()]
            .split_whitespace()
            .collect();

        let root = tree();
        let options: Vec<String> = match done.as_slice() {
            [] => root
                .get_subcommands()
                .map(|c| c.get_name().to_owned())
                .collect(),
            [group] => match root.find_subcommand(group) {
                Some(g) if g.has_subcommands() => g
                    .get_subcommands()
                    .map(|c| c.get_name().to_owned())
                    .collect(),
                Some(g) => flags(g),
                None => Vec::new(),
            },
            [group, sub, rest @ ..] => {
                let Some(cmd) = root
                    .find_subcommand(group)
                    .and_then(|g| g.find_subcommand(sub))
                else {
                    return (start, Vec::new());
                };
                let takes_name = matches!(*sub, "show" | "edit" | "rm" | "copy");
                if takes_name && rest.is_empty() && !word.starts_with('-') {
                    let Some(names) = group_kind(group).and_then(|k| self.names.get(&k)) else {
                        return (start, Vec::new());
                    };
                    let bare = word.trim_start_matches(['\'', '"']);
                    // Names are stored text: shown (and inserted) sanitised,
                    // so a name never drives the terminal through completion.
                    let mut found: Vec<String> = names
                        .iter()
                        .map(|n| sanitize(n))
                        .filter(|n| n.starts_with(bare))
                        .map(|n| quoted(&n))
                        .collect();
                    found.sort();
                    return (start, found);
                } else {
                    flags(cmd)
                }
            }
        };
        let mut matching: Vec<String> = options
            .into_iter()
            .filter(|o| o.starts_with(&word))
            .collect();
        matching.sort();
        matching.dedup();
        (start, matching)
    }
}

fn flags(cmd: &clap::Command) -> Vec<String> {
    cmd.get_arguments()
        .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
        .filter(|f| f != "--help")
        .collect()
}

impl Completer for ShellCompleter {
    fn complete(&self, line: &str, pos: usize) -> (usize, Vec<String>) {
        self.candidates(line, pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c() -> ShellCompleter {
        ShellCompleter {
            names: HashMap::from([
                (ItemKind::Card, vec!["visa".into(), "my amex".into()]),
                (ItemKind::Password, vec!["github".into(), "gitlab".into()]),
                (ItemKind::Note, vec!["wifi".into()]),
            ]),
        }
    }

    #[test]
    fn first_word_completes_commands() {
        assert_eq!(c().candidates("ca", 2), (0, vec!["card".to_owned()]));
        assert!(c().candidates("", 0).1.contains(&"pass".to_owned()));
    }

    #[test]
    fn second_word_completes_subcommands() {
        assert_eq!(c().candidates("pass co", 7), (5, vec!["copy".to_owned()]));
    }

    #[test]
    fn item_names_complete_after_show_and_copy() {
        assert_eq!(
            c().candidates("pass copy gi", 12).1,
            vec!["github", "gitlab"]
        );
        assert_eq!(c().candidates("card show m", 11).1, vec!["'my amex'"]);
        assert_eq!(c().candidates("note show ", 10).1, vec!["wifi"]);
    }

    #[test]
    fn stored_names_complete_sanitised() {
        let c = ShellCompleter {
            names: HashMap::from([(
                ItemKind::Password,
                vec![
                    "\u{1b}]52;c;aGk=\u{7}clip".into(),
                    "\u{1b}[31mred".into(),
                    "\u{202e}txt.exe".into(),
                ],
            )]),
        };
        let found = c.candidates("pass show ", 10).1;
        assert_eq!(found.len(), 3, "{found:?}");
        for candidate in &found {
            assert!(
                !candidate
                    .chars()
                    .any(|ch| ch.is_control() || ch == '\u{202e}'),
                "{candidate:?}"
            );
        }
    }

    #[test]
    fn flags_complete_after_a_dash() {
        assert!(
            c().candidates("card add --nu", 13)
                .1
                .contains(&"--number".to_owned())
        );
        assert_eq!(
            c().candidates("card show visa --re", 19).1,
            vec!["--reveal"]
        );
    }
}
