//! `log`: the user's own audit events.

use crate::shell::{Ctx, Output, Prompter, ShellError, Vault};

/// `log [--limit N] [--json]`.
#[derive(Debug)]
pub struct Log {
    pub limit: u32,
    pub json: bool,
}

impl Log {
    pub async fn apply<V: Vault, P: Prompter>(
        self,
        ctx: &mut Ctx<'_, V, P>,
    ) -> Result<Output, ShellError> {
        let events = ctx.vault.audit_log(self.limit).await?;
        Ok(Output::Events {
            events,
            json: self.json,
        })
    }
}
