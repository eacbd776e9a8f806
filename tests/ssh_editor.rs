//! The line editor of the SSH shell, driven key by key through a real PTY
//! session: what the user sees and which command ends up running.

mod helpers;

use helpers::{PASSWORD, PIN, Shell, TestServer};

const PROMPT: &str = "alice@keeper> ";
/// The prompt as it appears after a line ended (a redraw starts with `\r`).
const NEXT_PROMPT: &str = "\nalice@keeper> ";
const VISA: &str = "4111111111111111";

async fn server_with_alice() -> TestServer {
    let server = TestServer::start().await;
    server.register("alice").await;
    server
}

/// Runs `command` through exec; it must succeed. Returns stdout.
async fn ok(server: &TestServer, command: &str) -> String {
    let out = server.run("alice", command).await;
    assert_eq!(out.status, Some(0), "`{command}` failed: {out:?}");
    out.stdout
}

/// Sends raw key bytes (ending in Enter) and returns everything up to the
/// next prompt, which only follows a finished line.
async fn keys(sh: &mut Shell, bytes: &[u8]) -> String {
    sh.send(bytes).await;
    sh.expect(NEXT_PROMPT).await
}

/// The card names, through exec.
async fn card_names(server: &TestServer) -> Vec<String> {
    let list: serde_json::Value =
        serde_json::from_str(&ok(server, "card list --json").await).expect("json");
    list.as_array()
        .expect("array")
        .iter()
        .map(|c| c["name"].as_str().expect("name").to_owned())
        .collect()
}

/// The rightmost column a cursor reaches while a terminal draws `bytes`,
/// starting at column `start` (`\r` returns to column 0, `ESC [ n C` moves right, a printable
/// character is written at the cursor and moves it on).
fn rightmost_column(start: usize, bytes: &str) -> usize {
    let (mut col, mut max) = (start, start);
    let mut chars = bytes.chars();
    while let Some(c) = chars.next() {
        match c {
            '\r' => col = 0,
            '\x1b' => {
                if chars.next() != Some('[') {
                    continue;
                }
                let mut param = String::new();
                for p in chars.by_ref() {
                    if p.is_ascii_digit() || p == ';' {
                        param.push(p);
                        continue;
                    }
                    match p {
                        'C' => col += param.parse::<usize>().unwrap_or(1),
                        'D' => col = col.saturating_sub(param.parse::<usize>().unwrap_or(1)),
                        'H' => col = 0,
                        _ => {}
                    }
                    break;
                }
            }
            c if c.is_control() => {}
            _ => {
                col += 1;
                max = max.max(col);
            }
        }
    }
    max
}

// ---- echo and editing ----

#[tokio::test]
async fn typed_characters_are_echoed() {
    let server = server_with_alice().await;
    let mut sh = server.login("alice").await;

    sh.send(b"whoami").await;
    let echoed = sh.expect("whoami").await;
    let out = keys(&mut sh, b"\r").await;

    assert_eq!(echoed, "whoami");
    assert!(out.contains("alice"), "{out:?}");
}

#[tokio::test]
async fn backspace_deletes_the_character_before_the_cursor() {
    let server = server_with_alice().await;
    let mut sh = server.login("alice").await;

    let out = keys(&mut sh, b"whoamx\x7fi\r").await;

    assert!(out.contains("\r\nalice\r\n"), "{out:?}");
    assert!(!out.contains("error"), "{out:?}");
}

#[tokio::test]
async fn left_arrow_moves_the_cursor_so_typing_inserts_mid_line() {
    let server = server_with_alice().await;
    let mut sh = server.login("alice").await;

    let out = keys(&mut sh, b"card lst\x1b[D\x1b[Di\r").await;

    assert!(
        out.contains("No cards yet"),
        "`card list` did not run: {out:?}"
    );
}

#[tokio::test]
async fn right_arrow_moves_the_cursor_back_towards_the_end() {
    let server = server_with_alice().await;
    let mut sh = server.login("alice").await;

    // Cursor after `w`, then one right (after `h`), then insert `o`.
    let out = keys(&mut sh, b"whami\x1b[D\x1b[D\x1b[D\x1b[D\x1b[Co\r").await;

    assert!(
        out.contains("\r\nalice\r\n"),
        "`whoami` did not run: {out:?}"
    );
}

