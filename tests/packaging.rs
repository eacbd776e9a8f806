//! What an operator installs beside the binary: shell completions and
//! manual pages, generated from the same command tree that parses.

use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_keeper");

fn keeper(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("run keeper")
}

fn stdout(out: &Output) -> String {
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout.clone()).expect("UTF-8")
}

#[test]
fn the_bash_completion_loads_and_completes_commands_and_one_shot_shell_commands() {
    let dir = tempfile::tempdir().expect("dir");
    let script = dir.path().join("keeper.bash");
    std::fs::write(&script, stdout(&keeper(&["completions", "bash"]))).expect("write");

    // Completing `keeper pa` and `keeper pass add --sec` in bash itself.
    let probe = format!(
        "source {}; complete -p keeper; \
         COMP_WORDS=(keeper pa); COMP_CWORD=1; _keeper keeper pa keeper; echo \"${{COMPREPLY[*]}}\"; \
         COMP_WORDS=(keeper pass add --sec); COMP_CWORD=3; _keeper keeper --sec add; echo \"${{COMPREPLY[*]}}\"",
        script.display()
    );
    let out = Command::new("bash")
        .args(["--norc", "-c", &probe])
        .output()
        .expect("bash");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].contains("_keeper") && lines[0].ends_with("keeper"),
        "{text}"
    );
    assert!(lines[1].split(' ').any(|w| w == "pass"), "{text}");
    assert!(lines[1].split(' ').any(|w| w == "passwd"), "{text}");
    assert!(lines[2].split(' ').any(|w| w == "--secret-field"), "{text}");
}

#[test]
fn zsh_and_fish_completions_name_keeper_and_its_commands() {
    let zsh = stdout(&keeper(&["completions", "zsh"]));
    assert!(
        zsh.starts_with("#compdef keeper"),
        "{}",
        &zsh[..80.min(zsh.len())]
    );
    assert!(
        zsh.contains("'serve:") && zsh.contains("'trash:"),
        "commands missing"
    );
    let fish = stdout(&keeper(&["completions", "fish"]));
    assert!(fish.contains("complete -c keeper"), "no fish completion");
    assert!(fish.contains("health"), "shell commands missing");
}

#[test]
fn an_unknown_shell_is_a_usage_error_naming_the_known_ones() {
    let out = keeper(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bash") && err.contains("zsh") && err.contains("fish"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn the_manual_page_is_roff_and_one_page_per_command_is_written_on_request() {
    let page = stdout(&keeper(&["man"]));
    assert!(
        page.contains(".TH keeper 1"),
        "{}",
        &page[..200.min(page.len())]
    );
    assert!(
        page.contains(".SH SUBCOMMANDS") && page.contains("keeper\\-serve"),
        "no commands"
    );

    let dir = tempfile::tempdir().expect("dir");
    let out = keeper(&["man", "--out", dir.path().to_str().expect("path")]);
    assert!(out.status.success(), "{out:?}");
    for page in [
        "keeper.1",
        "keeper-serve.1",
        "keeper-pass-add.1",
        "keeper-trash-restore.1",
    ] {
        assert!(dir.path().join(page).is_file(), "{page} missing");
    }
    let add = std::fs::read_to_string(dir.path().join("keeper-pass-add.1")).expect("read");
    assert!(
        add.contains("\\-\\-secret\\-field"),
        "pass add's flags missing"
    );
    assert!(
        !dir.path().join("keeper-exit.1").exists(),
        "exit means nothing run once"
    );

    let nowhere = keeper(&["man", "--out", "/nonexistent/dir"]);
    assert_eq!(nowhere.status.code(), Some(1), "{nowhere:?}");
    assert!(String::from_utf8_lossy(&nowhere.stderr).contains("/nonexistent/dir"));
}
