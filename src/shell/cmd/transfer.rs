//! `import`: another manager's export (or Keeper's archive) read into the
//! vault; `export`: the vault written out.

use zeroize::Zeroizing;

use super::trash::confirmed;
use crate::interchange::export::{ExportFormat, check_passphrase};
use crate::interchange::{Format, MAX_IMPORT_BYTES};
use crate::shell::{Ctx, Output, Prompter, Question, ShellError, Vault};

fn passphrase_question(prompt: &str) -> Question {
    Question {
        flag: "passphrase",
        prompt: prompt.to_owned(),
        secret: true,
    }
}

/// `import --format F [--dry-run] [--json] [FILE]`.
#[derive(Debug)]
pub struct Import {
    pub format: Format,
    pub dry_run: bool,
    pub json: bool,
    /// Where the local client reads the file; over SSH there is none.
    pub file: Option<String>,
}

impl Import {
    pub async fn apply<V: Vault, P: Prompter>(
        self,
        ctx: &mut Ctx<'_, V, P>,
    ) -> Result<Output, ShellError> {
        // Through exec the passphrase is the line before the archive.
        let passphrase = match self.format {
            Format::Keeper => Some(
                ctx.prompter
                    .ask_secret_line(&passphrase_question("Archive passphrase: "))
                    .await?,
            ),
            _ => None,
        };
        let file = ctx
            .prompter
            .read_file(self.file.as_deref(), MAX_IMPORT_BYTES)
            .await?;
        let summary = ctx
            .vault
            .import(self.format, file, passphrase, self.dry_run)
            .await?;
        Ok(Output::Imported {
            summary,
            json: self.json,
        })
    }
}

/// `export [--format F] [--plaintext [-f]]`.
#[derive(Debug)]
pub struct Export {
    pub format: ExportFormat,
    pub plaintext: bool,
    pub force: bool,
}

impl Export {
    pub async fn apply<V: Vault, P: Prompter>(
        self,
        ctx: &mut Ctx<'_, V, P>,
    ) -> Result<Output, ShellError> {
        let passphrase = if self.format.is_plaintext() {
            if !self.plaintext {
                return Err(ShellError::Usage(format!(
                    "error: {} holds every secret unencrypted: add --plaintext to write it \
                     (or export --format keeper, encrypted)",
                    self.format
                )));
            }
            let question = format!("Write every secret unencrypted, as {}? [y/N] ", self.format);
            if !self.force && !confirmed(&mut *ctx.prompter, question).await? {
                return Ok(Output::Done("Nothing was exported.".to_owned()));
            }
            None
        } else {
            Some(self.passphrase(&mut *ctx.prompter).await?)
        };
        let file = ctx.vault.export(self.format, passphrase).await?;
        let text = String::from_utf8(file.to_vec()).map_err(|e| {
            drop(Zeroizing::new(e.into_bytes()));
            ShellError::Usage("error: the export is not text".to_owned())
        })?;
        Ok(Output::File(Zeroizing::new(text)))
    }

    /// The archive's passphrase: asked twice of a person, else the line
    /// after the PIN.
    async fn passphrase<P: Prompter>(&self, p: &mut P) -> Result<Zeroizing<String>, ShellError> {
        if !p.interactive() {
            let given = p
                .ask_secret_line(&passphrase_question("Archive passphrase: "))
                .await?;
            check_passphrase(&given)?;
            return Ok(given);
        }
        for _ in 0..3 {
            let first = p
                .ask(&passphrase_question(
                    "Archive passphrase (8 characters or more): ",
                ))
                .await?;
            if let Err(e) = check_passphrase(&first) {
                p.say(&format!("error: {e}")).await?;
                continue;
            }
            let again = p.ask(&passphrase_question("Repeat: ")).await?;
            if *again == *first {
                return Ok(first);
            }
            p.say("error: the passphrases differ").await?;
        }
        Err(ShellError::TooManyAttempts(
            "error: no passphrase after three tries; nothing was exported".to_owned(),
        ))
    }
}
