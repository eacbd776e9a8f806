//! What commands need from a vault, whichever front end they run in: the
//! services directly (SSH) or the HTTP API (the local client).

use std::future::Future;

use zeroize::Zeroizing;

use crate::domain::kind::{Card, Password as PasswordKind};
use crate::domain::{ItemKind, ItemName, Login, Password, Pin};
use crate::service::{
    Access, CardChanges, CardFields, Edit, ItemRef, Origin, PasswordChanges, PasswordFields,
    ServiceError, Services, Unlocked,
};
use crate::views::{CardDetail, CardSummary, EventView, PasswordDetail, PasswordSummary};

/// An unlocked vault as the commands see it.
pub trait Vault: Send {
    /// Whose vault this is.
    fn login(&self) -> &Login;

    fn add_card(
        &mut self,
        fields: CardFields,
    ) -> impl Future<Output = Result<CardSummary, ServiceError>> + Send;
    fn list_cards(&mut self)
    -> impl Future<Output = Result<Vec<CardSummary>, ServiceError>> + Send;
    fn card(
        &mut self,
        name: &ItemName,
        reveal: bool,
    ) -> impl Future<Output = Result<CardDetail, ServiceError>> + Send;
    fn edit_card(
        &mut self,
        name: &ItemName,
        changes: CardChanges,
    ) -> impl Future<Output = Result<CardSummary, ServiceError>> + Send;
    fn remove_card(
        &mut self,
        name: &ItemName,
    ) -> impl Future<Output = Result<(), ServiceError>> + Send;

    fn add_password(
        &mut self,
        fields: PasswordFields,
    ) -> impl Future<Output = Result<PasswordSummary, ServiceError>> + Send;
    fn list_passwords(
        &mut self,
    ) -> impl Future<Output = Result<Vec<PasswordSummary>, ServiceError>> + Send;
    fn password(
        &mut self,
        name: &ItemName,
        access: Access,
    ) -> impl Future<Output = Result<PasswordDetail, ServiceError>> + Send;
    fn edit_password(
        &mut self,
        name: &ItemName,
        changes: PasswordChanges,
    ) -> impl Future<Output = Result<PasswordSummary, ServiceError>> + Send;
    fn remove_password(
        &mut self,
        name: &ItemName,
    ) -> impl Future<Output = Result<(), ServiceError>> + Send;

    /// The user's own audit events, newest first.
    fn audit_log(
        &mut self,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<EventView>, ServiceError>> + Send;

    /// Whether the vault holds the PIN it was unlocked with (else `passwd` asks for it).
    fn knows_pin(&self) -> bool;

    /// Whether the vault holds the login password (else `pin` asks for it).
    fn knows_password(&self) -> bool;

    /// Changes the login password after checking the current one; `pin` is
    /// needed only when [`Vault::knows_pin`] is false.
    fn change_password(
        &mut self,
        current: &str,
        pin: Option<&str>,
        new: Password,
    ) -> impl Future<Output = Result<(), ServiceError>> + Send;

    /// Changes the PIN after checking the current one; `password` is needed
    /// only when [`Vault::knows_password`] is false.
    fn change_pin(
        &mut self,
        password: Option<&str>,
        current: &str,
        new: Pin,
    ) -> impl Future<Output = Result<(), ServiceError>> + Send;

    /// Names of the user's items of one kind, for completion.
    fn item_names(
        &mut self,
        kind: ItemKind,
    ) -> impl Future<Output = Result<Vec<String>, ServiceError>> + Send;
}

/// The session's credentials, kept (zeroized on drop) so the vault can be
/// unlocked again with the PIN alone and re-wrapped by `passwd` and `pin`.
#[derive(Default, Clone)]
pub struct Credentials {
    pub password: Zeroizing<String>,
    pub pin: Zeroizing<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials(***)")
    }
}

/// A vault served by the services in this process (the SSH front end).
#[derive(Debug)]
pub struct LocalVault {
    services: Services,
    origin: Origin,
    unlocked: Unlocked,
    credentials: Credentials,
}

impl LocalVault {
    pub fn new(
        services: Services,
        origin: Origin,
        unlocked: Unlocked,
        credentials: Credentials,
    ) -> Self {
        Self {
            services,
            origin,
            unlocked,
            credentials,
        }
    }

    pub fn unlocked(&self) -> &Unlocked {
        &self.unlocked
    }

    /// Drops the keys, keeping the credentials for unlocking again.
    pub fn lock(self) -> Credentials {
        self.credentials
    }
}

impl Vault for LocalVault {
    fn login(&self) -> &Login {
        self.unlocked.login()
    }

