//! `log`: the user's own audit events.

use crate::shell::{Output, ShellError, Vault};

/// `log [--limit N] [--json]`.
#[derive(Debug)]
pub struct Log {
    pub limit: u32,
    pub json: bool,
}

impl Log {
    pub async fn apply(self, vault: &mut impl Vault) -> Result<Output, ShellError> {
        // Names go beside ids on the screen; the JSON keeps the log's shape.
        let events = vault.audit_log(self.limit, !self.json).await?;
        Ok(Output::Events {
            events,
            json: self.json,
        })
    }
}
