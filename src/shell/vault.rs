//! What commands need from a vault, whichever front end they run in: the
//! services directly (SSH) or the HTTP API (the local client).

use std::future::Future;

use zeroize::Zeroizing;

use crate::domain::{ItemKind, ItemName, Login, Password, Pin};
use crate::service::{Access, Edit, ItemRef, Origin, ServiceError, Services, TrashRef, Unlocked};
use crate::views::{EventView, FoundView, HealthEntry, HistoryEntry, TrashEntry, Viewed};

/// An unlocked vault as the commands see it.
pub trait Vault: Send {
    /// Whose vault this is.
    fn login(&self) -> &Login;

    /// Stores a new item.
    fn add<K: Viewed>(
        &mut self,
        fields: K::Fields,
    ) -> impl Future<Output = Result<K::Summary, ServiceError>> + Send;
    /// Every item of the kind, oldest first.
    fn list<K: Viewed>(
        &mut self,
    ) -> impl Future<Output = Result<Vec<K::Summary>, ServiceError>> + Send;
    /// One item, read as `access` says (secrets only when not a view).
    fn show<K: Viewed>(
        &mut self,
        name: &ItemName,
        access: Access,
    ) -> impl Future<Output = Result<K::Detail, ServiceError>> + Send;
    fn edit<K: Viewed>(
        &mut self,
        name: &ItemName,
        changes: K::Changes,
    ) -> impl Future<Output = Result<K::Summary, ServiceError>> + Send;
    fn remove<K: Viewed>(
        &mut self,
        name: &ItemName,
    ) -> impl Future<Output = Result<(), ServiceError>> + Send;
    /// How healthy each password entry is.
    fn health(&mut self) -> impl Future<Output = Result<Vec<HealthEntry>, ServiceError>> + Send;
    /// Reads `file` as `format` into new items, or says what it would.
    fn import(
        &mut self,
        format: crate::interchange::Format,
        file: Zeroizing<Vec<u8>>,
        passphrase: Option<Zeroizing<String>>,
        dry_run: bool,
    ) -> impl Future<Output = Result<crate::views::ImportSummary, ServiceError>> + Send;
    /// Every item written as `format` (Keeper's archive encrypted with
    /// `passphrase`).
    fn export(
        &mut self,
        format: crate::interchange::export::ExportFormat,
        passphrase: Option<Zeroizing<String>>,
    ) -> impl Future<Output = Result<Zeroizing<Vec<u8>>, ServiceError>> + Send;
    /// What is in the trash, oldest deletion first.
    fn trash(&mut self) -> impl Future<Output = Result<Vec<TrashEntry>, ServiceError>> + Send;
    /// Moves the item named `name` deleted last back from the trash.
    fn restore(
        &mut self,
        name: &ItemName,
    ) -> impl Future<Output = Result<TrashEntry, ServiceError>> + Send;
    /// Deletes everything in the trash for good; how many items.
    fn empty_trash(&mut self) -> impl Future<Output = Result<u64, ServiceError>> + Send;
    /// The earlier values of an item's secrets, newest first; the values
    /// only when `reveal`.
    fn history<K: Viewed>(
        &mut self,
        name: &ItemName,
        reveal: bool,
    ) -> impl Future<Output = Result<Vec<HistoryEntry>, ServiceError>> + Send;

    /// The user's own audit events, newest first; with `names`, each with
    /// the name of the item it targets.
    fn audit_log(
        &mut self,
        limit: u32,
        names: bool,
    ) -> impl Future<Output = Result<Vec<EventView>, ServiceError>> + Send;

    /// Whether the vault holds the login password and PIN it was opened
    /// with (else `passwd` asks for the PIN, and `pin` for the password).
    fn knows_credentials(&self) -> bool;

    /// Changes the login password after checking the current one; `pin` is
    /// needed only when [`Vault::knows_credentials`] is false.
    fn change_password(
        &mut self,
        current: &str,
        pin: Option<&str>,
        new: Password,
    ) -> impl Future<Output = Result<(), ServiceError>> + Send;

    /// Changes the PIN after checking the current one; `password` is needed
    /// only when [`Vault::knows_credentials`] is false.
    fn change_pin(
        &mut self,
        password: Option<&str>,
        current: &str,
        new: Pin,
    ) -> impl Future<Output = Result<(), ServiceError>> + Send;

    /// A new recovery key, shown as it is typed, after checking the
    /// password (and `pin`, needed only when [`Vault::knows_credentials`]
    /// is false); the old key stops working.
    fn new_recovery_key(
        &mut self,
        password: &str,
        pin: Option<&str>,
    ) -> impl Future<Output = Result<Zeroizing<String>, ServiceError>> + Send;

    /// Deletes the account and every item in it after checking the
    /// password and PIN again.
    fn delete_account(
        &mut self,
        password: &str,
        pin: &str,
    ) -> impl Future<Output = Result<(), ServiceError>> + Send;

    /// Every item whose name or shown fields contain `text`.
    fn find(
        &mut self,
        text: &str,
    ) -> impl Future<Output = Result<Vec<FoundView>, ServiceError>> + Send;

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

