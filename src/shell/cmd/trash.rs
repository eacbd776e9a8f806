//! `trash list | restore | empty`, and the question `rm` asks first.

use crate::domain::ItemName;
use crate::shell::{Ctx, Output, Prompter, Question, ShellError, Vault};
use crate::views::sanitize::sanitize;

/// Whether the user answered yes to `prompt` (`[y/N]`: anything but `y` or
/// `yes` is no).
pub(super) async fn confirmed<P: Prompter>(p: &mut P, prompt: String) -> Result<bool, ShellError> {
    let question = Question {
        flag: "force",
        prompt,
        secret: false,
    };
    let answer = p.ask(&question).await?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// `trash list [--json]`.
#[derive(Debug)]
pub struct List {
    pub json: bool,
}

impl List {
    pub async fn apply(self, vault: &mut impl Vault) -> Result<Output, ShellError> {
        let items = vault.trash().await?;
        Ok(Output::Trash {
            items,
            json: self.json,
        })
    }
}

/// `trash restore NAME`.
#[derive(Debug)]
pub struct Restore {
    pub name: ItemName,
}

impl Restore {
    pub async fn apply(self, vault: &mut impl Vault) -> Result<Output, ShellError> {
        let restored = vault.restore(&self.name).await?;
        Ok(Output::Done(format!(
            "Restored {} `{}` from the trash.",
            restored.kind,
            sanitize(&restored.name)
        )))
    }
}

/// `trash empty [-f]`: asks first in a shell.
#[derive(Debug)]
pub struct Empty {
    pub force: bool,
}

impl Empty {
    pub async fn apply<V: Vault, P: Prompter>(
        self,
        ctx: &mut Ctx<'_, V, P>,
    ) -> Result<Output, ShellError> {
        // A script (exec) empties it without a question.
        let ask = !self.force && ctx.prompter.interactive();
        let prompt = "Delete everything in the trash for good? [y/N] ".to_owned();
        if ask && !confirmed(&mut *ctx.prompter, prompt).await? {
            return Ok(Output::Done("Kept the trash as it is.".to_owned()));
        }
        let count = ctx.vault.empty_trash().await?;
        Ok(Output::Done(match count {
            1 => "Deleted 1 item from the trash for good.".to_owned(),
            n => format!("Deleted {n} items from the trash for good."),
        }))
    }
}
