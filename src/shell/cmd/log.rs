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
        let events = vault.audit_log(self.limit).await?;
        Ok(Output::Events {
            events,
            json: self.json,
        })
    }
}