    async fn add<K: Viewed>(&mut self, fields: K::Fields) -> Result<K::Summary, ServiceError> {
        let item = self
            .services
            .add::<K>(&self.origin, &self.unlocked, fields)
            .await?;
        Ok(K::summary(&item))
    }

    async fn list<K: Viewed>(&mut self) -> Result<Vec<K::Summary>, ServiceError> {
        let items = self
            .services
            .list::<K>(&self.origin, &self.unlocked)
            .await?;
        Ok(items.iter().map(K::summary).collect())
    }

    async fn show<K: Viewed>(
        &mut self,
        name: &ItemName,
        access: Access,
    ) -> Result<K::Detail, ServiceError> {
        let item = self
            .services
            .get::<K>(&self.origin, &self.unlocked, ItemRef::Name(name), access)
            .await?;
        Ok(K::detail(&item, access != Access::View))
    }

    async fn edit<K: Viewed>(
        &mut self,
        name: &ItemName,
        changes: K::Changes,
    ) -> Result<K::Summary, ServiceError> {
        let item = self
            .services
            .edit::<K>(
                &self.origin,
                &self.unlocked,
                ItemRef::Name(name),
                Edit::Changes(changes),
            )
            .await?;
        Ok(K::summary(&item))
    }

    async fn remove<K: Viewed>(&mut self, name: &ItemName) -> Result<(), ServiceError> {
        self.services
            .remove::<K>(&self.origin, &self.unlocked, ItemRef::Name(name), false)
            .await
    }

    async fn health(&mut self) -> Result<Vec<HealthEntry>, ServiceError> {
        let report = self.services.health(&self.origin, &self.unlocked).await?;
        Ok(report.iter().map(HealthEntry::of).collect())
    }

    async fn import(
        &mut self,
        format: crate::interchange::Format,
        file: Zeroizing<Vec<u8>>,
        passphrase: Option<Zeroizing<String>>,
        dry_run: bool,
    ) -> Result<crate::views::ImportSummary, ServiceError> {
        let report = self
            .services
            .import(
                &self.origin,
                &self.unlocked,
                format,
                file,
                passphrase,
                dry_run,
            )
            .await?;
        Ok(crate::views::ImportSummary::of(&report))
    }

    async fn export(
        &mut self,
        format: crate::interchange::export::ExportFormat,
        passphrase: Option<Zeroizing<String>>,
    ) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
        self.services
            .export(&self.origin, &self.unlocked, format, passphrase)
            .await
    }

    async fn trash(&mut self) -> Result<Vec<TrashEntry>, ServiceError> {
        let trashed = self.services.trash(&self.origin, &self.unlocked).await?;
        Ok(trashed.iter().map(TrashEntry::of).collect())
    }

    async fn restore(&mut self, name: &ItemName) -> Result<TrashEntry, ServiceError> {
        let restored = self
            .services
            .restore(&self.origin, &self.unlocked, TrashRef::Name(name))
            .await?;
        Ok(TrashEntry::of(&restored))
    }

    async fn empty_trash(&mut self) -> Result<u64, ServiceError> {
        let count = self
            .services
            .empty_trash(&self.origin, &self.unlocked)
            .await?;
        Ok(u64::try_from(count).unwrap_or(u64::MAX))
    }

    async fn history<K: Viewed>(
        &mut self,
        name: &ItemName,
        reveal: bool,
    ) -> Result<Vec<HistoryEntry>, ServiceError> {
        let (_, history) = self
            .services
            .history::<K>(&self.origin, &self.unlocked, ItemRef::Name(name), reveal)
            .await?;
        Ok(HistoryEntry::list(&history, reveal))
    }

    async fn audit_log(&mut self, limit: u32, names: bool) -> Result<Vec<EventView>, ServiceError> {
        let events = self
            .services
            .audit_log(&self.unlocked, i64::from(limit))
            .await?;
        if !names {
            return Ok(events.iter().map(EventView::of).collect());
        }
        let labels = self
            .services
            .item_labels(&self.origin, &self.unlocked)
            .await?;
        Ok(events
            .iter()
            .map(|e| EventView::named(e, &labels))
            .collect())
    }

    fn knows_credentials(&self) -> bool {
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

    async fn new_recovery_key(
        &mut self,
        password: &str,
        _pin: Option<&str>,
    ) -> Result<Zeroizing<String>, ServiceError> {
        let key = self
            .services
            .reissue_recovery_key(
                &self.origin,
                &self.unlocked,
                password,
                &self.credentials.pin,
            )
            .await?;
        Ok(key.display())
    }

    async fn delete_account(&mut self, password: &str, pin: &str) -> Result<(), ServiceError> {
        self.services
            .delete_account(&self.origin, &self.unlocked, password, pin)
            .await
    }

    async fn find(&mut self, text: &str) -> Result<Vec<FoundView>, ServiceError> {
        let found = self
            .services
            .find_text(&self.origin, &self.unlocked, text)
            .await?;
        Ok(found.into_iter().map(FoundView::of).collect())
    }

    async fn item_names(&mut self, kind: ItemKind) -> Result<Vec<String>, ServiceError> {
        self.services
            .item_names(&self.origin, &self.unlocked, kind)
            .await
    }
}