#[tokio::test]
async fn home_and_end_jump_to_the_ends_of_the_line() {
    let server = server_with_alice().await;
    let mut sh = server.login("alice").await;

    let out = keys(&mut sh, b"ard list\x1b[Hc\x1b[F --json\r").await;

    assert!(
        out.contains("[]"),
        "`card list --json` did not run: {out:?}"
    );
}

#[tokio::test]
async fn ctrl_d_inside_a_line_deletes_instead_of_leaving() {
    let server = server_with_alice().await;
    let mut sh = server.login("alice").await;

    let out = keys(&mut sh, b"whoamix\x1b[D\x04\r").await;

    assert!(out.contains("\r\nalice\r\n"), "{out:?}");
    assert!(!sh.closed);
}

// ---- history ----

#[tokio::test]
async fn up_arrow_recalls_the_previous_command_and_enter_runs_it_again() {
    let server = server_with_alice().await;
    let mut sh = server.login("alice").await;
    sh.command("whoami", PROMPT).await;
    sh.command("card list", PROMPT).await;

    let recalled = keys(&mut sh, b"\x1b[A\x1b[A\r").await;

    assert!(recalled.contains("whoami"), "not redrawn: {recalled:?}");
    assert!(
        recalled.contains("\r\nalice\r\n"),
        "`whoami` not run: {recalled:?}"
    );
}

#[tokio::test]
async fn down_arrow_returns_to_the_line_being_typed() {
    let server = server_with_alice().await;
    let mut sh = server.login("alice").await;
    sh.command("whoami", PROMPT).await;

    let out = keys(&mut sh, b"card li\x1b[A\x1b[Bst\r").await;

    assert!(
        out.contains("No cards yet"),
        "`card list` did not run: {out:?}"
    );
}

#[tokio::test]
async fn lines_with_secret_flags_are_kept_out_of_history() {
    let server = server_with_alice().await;
    let mut sh = server.login("alice").await;
    sh.command("whoami", PROMPT).await;
    sh.command("pass add --name a --password hist-Secret-1", PROMPT)
        .await;
    sh.command(
        &format!("card add --name c --number {VISA} --expiry 12/30"),
        PROMPT,
    )
    .await;
    sh.command("card edit c --cvv 739", PROMPT).await;
    sh.command("pass edit a --password=hist-Secret-2", PROMPT)
        .await;

    let recalled = keys(&mut sh, b"\x1b[A\r").await;

    assert!(
        recalled.contains("\r\nalice\r\n"),
        "`whoami` not recalled: {recalled:?}"
    );
    for secret in [
        "hist-Secret",
        VISA,
        "739",
        "--password",
        "--number",
        "--cvv",
    ] {
        assert!(
            !recalled.contains(secret),
            "{secret} recalled: {recalled:?}"
        );
    }
}

#[tokio::test]
async fn up_arrow_at_a_secret_prompt_recalls_nothing() {
    let server = server_with_alice().await;
    let mut sh = server.login("alice").await;
    sh.command("whoami", PROMPT).await;

    sh.line("pass add --name a").await;
    sh.expect("URL (optional): ").await;
    sh.line("").await;
    sh.expect("Username (optional): ").await;
    sh.line("").await;
    sh.expect("Password: ").await;
    sh.send(b"\x1b[Asecret-pw-1\r").await;
    let repeat = sh.expect("Repeat: ").await;
    sh.line("secret-pw-1").await;
    sh.expect("Note (optional): ").await;
    sh.line("").await;
    sh.expect(NEXT_PROMPT).await;

    assert!(
        !repeat.contains("whoami"),
        "history shown at a secret prompt: {repeat:?}"
    );
    let entry = ok(&server, "pass show a --reveal --json").await;
    assert!(entry.contains("\"secret-pw-1\""), "{entry}");
}

// ---- completion ----

#[tokio::test]
async fn tab_completes_a_command() {
    let server = server_with_alice().await;
    let mut sh = server.login("alice").await;

    sh.send(b"wh\t").await;
    let completed = sh.expect("whoami ").await;
    let out = keys(&mut sh, b"\r").await;

    assert!(completed.contains(PROMPT), "{completed:?}");
    assert!(out.contains("\r\nalice\r\n"), "{out:?}");
}

