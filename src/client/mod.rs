//! The local client: `keeper shell`, `keeper login` and one-shot commands,
//! speaking only the HTTP API, with the shell's grammar and renderers.

mod api;
mod term;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use base64::Engine;
use clap::Args;
use rustyline::error::ReadlineError;
use zeroize::Zeroizing;

pub use api::{Api, HttpVault, Secrets};
use term::{KeeperHelper, LocalPrompter, Stdin, read_secret, read_visible};

use crate::domain::ItemKind;
use crate::shell::clipboard::{self, Copies};
use crate::shell::complete::ItemNames;
use crate::shell::input::Unattended;
use crate::shell::render::render;
use crate::shell::{
    Command, Ctx, Output, ShellError, Vault, history_may_keep, holds_secret, parse_line,
    parse_words,
};
use std::time::Duration;

/// Where the client finds the server.
#[derive(Debug, Clone, Args)]
pub struct ClientArgs {
    /// The server's base URL
    #[arg(
        long,
        env = "KEEPER_SERVER",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub server: String,
    /// A PEM certificate to trust for HTTPS (e.g. a self-signed server's)
    #[arg(long, env = "KEEPER_CA_CERT", global = true)]
    pub ca_cert: Option<PathBuf>,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start: {e}"))
}

fn api(args: &ClientArgs) -> anyhow::Result<Api> {
    let pem = match &args.ca_cert {
        Some(path) => Some(
            std::fs::read(path)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?,
        ),
        None => None,
    };
    Api::new(&args.server, pem.as_deref())
}

/// Asks for login, password and PIN on the terminal.
fn ask_credentials() -> anyhow::Result<(Zeroizing<String>, Secrets)> {
    let login = read_visible("Login: ").map_err(|e| anyhow::anyhow!("no login given: {e}"))?;
    let password =
        read_secret("Password: ").map_err(|e| anyhow::anyhow!("no password given: {e}"))?;
    let pin = read_secret("PIN: ").map_err(|e| anyhow::anyhow!("no PIN given: {e}"))?;
    Ok((login, Secrets { password, pin }))
}

fn token_from_env() -> Option<Zeroizing<String>> {
    std::env::var("KEEPER_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty())
        .map(|t| Zeroizing::new(t.trim().to_owned()))
}

/// Prints an output: OSC 52 for the clipboard only on a terminal. In the
/// shell (`clearing`), a copy is cleared from the clipboard again later
/// unless kept.
fn print(output: &Output, clearing: Option<&Clearing>) {
    let mut out = std::io::stdout();
    let rendered = render(output, out.is_terminal());
    let copied = rendered.clipboard.as_ref().filter(|_| out.is_terminal());
    if let Some(secret) = copied {
        let encoded =
            Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(secret.as_bytes()));
        let _ = write!(out, "\x1b]52;c;{}\x07", encoded.as_str());
    }
    let _ = out.write_all(rendered.stdout.as_bytes());
    if let (Some(_), Some(clearing)) = (copied, clearing) {
        let this = clearing.copies.copied();
        if !rendered.keep_clipboard {
            let (copies, delay) = (clearing.copies.clone(), clearing.after);
            std::thread::spawn(move || {
                std::thread::sleep(delay);
                if copies.is_latest(this) {
                    let mut out = std::io::stdout();
                    let _ = out.write_all(clipboard::CLEAR);
                    let _ = out.flush();
                }
            });
            let _ = out.write_all(clipboard::clearing_note(delay.as_secs()).as_bytes());
        }
    }
    let _ = out.flush();
}

/// The shell's copies, and how long a copy stays on the clipboard.
struct Clearing {
    copies: Copies,
    after: Duration,
}

impl Clearing {
    /// `KEEPER_CLIPBOARD_CLEAR_SECS` (1 to 3600) or 45 seconds.
    fn from_env() -> Self {
        let secs = std::env::var("KEEPER_CLIPBOARD_CLEAR_SECS")
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|s| (1..=3600).contains(s))
            .unwrap_or(45);
        Self {
            copies: Copies::default(),
            after: Duration::from_secs(secs),
        }
    }
}

/// `keeper login`: prints a token for `KEEPER_TOKEN`.
pub fn login(args: &ClientArgs) -> anyhow::Result<()> {
    let api = api(args)?;
    let (login, secrets) = ask_credentials()?;
    let rt = runtime()?;
    let token = rt.block_on(api.login(&login, &secrets.password, &secrets.pin))?;
    println!("{}", token.token.as_str());
    eprintln!(
        "Token valid until {} (and 30 minutes after its last use). Use: export KEEPER_TOKEN=…",
        token.expires_at
    );
    Ok(())
}

