//! The shell's command-line grammar on arbitrary input.
//!
//! Properties checked, for any line (bytes decoded lossily as UTF-8):
//!
//! - `parse_line` never panics, and agrees with `parse_words` on the line's
//!   split words: a blank line (no words) is `Ok(None)` and nothing else is.
//! - A parsed command that carries a secret given as a flag (card number,
//!   CVV, password) is on a line that `holds_secret` keeps out of history.
//! - A parsed `help` renders without panicking, as one text ending in a
//!   newline.
//! - A refused line's message for the user is one line without control
//!   characters (other than tab), whatever the line held.
#![no_main]

use keeper::shell::render::render;
use keeper::shell::{Command, ShellError, holds_secret, parse_line, parse_words};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let line = String::from_utf8_lossy(data);
    let parsed = parse_line(&line);

    if let Ok(words) = shell_words::split(&line) {
        assert_eq!(
            matches!(parsed, Ok(None)),
            words.is_empty(),
            "only a line without words is blank"
        );
        assert_eq!(
            format!("{parsed:?}"),
            format!("{:?}", parse_words(&words)),
            "parse_line is parse_words of the split line"
        );
    }

    match parsed {
        Ok(Some(command)) => {
            if carries_flag_secret(&command) {
                assert!(
                    holds_secret(&line),
                    "a line setting a secret must stay out of history: {line:?}"
                );
            }
            if let Command::Help(help) = command {
                check_help(help.apply());
            }
        }
        Ok(None) => {}
        Err(error) => check_user_line(&error),
    }
});

/// Whether the command holds a secret that can only have come from a flag.
fn carries_flag_secret(command: &Command) -> bool {
    match command {
        Command::CardAdd(add) => add.number.is_some() || add.cvv.is_some(),
        Command::CardEdit(edit) => {
            edit.changes.number.is_some() || matches!(edit.changes.cvv, Some(Some(_)))
        }
        Command::PassAdd(add) => add.password.is_some(),
        Command::PassEdit(edit) => edit.changes.password.is_some(),
        _ => false,
    }
}

fn check_help(result: Result<keeper::shell::Output, ShellError>) {
    match result {
        Ok(output) => {
            let rendered = render(&output);
            assert!(rendered.stdout.ends_with('\n'), "help text ends a line");
            assert!(rendered.clipboard.is_none(), "help copies nothing");
        }
        Err(error) => check_user_line(&error),
    }
}

fn check_user_line(error: &ShellError) {
    let shown = error.user_line();
    assert!(
        !shown.chars().any(|c| c.is_control() && c != '\t'),
        "a user line holds no control characters: {shown:?}"
    );
}