#[tokio::test]
async fn tab_completes_a_subcommand() {
    let server = server_with_alice().await;
    ok(
        &server,
        &format!("card add --name visa --number {VISA} --expiry 12/30"),
    )
    .await;
    let mut sh = server.login("alice").await;

    sh.send(b"card sh\t").await;
    sh.expect("card show ").await;
    let out = keys(&mut sh, b"visa\r").await;

    assert!(
        out.contains("**** 1111"),
        "`card show visa` did not run: {out:?}"
    );
}

#[tokio::test]
async fn tab_completes_an_item_name() {
    let server = server_with_alice().await;
    ok(&server, "pass add --name github --password pw-aaaa-1").await;
    let mut sh = server.login("alice").await;

    sh.send(b"pass copy gi\t").await;
    sh.expect("pass copy github ").await;
    let out = keys(&mut sh, b"\r").await;

    assert!(out.contains("Copied the password of `github`"), "{out:?}");
}

#[tokio::test]
async fn tab_completes_a_name_with_a_space_in_quotes() {
    let server = server_with_alice().await;
    ok(&server, "pass add --name 'work mail' --password pw-aaaa-1").await;
    let mut sh = server.login("alice").await;

    sh.send(b"pass show wo\t").await;
    sh.expect("pass show 'work mail' ").await;
    let out = keys(&mut sh, b"\r").await;

    assert!(out.contains("work mail"), "{out:?}");
    assert!(!out.contains("error"), "{out:?}");
}

#[tokio::test]
async fn tab_completes_names_only_of_the_right_kind() {
    let server = server_with_alice().await;
    ok(
        &server,
        &format!("card add --name visa --number {VISA} --expiry 12/30"),
    )
    .await;
    ok(&server, "pass add --name vault --password pw-aaaa-1").await;
    let mut sh = server.login("alice").await;

    sh.send(b"card rm v\t").await;
    sh.expect("card rm visa ").await;
    let out = keys(&mut sh, b"\x03").await;

    assert!(out.contains("^C"), "{out:?}");
    assert_eq!(card_names(&server).await, vec!["visa"]);
}

#[tokio::test]
async fn double_tab_lists_the_candidates() {
    let server = server_with_alice().await;
    ok(&server, "pass add --name github --password pw-aaaa-1").await;
    ok(&server, "pass add --name gitlab --password pw-bbbb-2").await;
    let mut sh = server.login("alice").await;

    sh.send(b"pass show gi\t").await;
    sh.expect("pass show git").await;
    sh.send(b"\t").await;
    sh.expect("\x07").await;
    sh.send(b"\t").await;
    let listed = sh.expect("github  gitlab").await;
    let redrawn = sh.expect("pass show git").await;
    let out = keys(&mut sh, b"hub\r").await;

    assert!(
        listed.contains("\r\n"),
        "list not on a line of its own: {listed:?}"
    );
    assert!(redrawn.contains(PROMPT), "prompt not redrawn: {redrawn:?}");
    assert!(out.contains("github"), "{out:?}");
    assert!(!out.contains("error"), "{out:?}");
}

#[tokio::test]
async fn tab_learns_a_name_added_in_the_same_session() {
    let server = server_with_alice().await;
    let mut sh = server.login("alice").await;
    sh.command("pass add --name zebra --generate", PROMPT).await;

    sh.send(b"pass show ze\t").await;
    let completed = sh.expect("pass show zebra ").await;

    assert!(completed.contains(PROMPT), "{completed:?}");
}

// ---- control keys ----

#[tokio::test]
async fn ctrl_c_cancels_the_line_and_nothing_runs() {
    let server = server_with_alice().await;
    ok(
        &server,
        &format!("card add --name visa --number {VISA} --expiry 12/30"),
    )
    .await;
    let mut sh = server.login("alice").await;

    let out = keys(&mut sh, b"card rm visa\x03").await;
    let next = sh.command("whoami", PROMPT).await;

    assert!(out.ends_with(&format!("^C\r{NEXT_PROMPT}")), "{out:?}");
    assert!(next.contains("alice"), "{next:?}");
    assert_eq!(card_names(&server).await, vec!["visa"]);
}