/// `keeper <command…>`: one command against the API with `KEEPER_TOKEN`.
/// Returns the exit status: 0 success, 1 the command failed, 2 unusable input.
pub fn one_shot(args: &ClientArgs, words: &[String]) -> ExitCode {
    let command = match parse_words(words) {
        Ok(Some(c)) => c,
        Ok(None) => return fail(2, "error: no command given (try `keeper help`)"),
        Err(e) => return fail(2, &e.user_line()),
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => return fail(1, &format!("error: {e}")),
    };
    let result = match command {
        Command::Help(h) => h.apply(),
        Command::PassGen(g) => g.apply(),
        command => {
            let Some(token) = token_from_env() else {
                return fail(
                    1,
                    "error: set KEEPER_TOKEN (run `keeper login`) or use `keeper shell`",
                );
            };
            let api = match api(args) {
                Ok(api) => api,
                Err(e) => return fail(1, &format!("error: {e}")),
            };
            rt.block_on(async {
                let mut vault = api.vault(token, None).await?;
                // On a terminal, questions; from a pipe, none, and a
                // note's text is standard input.
                if std::io::stdin().is_terminal() {
                    let mut prompter = LocalPrompter { editor: None };
                    command.run(&mut vault, &mut prompter).await
                } else {
                    command.run(&mut vault, &mut Unattended(Stdin)).await
                }
            })
        }
    };
    match result {
        Ok(output) => {
            print(&output, None);
            ExitCode::SUCCESS
        }
        Err(e) => {
            let status = u8::try_from(e.exit_status()).unwrap_or(1);
            fail(status, &e.user_line())
        }
    }
}

fn fail(code: u8, line: &str) -> ExitCode {
    eprintln!("{line}");
    ExitCode::from(code)
}

fn history_path() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("KEEPER_HISTORY") {
        return Some(PathBuf::from(p));
    }
    let base = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
    Some(base.join("keeper/history"))
}

/// `keeper shell`: the interactive shell over the API.
pub fn shell(args: &ClientArgs) -> anyhow::Result<()> {
    let api = api(args)?;
    let rt = runtime()?;
    let (mut vault, owned) = match token_from_env() {
        Some(token) => (rt.block_on(api.vault(token, None))?, false),
        None => {
            let (login, secrets) = ask_credentials()?;
            let token = rt.block_on(api.login(&login, &secrets.password, &secrets.pin))?;
            (rt.block_on(api.vault(token.token, Some(secrets)))?, true)
        }
    };
    // Tab lists candidates as readline does, and asks first when there are
    // more than a screenful would hold.
    let config = rustyline::Config::builder()
        .auto_add_history(false)
        .max_history_size(1000)?
        .completion_type(rustyline::CompletionType::List)
        .completion_prompt_limit(crate::editor::QUERY_ITEMS)
        .build();
    let mut editor = rustyline::Editor::<KeeperHelper, _>::with_config(config)?;
    editor.set_helper(Some(KeeperHelper::default()));
    let history = history_path();
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    println!("Vault unlocked. Type `help` for commands, `exit` to leave.");
    let prompt = format!("{}@keeper> ", vault.login());
    let mut refresh = true;
    let clearing = Clearing::from_env();
    loop {
        if refresh {
            let names = rt.block_on(async {
                let mut names = ItemNames::new();
                for kind in ItemKind::ALL.iter().copied() {
                    names.insert(kind, vault.item_names(kind).await.unwrap_or_default());
                }
                names
            });
            if let Some(helper) = editor.helper_mut() {
                helper.completer.names = names;
            }
            refresh = false;
        }
        let line = match editor.readline(&prompt) {
            Ok(line) => Zeroizing::new(line),
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e.into()),
        };
        if !holds_secret(&line) && !line.trim().is_empty() {
            let _ = editor.add_history_entry(line.as_str());
        }
        let command = match parse_line(&line) {
            Ok(Some(c)) => c,
            Ok(None) => continue,
            Err(e) => {
                eprintln!("{}", e.user_line());
                continue;
            }
        };
        refresh = command.changes_items();
        let result = rt.block_on(async {
            let mut prompter = LocalPrompter {
                editor: Some(&mut editor),
            };
            command
                .apply(&mut Ctx {
                    vault: &mut vault,
                    prompter: &mut prompter,
                })
                .await
        });
        match result {
            Ok(Output::Exit) => break,
            Ok(output @ Output::Deleted(_)) => {
                print(&output, None);
                break;
            }
            Ok(Output::Lock) => {
                println!("Locked.");
                break;
            }
            Ok(output) => print(&output, Some(&clearing)),
            Err(ShellError::Cancelled) => eprintln!("cancelled"),
            Err(e) => eprintln!("{}", e.user_line()),
        }
    }
    if let Some(path) = &history {
        // The session recalled every line without a secret flag; the file
        // keeps only those that hold nothing sealed at rest.
        let kept: Vec<String> = editor
            .history()
            .iter()
            .filter(|line| history_may_keep(line))
            .cloned()
            .collect();
        let _ = editor.clear_history();
        for line in &kept {
            let _ = editor.add_history_entry(line.as_str());
        }
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = editor.save_history(path);
    }
    if owned {
        let _ = rt.block_on(api.logout(vault.token()));
    }
    Ok(())
}
