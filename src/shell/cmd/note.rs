//! `note add | edit`, and how secure notes appear in the shell (`note list
//! | show | rm` are `item.rs`).

use super::Echo::Shown;
use super::item::Shelled;
use super::need;
use crate::domain::kind::SecureNote;
use crate::domain::{Extras, ExtrasChanges, ItemName, NoteChanges, NoteFields, NoteText};
use crate::shell::{Ctx, Output, Prompter, Question, ShellError, Vault};
use crate::views::sanitize::sanitize;
use crate::views::{NoteDetail, NoteSummary, SecretText};
use zeroize::Zeroizing;

/// Where a note's text comes from.
#[derive(Debug)]
pub enum Text {
    /// Given on the command line.
    Given(NoteText),
    /// Typed (a multi-line input ending with a line of `.`), or in SSH exec
    /// read from standard input after the PIN line.
    Read,
}

/// Reads a note's text the way the front end reads several lines.
async fn read_text<P: Prompter>(p: &mut P) -> Result<NoteText, ShellError> {
    let question = Question {
        flag: "text",
        prompt: "Text (end with a line holding only `.`, or Ctrl-D):".to_owned(),
        secret: false,
    };
    let text = p.ask_text(&question).await?;
    Ok(NoteText::parse(&text)?)
}

impl Text {
    async fn resolve<P: Prompter>(self, p: &mut P) -> Result<NoteText, ShellError> {
        match self {
            Text::Given(text) => Ok(text),
            Text::Read => read_text(p).await,
        }
    }
}

/// `note add`: a missing name is asked for, a missing text read.
#[derive(Debug)]
pub struct Add {
    pub name: Option<ItemName>,
    pub text: Text,
    pub extras: Extras,
}

impl Add {
    pub async fn apply<V: Vault, P: Prompter>(
        self,
        ctx: &mut Ctx<'_, V, P>,
    ) -> Result<Output, ShellError> {
        let p = &mut *ctx.prompter;
        let fields = NoteFields {
            name: need(p, self.name, ("name", "Name", Shown), ItemName::parse).await?,
            text: self.text.resolve(p).await?,
            extras: self.extras,
        };
        let lines = fields.text.expose().split('\n').count();
        let note = ctx.vault.add::<SecureNote>(fields).await?;
        Ok(Output::Done(format!(
            "Added note `{}` ({lines} line{}).",
            sanitize(&note.name),
            if lines == 1 { "" } else { "s" }
        )))
    }
}

/// `note edit NAME [--name N] [--text T | --text -]`.
#[derive(Debug)]
pub struct Edit {
    pub name: ItemName,
    pub new_name: Option<ItemName>,
    pub text: Option<Text>,
    pub extras: ExtrasChanges,
}

impl Edit {
    pub async fn apply<V: Vault, P: Prompter>(
        self,
        ctx: &mut Ctx<'_, V, P>,
    ) -> Result<Output, ShellError> {
        if self.new_name.is_none() && self.text.is_none() && self.extras.is_empty() {
            return Err(ShellError::Usage(format!(
                "error: nothing to change; give at least one of {} (`--text -` to type it)",
                SecureNote::EDIT_FLAGS
            )));
        }
        let text = match self.text {
            Some(text) => Some(text.resolve(&mut *ctx.prompter).await?),
            None => None,
        };
        let changes = NoteChanges {
            name: self.new_name,
            text,
            extras: self.extras,
        };
        let note = ctx.vault.edit::<SecureNote>(&self.name, changes).await?;
        Ok(Output::Done(format!(
            "Updated note `{}`.",
            sanitize(&note.name)
        )))
    }
}

impl Shelled for SecureNote {
    const NOUN: &'static str = "note";
    const SHELL_WORD: &'static str = "note";
    const EDIT_FLAGS: &'static str = "--name --text --tag --field --secret-field";
    fn field(n: &NoteDetail, name: &str) -> Option<Zeroizing<String>> {
        match name {
            "name" => Some(Zeroizing::new(n.summary.name.clone())),
            "text" => n.text.as_ref().map(SecretText::to_zeroizing),
            _ => None,
        }
    }

    fn list_output(notes: Vec<NoteSummary>, json: bool) -> Output {
        Output::Notes { notes, json }
    }

    fn show_output(note: NoteDetail, json: bool) -> Output {
        Output::Note {
            note: Box::new(note),
            json,
        }
    }
}