#[tokio::test]
async fn ctrl_c_at_an_interactive_card_add_prompt_cancels_and_stores_nothing() {
    let server = server_with_alice().await;
    let mut sh = server.login("alice").await;

    sh.line("card add").await;
    sh.expect("Name: ").await;
    sh.line("visa").await;
    sh.expect("Card number: ").await;
    sh.send(VISA.as_bytes()).await;
    let out = keys(&mut sh, b"\x03").await;
    let next = sh.command("whoami", PROMPT).await;

    assert!(out.contains("^C"), "{out:?}");
    assert!(out.contains("cancelled"), "{out:?}");
    assert!(next.contains("alice"), "{next:?}");
    assert!(card_names(&server).await.is_empty());
}

#[tokio::test]
async fn ctrl_c_at_the_last_optional_prompt_still_stores_nothing() {
    let server = server_with_alice().await;
    let mut sh = server.login("alice").await;

    sh.line(&format!("card add --name visa --number {VISA}"))
        .await;
    sh.expect("Expiry (MM/YY): ").await;
    sh.line("12/30").await;
    sh.expect("Holder (optional): ").await;
    sh.line("").await;
    sh.expect("CVV (optional): ").await;
    sh.line("").await;
    sh.expect("Note (optional): ").await;
    let out = keys(&mut sh, b"\x03").await;

    assert!(out.contains("cancelled"), "{out:?}");
    assert!(card_names(&server).await.is_empty());
}

#[tokio::test]
async fn ctrl_d_on_an_empty_line_ends_the_session_with_status_zero() {
    let server = server_with_alice().await;
    let mut sh = server.login("alice").await;

    sh.send(b"\x04").await;
    sh.finish().await;

    assert!(sh.closed);
    assert_eq!(sh.exit_status, Some(0));
}

#[tokio::test]
async fn ctrl_l_clears_the_screen_and_redraws_the_prompt_and_line() {
    let server = server_with_alice().await;
    let mut sh = server.login("alice").await;

    sh.send(b"who").await;
    sh.expect("who").await;
    sh.send(b"\x0c").await;
    sh.expect("\x1b[2J").await;
    let redrawn = sh.expect("who").await;
    let out = keys(&mut sh, b"ami\r").await;

    assert!(redrawn.contains(PROMPT), "prompt not redrawn: {redrawn:?}");
    assert!(out.contains("\r\nalice\r\n"), "{out:?}");
}

// ---- window size ----

#[tokio::test]
async fn a_window_change_makes_long_lines_scroll_within_the_new_width() {
    let server = server_with_alice().await;
    let mut sh = server.login("alice").await;
    let long = format!("card show {}", "q".repeat(60));

    sh.send(format!("{long}\x03").as_bytes()).await;
    let at_80 = sh.expect("^C").await;
    sh.expect(PROMPT).await;
    sh.channel
        .window_change(40, 24, 0, 0)
        .await
        .expect("window change");
    sh.send(format!("{long}\x03").as_bytes()).await;
    let at_40 = sh.expect("^C").await;
    sh.expect(PROMPT).await;
    let out = keys(&mut sh, format!("{long}\r").as_bytes()).await;

    // The line is typed right after the prompt; `^C` is not the editor's.
    let width = |drawn: &str| rightmost_column(PROMPT.len(), drawn.trim_end_matches("^C"));
    assert!(width(&at_80) > 40, "line never got wide: {at_80:?}");
    assert!(width(&at_80) <= 80, "drawn past column 80: {at_80:?}");
    assert!(width(&at_40) <= 40, "drawn past column 40: {at_40:?}");
    assert!(
        out.contains(&format!("no card named `{}`", "q".repeat(60))),
        "the whole line did not run: {out:?}"
    );
}

// ---- idle lock ----

#[tokio::test]
async fn an_idle_session_locks_and_the_right_pin_gives_the_prompt_back() {
    let server = TestServer::start_with(|a| a.idle_lock_secs = 1).await;
    server.register("alice").await;
    let mut sh = server.login("alice").await;

    let locked = sh.expect("PIN: ").await;
    sh.line(PIN).await;
    sh.expect(PROMPT).await;
    let out = sh.command("whoami", PROMPT).await;

    assert!(locked.contains("Locked after"), "{locked:?}");
    assert!(out.contains("alice"), "{out:?}");
    let after_lock = String::from_utf8_lossy(&sh.transcript).into_owned();
    let after_lock = &after_lock[after_lock.find("Locked after").expect("lock")..];
    assert!(!after_lock.contains(PIN), "PIN echoed");
}

