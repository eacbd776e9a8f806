//! `log`: the user's own audit events.

use crate::shell::{Ctx, Output, Prompter, ShellError};

/// `log [--limit N] [--json]`.
#[derive(Debug)]
pub struct Log {
    pub limit: u32,
    pub json: bool,
}

impl Log {
    pub async fn apply<P: Prompter>(self, ctx: &mut Ctx<'_, P>) -> Result<Output, ShellError> {
        let events = ctx
            .services
            .audit_log(ctx.vault, i64::from(self.limit))
            .await?;
        Ok(Output::Events {
            events,
            json: self.json,
        })
    }
}
