//! The interactive shell over SSH, driven through a PTY by the russh client.

mod helpers;

use helpers::{PASSWORD, PIN, Shell, TestServer};

const PROMPT: &str = "alice@keeper> ";

#[tokio::test]
async fn registration_then_login_reaches_the_prompt_after_the_pin() {
    let server = TestServer::start().await;
    server.register("alice").await;

    let mut sh = server.login("alice").await;
    let out = sh.command("whoami", PROMPT).await;
    assert!(out.contains("alice"), "{out}");
    sh.line("exit").await;
    sh.finish().await;
    assert_eq!(sh.exit_status, Some(0));
}

#[tokio::test]
async fn wrong_pin_three_times_ends_the_session() {
    let server = TestServer::start().await;
    server.register("alice").await;

    let mut sh = Shell::connect(server.ssh_addr, "alice", Some(PASSWORD))
        .await
        .expect("login");
    sh.start_pty_shell().await;
    for _ in 0..3 {
        sh.expect("PIN: ").await;
        sh.line("9999").await;
    }
    let rest = sh.finish().await;
    assert!(rest.contains("Too many attempts"), "{rest}");
    assert_eq!(sh.exit_status, Some(1));
    assert!(!String::from_utf8_lossy(&sh.transcript).contains(PROMPT));
}

#[tokio::test]
async fn the_pin_is_not_echoed() {
    let server = TestServer::start().await;
    server.register("alice").await;
    let sh = server.login("alice").await;
    assert!(!String::from_utf8_lossy(&sh.transcript).contains(PIN));
}

#[tokio::test]
async fn a_password_change_elsewhere_ends_the_users_other_ssh_sessions() {
    let server = TestServer::start().await;
    server.register("alice").await;
    let mut other = server.login("alice").await;
    let mut changer = server.login("alice").await;

    changer.line("passwd").await;
    changer.expect("Current password: ").await;
    changer.line(PASSWORD).await;
    changer.expect("New password: ").await;
    changer.line("a brand new passphrase").await;
    changer.expect("Repeat: ").await;
    changer.line("a brand new passphrase").await;
    changer.expect("Password changed.").await;
    changer.expect(PROMPT).await;

    let rest = other.finish().await;
    assert!(rest.contains("changed in another session"), "{rest}");
    assert_eq!(other.exit_status, Some(1));
    let still = changer.command("whoami", PROMPT).await;
    assert!(
        still.contains("alice"),
        "the session that made the change stays open: {still}"
    );
}

#[tokio::test]
async fn a_note_pasted_into_the_pty_shell_keeps_its_lines_and_ctrl_d_ends_it() {
    let server = TestServer::start().await;
    server.register("alice").await;
    let mut sh = server.login("alice").await;

    sh.line("note add").await;
    sh.expect("Name: ").await;
    sh.line("ssh config").await;
    sh.expect("Ctrl-D):").await;
    sh.expect("> ").await;
    // A bracketed paste of three lines, CR LF and LF mixed, then a line
    // typed by hand and Ctrl-D on an empty line.
    sh.send(b"\x1b[200~Host vault\r\n  User alice\n  Port 2222\x1b[201~\r")
        .await;
    sh.line("# typed").await;
    sh.send(b"\x04").await;
    let added = sh.expect(PROMPT).await;
    let shown = sh
        .command("note show 'ssh config' --field text", PROMPT)
        .await;

    assert!(
        added.contains("Added note `ssh config` (4 lines)."),
        "{added}"
    );
    assert_eq!(
        helpers::strip_ansi(&shown)
            .replace("\r\n", "\n")
            .trim_start_matches(|c| c != '\n'),
        "\nHost vault\n  User alice\n  Port 2222\n# typed\n"
    );
}

#[tokio::test]
async fn totp_add_asks_for_the_secret_without_echo_and_takes_a_uri_as_the_answer() {
    let server = TestServer::start().await;
    server.register("alice").await;
    let mut sh = server.login("alice").await;
    let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    sh.line("totp add").await;
    sh.expect("Name: ").await;
    sh.line("bank").await;
    sh.expect("Secret (base32, or an otpauth:// URI): ").await;
    sh.line(&format!("otpauth://totp/Bank:ada?secret={secret}&digits=8"))
        .await;
    let added = sh.expect(PROMPT).await;
    let digits = sh.command("totp show bank --field digits", PROMPT).await;

    assert!(added.contains("Added one-time password `bank`."), "{added}");
    assert!(!added.contains(secret), "the secret was echoed: {added}");
    assert!(digits.contains("\n8\r\n"), "{digits:?}");
}