#[tokio::test]
async fn an_idle_session_ends_after_three_wrong_pins() {
    let server = TestServer::start_with(|a| a.idle_lock_secs = 1).await;
    server.register("alice").await;
    let mut sh = server.login("alice").await;

    sh.expect("Locked after").await;
    for _ in 0..3 {
        sh.expect("PIN: ").await;
        sh.line("9999").await;
    }
    let rest = sh.finish().await;

    assert!(rest.contains("Too many attempts"), "{rest:?}");
    assert_eq!(sh.exit_status, Some(1));
    assert!(!rest.contains(PROMPT), "prompt came back: {rest:?}");
}

#[tokio::test]
async fn a_line_typed_before_the_idle_lock_is_not_run_after_it() {
    let server = TestServer::start_with(|a| a.idle_lock_secs = 1).await;
    server.register("alice").await;
    ok(
        &server,
        &format!("card add --name visa --number {VISA} --expiry 12/30"),
    )
    .await;
    let mut sh = server.login("alice").await;

    sh.send(b"card rm visa").await;
    sh.expect("card rm visa").await;
    sh.expect("PIN: ").await;
    sh.line(PIN).await;
    sh.expect(PROMPT).await;
    let out = keys(&mut sh, b"\r").await;

    assert!(!out.contains("Deleted"), "{out:?}");
    assert_eq!(card_names(&server).await, vec!["visa"]);
}

#[tokio::test]
async fn a_session_idle_at_an_interactive_prompt_locks_too() {
    let server = TestServer::start_with(|a| a.idle_lock_secs = 1).await;
    server.register("alice").await;
    let mut sh = server.login("alice").await;

    sh.line("card add").await;
    sh.expect("Name: ").await;
    let locked = sh.expect("PIN: ").await;

    assert!(locked.contains("Locked"), "{locked:?}");
}

// ---- secret prompts ----

#[tokio::test]
async fn secret_prompts_echo_nothing_of_what_is_typed() {
    let server = server_with_alice().await;
    let mut sh = server.login("alice").await;

    sh.line("card add --name visa --expiry 12/30 --holder Al --note n")
        .await;
    sh.expect("Card number: ").await;
    // Typing, a backspace and a correction: none of it may show.
    sh.send(format!("{VISA}9\x7f\r").as_bytes()).await;
    let after_number = sh.expect("CVV (optional): ").await;
    sh.send(b"739\r").await;
    let after_cvv = sh.expect(NEXT_PROMPT).await;

    assert_eq!(after_number, "\r\nCVV (optional): ", "{after_number:?}");
    assert!(after_cvv.starts_with("\r\nAdded card"), "{after_cvv:?}");
    assert!(!after_cvv.contains("739"), "{after_cvv:?}");
    let card = ok(&server, "card show visa --reveal --json").await;
    assert!(card.contains(VISA) && card.contains("\"739\""), "{card}");
}

#[tokio::test]
async fn the_passwd_prompts_echo_nothing() {
    let server = server_with_alice().await;
    let mut sh = server.login("alice").await;

    sh.line("passwd").await;
    sh.expect("Current password: ").await;
    sh.line(PASSWORD).await;
    sh.expect("New password: ").await;
    sh.line("another fine passphrase").await;
    sh.expect("Repeat: ").await;
    sh.line("another fine passphrase").await;
    sh.expect(NEXT_PROMPT).await;

    let seen = String::from_utf8_lossy(&sh.transcript).into_owned();
    assert!(!seen.contains(PASSWORD), "current password echoed");
    assert!(
        !seen.contains("another fine passphrase"),
        "new password echoed"
    );
    assert!(!seen.contains('*'), "masking characters echoed: {seen:?}");
}

#[tokio::test]
async fn a_quoted_secret_flag_is_kept_out_of_history_too() {
    let server = server_with_alice().await;
    let mut sh = server.login("alice").await;
    sh.command("whoami", PROMPT).await;
    sh.command("pass add --name a \"--password\" quoted-Secret-1", PROMPT)
        .await;

    let recalled = keys(&mut sh, b"\x1b[A\x03").await;

    let stored = ok(&server, "pass show a --reveal --json").await;
    assert!(
        stored.contains("quoted-Secret-1"),
        "not taken as the password: {stored}"
    );
    assert!(!recalled.contains("quoted-Secret-1"), "{recalled:?}");
}