    async fn add_card(&mut self, fields: CardFields) -> Result<CardSummary, ServiceError> {
        let card = self
            .services
            .add::<Card>(&self.origin, &self.unlocked, fields)
            .await?;
        Ok(CardSummary::of(&card))
    }

    async fn list_cards(&mut self) -> Result<Vec<CardSummary>, ServiceError> {
        let cards = self
            .services
            .list::<Card>(&self.origin, &self.unlocked)
            .await?;
        Ok(cards.iter().map(CardSummary::of).collect())
    }

    async fn card(&mut self, name: &ItemName, reveal: bool) -> Result<CardDetail, ServiceError> {
        let card = self
            .services
            .get::<Card>(
                &self.origin,
                &self.unlocked,
                ItemRef::Name(name),
                access(reveal),
            )
            .await?;
        Ok(CardDetail::of(&card, reveal))
    }

    async fn edit_card(
        &mut self,
        name: &ItemName,
        changes: CardChanges,
    ) -> Result<CardSummary, ServiceError> {
        let card = self
            .services
            .edit::<Card>(
                &self.origin,
                &self.unlocked,
                ItemRef::Name(name),
                Edit::Changes(changes),
            )
            .await?;
        Ok(CardSummary::of(&card))
    }

    async fn remove_card(&mut self, name: &ItemName) -> Result<(), ServiceError> {
        self.services
            .remove::<Card>(&self.origin, &self.unlocked, ItemRef::Name(name))
            .await
    }

    async fn add_password(
        &mut self,
        fields: PasswordFields,
    ) -> Result<PasswordSummary, ServiceError> {
        let entry = self
            .services
            .add::<PasswordKind>(&self.origin, &self.unlocked, fields)
            .await?;
        Ok(PasswordSummary::of(&entry))
    }

    async fn list_passwords(&mut self) -> Result<Vec<PasswordSummary>, ServiceError> {
        let entries = self
            .services
            .list::<PasswordKind>(&self.origin, &self.unlocked)
            .await?;
        Ok(entries.iter().map(PasswordSummary::of).collect())
    }

    async fn password(
        &mut self,
        name: &ItemName,
        access: Access,
    ) -> Result<PasswordDetail, ServiceError> {
        let entry = self
            .services
            .get::<PasswordKind>(&self.origin, &self.unlocked, ItemRef::Name(name), access)
            .await?;
        Ok(PasswordDetail::of(&entry, access != Access::View))
    }

    async fn edit_password(
        &mut self,
        name: &ItemName,
        changes: PasswordChanges,
    ) -> Result<PasswordSummary, ServiceError> {
        let entry = self
            .services
            .edit::<PasswordKind>(
                &self.origin,
                &self.unlocked,
                ItemRef::Name(name),
                Edit::Changes(changes),
            )
            .await?;
        Ok(PasswordSummary::of(&entry))
    }

    async fn remove_password(&mut self, name: &ItemName) -> Result<(), ServiceError> {
        self.services
            .remove::<PasswordKind>(&self.origin, &self.unlocked, ItemRef::Name(name))
            .await
    }

    async fn audit_log(&mut self, limit: u32) -> Result<Vec<EventView>, ServiceError> {
        let events = self
            .services
            .audit_log(&self.unlocked, i64::from(limit))
            .await?;
        Ok(events.iter().map(EventView::of).collect())
    }

    fn knows_pin(&self) -> bool {
        true
    }

    fn knows_password(&self) -> bool {
        true
    }

    async fn change_password(
        &mut self,
        current: &str,
        _pin: Option<&str>,
        new: Password,
    ) -> Result<(), ServiceError> {
        self.services
            .change_password(
                &self.origin,
                &self.unlocked,
                current,
                &self.credentials.pin,
                new.clone(),
            )
            .await?;
        self.credentials.password = Zeroizing::new(new.expose().to_owned());
        Ok(())
    }

    async fn change_pin(
        &mut self,
        _password: Option<&str>,
        current: &str,
        new: Pin,
    ) -> Result<(), ServiceError> {
        self.services
            .change_pin(
                &self.origin,
                &self.unlocked,
                &self.credentials.password,
                current,
                new.clone(),
            )
            .await?;
        self.credentials.pin = Zeroizing::new(new.expose().to_owned());
        Ok(())
    }

    async fn item_names(&mut self, kind: ItemKind) -> Result<Vec<String>, ServiceError> {
        self.services
            .item_names(&self.origin, &self.unlocked, kind)
            .await
    }
}

/// A card's access for `card show`: a reveal, or a view.
fn access(reveal: bool) -> Access {
    if reveal { Access::Reveal } else { Access::View }
}
