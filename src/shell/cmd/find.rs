//! `find TEXT`: every item whose name or shown fields hold the text; and
//! `health`, what is weak, reused, old or breached among the passwords.

use crate::shell::{Output, ShellError, Vault};

/// `find TEXT [--json]`.
#[derive(Debug)]
pub struct Find {
    pub text: String,
    pub json: bool,
}

impl Find {
    pub async fn apply(self, vault: &mut impl Vault) -> Result<Output, ShellError> {
        let items = vault.find(&self.text).await?;
        Ok(Output::Found {
            items,
            json: self.json,
        })
    }
}

/// `health [--json]`.
#[derive(Debug)]
pub struct Health {
    pub json: bool,
}

impl Health {
    pub async fn apply(self, vault: &mut impl Vault) -> Result<Output, ShellError> {
        let entries = vault.health().await?;
        Ok(Output::Health {
            entries,
            json: self.json,
        })
    }
}