#[tokio::test]
async fn id_add_offers_every_field_and_takes_the_document_number_without_echo() {
    let server = TestServer::start().await;
    server.register("alice").await;
    let mut sh = server.login("alice").await;

    sh.line("id add").await;
    for (prompt, answer) in [
        ("Name: ", "me"),
        ("Full name (optional): ", "Ada Lovelace"),
        ("Email (optional): ", "not-an-email"),
        ("Email (optional): ", "ada@example.test"),
        ("Phone (optional): ", ""),
        ("Address (optional): ", ""),
        ("Document number (optional): ", "P7654321"),
        ("Note (optional): ", ""),
    ] {
        sh.expect(prompt).await;
        sh.line(answer).await;
    }
    let added = sh.expect(PROMPT).await;
    let email = sh.command("id show me --field email", PROMPT).await;

    assert!(added.contains("Added identity `me`."), "{added}");
    assert!(
        !added.contains("P7654321"),
        "the number was echoed: {added}"
    );
    assert!(email.contains("ada@example.test"), "{email}");
    let transcript = String::from_utf8_lossy(&sh.transcript).into_owned();
    assert!(
        transcript.contains("error: email: must look like"),
        "{transcript}"
    );
}

#[tokio::test]
async fn the_pty_shell_tags_asks_before_rm_restores_and_checks_health() {
    let server = TestServer::start().await;
    server.register("alice").await;
    let mut sh = server.login("alice").await;

    // Lines shorter than the terminal: a longer one is redrawn with the prompt.
    let added = sh
        .command(
            "pass add --name forum --password password1 --tag old",
            PROMPT,
        )
        .await;
    sh.command("pass edit forum --secret-field pin=4471", PROMPT)
        .await;
    let shown = sh.command("pass show forum", PROMPT).await;
    let health = sh.command("health", PROMPT).await;
    sh.line("pass rm forum").await;
    sh.expect("Delete `forum`? [y/N] ").await;
    sh.line("y").await;
    let removed = sh.expect(PROMPT).await;
    let trash = sh.command("trash list", PROMPT).await;
    let restored = sh.command("trash restore forum", PROMPT).await;
    let listed = sh.command("pass list --tag OLD", PROMPT).await;

    assert!(added.contains("Added password `forum`."), "{added}");
    assert!(shown.contains("Tags:") && shown.contains("old"), "{shown}");
    assert!(!shown.contains("4471"), "a secret field was shown: {shown}");
    assert!(
        health.contains("forum") && health.contains("1 of 1 passwords weak"),
        "{health}"
    );
    assert!(removed.contains("to the trash"), "{removed}");
    assert!(
        trash.contains("password") && trash.contains("forum"),
        "{trash}"
    );
    assert!(restored.contains("Restored password `forum`"), "{restored}");
    assert!(listed.contains("forum"), "{listed}");
}

#[tokio::test]
async fn the_pty_shell_asks_before_a_plain_export_and_twice_for_an_archives_passphrase() {
    let server = TestServer::start().await;
    server.register("alice").await;
    let mut sh = server.login("alice").await;
    sh.command("pass add --name forum --password Pty-Export-1", PROMPT)
        .await;

    sh.line("export --format bitwarden-json --plaintext").await;
    sh.expect("Write every secret unencrypted, as bitwarden-json? [y/N] ")
        .await;
    sh.line("n").await;
    let declined = sh.expect(PROMPT).await;

    sh.line("export").await;
    sh.expect("Archive passphrase (8 characters or more): ")
        .await;
    sh.line("short").await;
    let short = sh
        .expect("Archive passphrase (8 characters or more): ")
        .await;
    sh.line("pty-archive-passphrase").await;
    sh.expect("Repeat: ").await;
    sh.line("pty-archive-different").await;
    let differ = sh
        .expect("Archive passphrase (8 characters or more): ")
        .await;
    sh.line("pty-archive-passphrase").await;
    sh.expect("Repeat: ").await;
    sh.line("pty-archive-passphrase").await;
    let archive = sh.expect(PROMPT).await;
    let import = sh.command("import --format chrome-csv", PROMPT).await;

    assert!(declined.contains("Nothing was exported."), "{declined}");
    assert!(!declined.contains("Pty-Export-1"), "{declined}");
    assert!(short.contains("must be at least 8 characters"), "{short}");
    assert!(differ.contains("the passphrases differ"), "{differ}");
    assert!(
        !archive.contains("pty-archive"),
        "a passphrase was echoed: {archive}"
    );
    assert!(
        archive.contains("-----BEGIN AGE ENCRYPTED FILE-----"),
        "{archive}"
    );
    assert!(
        import.contains("import reads the file from standard input"),
        "{import}"
    );
}
