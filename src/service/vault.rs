//! Cards and passwords: sealed on the way in, opened on the way out, audited.

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use time::OffsetDateTime;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::{Origin, ServiceError, Services, Unlocked};
use crate::crypto::random_id;
use crate::domain::{
    Action, Brand, CardId, CardNumber, Cvv, DomainError, Expiry, Holder, ItemKind, ItemName, Note,
    Outcome, PasswordId, Secret, Url, Username,
};
pub use crate::domain::{CardChanges, CardFields, PasswordChanges, PasswordFields};
use crate::storage::{ItemRecord, StoreError};

/// A stored card, opened.
#[derive(Debug, Clone)]
pub struct Card {
    pub id: CardId,
    pub fields: CardFields,
    pub version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl Card {
    pub fn brand(&self) -> Brand {
        self.fields.number.brand()
    }
    pub fn last4(&self) -> String {
        self.fields.number.last4()
    }
}

/// A stored password entry, opened.
#[derive(Debug, Clone)]
pub struct PasswordEntry {
    pub id: PasswordId,
    pub fields: PasswordFields,
    pub version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// How a password entry is being read, for the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    View,
    Reveal,
    Copy,
}

// The plaintext inside `sealed`: plain strings, zeroized when dropped.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
struct CardPayload {
    name: String,
    number: String,
    holder: Option<String>,
    expiry: String,
    cvv: Option<String>,
    note: Option<String>,
}

#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
struct PasswordPayload {
    name: String,
    url: Option<String>,
    username: Option<String>,
    password: String,
    note: Option<String>,
}

trait Payload: Serialize + DeserializeOwned {
    type Fields;
    const KIND: ItemKind;
    fn name(f: &Self::Fields) -> &ItemName;
    fn from_fields(f: &Self::Fields) -> Self;
    fn to_fields(&self) -> Result<Self::Fields, DomainError>;
}

fn opt<T>(
    v: &Option<String>,
    parse: impl Fn(&str) -> Result<T, DomainError>,
) -> Result<Option<T>, DomainError> {
    v.as_deref().map(parse).transpose()
}

impl Payload for CardPayload {
    type Fields = CardFields;
    const KIND: ItemKind = ItemKind::Card;
    fn name(f: &CardFields) -> &ItemName {
        &f.name
    }
    fn from_fields(f: &CardFields) -> Self {
        Self {
            name: f.name.as_str().to_owned(),
            number: f.number.expose().to_owned(),
            holder: f.holder.as_ref().map(|h| h.as_str().to_owned()),
            expiry: f.expiry.to_string(),
            cvv: f.cvv.as_ref().map(|c| c.expose().to_owned()),
            note: f.note.as_ref().map(|n| n.as_str().to_owned()),
        }
    }
    fn to_fields(&self) -> Result<CardFields, DomainError> {
        Ok(CardFields {
            name: ItemName::named(&self.name)?,
            number: CardNumber::parse(&self.number)?,
            holder: opt(&self.holder, Holder::parse)?,
            expiry: Expiry::parse(&self.expiry)?,
            cvv: opt(&self.cvv, Cvv::parse)?,
            note: opt(&self.note, Note::parse)?,
        })
    }
}

impl Payload for PasswordPayload {
    type Fields = PasswordFields;
    const KIND: ItemKind = ItemKind::Password;
    fn name(f: &PasswordFields) -> &ItemName {
        &f.name
    }
    fn from_fields(f: &PasswordFields) -> Self {
        Self {
            name: f.name.as_str().to_owned(),
            url: f.url.as_ref().map(|u| u.as_str().to_owned()),
            username: f.username.as_ref().map(|u| u.as_str().to_owned()),
            password: f.password.expose().to_owned(),
            note: f.note.as_ref().map(|n| n.as_str().to_owned()),
        }
    }
    fn to_fields(&self) -> Result<PasswordFields, DomainError> {
        Ok(PasswordFields {
            name: ItemName::named(&self.name)?,
            url: opt(&self.url, Url::parse)?,
            username: opt(&self.username, Username::parse)?,
            password: Secret::parse(&self.password)?,
            note: opt(&self.note, Note::parse)?,
        })
    }
}

fn not_found(kind: ItemKind, name: &ItemName) -> ServiceError {
    ServiceError::NotFound {
        kind: kind.as_str(),
        name: name.as_str().to_owned(),
    }
}

fn taken(kind: ItemKind, name: &ItemName) -> ServiceError {
    ServiceError::Conflict(format!("a {kind} named `{}` already exists", name.as_str()))
}

fn check_cvv(f: &CardFields) -> Result<(), ServiceError> {
    if let Some(cvv) = &f.cvv {
        cvv.check_for(f.number.brand())?;
    }
    Ok(())
}

struct Opened<F> {
    record: ItemRecord,
    fields: F,
}

impl Services {
    fn seal<P: Payload>(
        &self,
        s: &Unlocked,
        id: i64,
        version: i64,
        fields: &P::Fields,
    ) -> Result<Vec<u8>, ServiceError> {
        let plain = Zeroizing::new(
            serde_json::to_vec(&P::from_fields(fields))
                .map_err(|e| ServiceError::Unexpected(format!("encode item: {e}")))?,
        );
        Ok(s.keys()
            .seal_item(s.user().get(), P::KIND, id, version, &plain)?)
    }

    /// Opens a stored item; one that does not open under its own binding
    /// (user, kind, row, version) was altered in the database.
    fn open<P: Payload>(
        &self,
        s: &Unlocked,
        record: ItemRecord,
    ) -> Result<Opened<P::Fields>, ServiceError> {
        let plain = s
            .keys()
            .open_item(
                s.user().get(),
                P::KIND,
                record.id,
                record.version,
                &record.sealed,
            )
            .map_err(|e| match e {
                crate::crypto::CryptoError::Authentication => {
                    ServiceError::Tampered { item: record.id }
                }
                e => e.into(),
            })?;
        let payload: P = serde_json::from_slice(&plain)
            .map_err(|e| ServiceError::Unexpected(format!("decode item {}: {e}", record.id)))?;
        let fields = payload.to_fields().map_err(|e| {
            ServiceError::Unexpected(format!("stored item {} invalid: {e}", record.id))
        })?;
        Ok(Opened { record, fields })
    }

    async fn insert<P: Payload>(
        &self,
        origin: &Origin,
        s: &Unlocked,
        name: &ItemName,
        fields: &P::Fields,
        action: Action,
    ) -> Result<ItemRecord, ServiceError> {
        let kind = P::KIND;
        let limit = self.inner.limits.items_per_kind;
        // The unique index catches a taken name in its current form; one
        // stored by an earlier version may sit under an older form.
        if !name.legacy_forms().is_empty() && self.indexed::<P>(s, name).await?.is_some() {
            return Err(taken(kind, name));
        }
        let id = random_id();
        let now = super::now();
        let record = ItemRecord {
            id,
            user: s.user(),
            name_index: s.keys().name_index(kind, &name.normalized()),
            sealed: self.seal::<P>(s, id, 1, fields)?,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let audit = origin.audit(Some(s.user()), action, Some(id), Outcome::Ok);
        match self.store().insert_item(kind, &record, limit, &audit).await {
            Err(StoreError::Conflict) => Err(taken(kind, name)),
            Err(StoreError::LimitReached) => Err(ServiceError::LimitReached(format!(
                "you already store {limit} {kind}s, the most allowed"
            ))),
            other => other.map(|()| record).map_err(Into::into),
        }
    }

    /// Passes `result` on; an item found altered is logged and audited
    /// first (nothing else happens to it).
    async fn checked<T>(
        &self,
        origin: &Origin,
        s: &Unlocked,
        result: Result<T, ServiceError>,
    ) -> Result<T, ServiceError> {
        if let Err(ServiceError::Tampered { item }) = &result {
            tracing::error!(item, user = %s.user(), "stored item failed its integrity check");
            let audit = origin.audit(
                Some(s.user()),
                Action::Tampered,
                Some(*item),
                Outcome::Failed,
            );
            self.store().record(&audit).await?;
        }
        result
    }

    /// The item named `name`. The name inside the sealed item must be the
    /// one looked up: an index moved to another row is tampering.
    async fn find<P: Payload>(
        &self,
        origin: &Origin,
        s: &Unlocked,
        name: &ItemName,
    ) -> Result<Opened<P::Fields>, ServiceError> {
        let record = self
            .indexed::<P>(s, name)
            .await?
            .ok_or_else(|| not_found(P::KIND, name))?;
        let id = record.id;
        let opened = self.open::<P>(s, record).and_then(|o| {
            if P::name(&o.fields).normalized() == name.normalized() {
                Ok(o)
            } else {
                Err(ServiceError::Tampered { item: id })
            }
        });
        self.checked(origin, s, opened).await
    }

    /// The row indexed under `name`: under its current form, or else under
    /// a form an earlier version indexed it by.
    async fn indexed<P: Payload>(
        &self,
        s: &Unlocked,
        name: &ItemName,
    ) -> Result<Option<ItemRecord>, ServiceError> {
        let index = s.keys().name_index(P::KIND, &name.normalized());
        if let Some(record) = self
            .store()
            .item_by_index(s.user(), P::KIND, &index)
            .await?
        {
            return Ok(Some(record));
        }
        for form in name.legacy_forms() {
            let index = s.keys().name_index(P::KIND, &form);
            if let Some(record) = self
                .store()
                .item_by_index(s.user(), P::KIND, &index)
                .await?
            {
                return Ok(Some(record));
            }
        }
        Ok(None)
    }

    async fn find_by_id<P: Payload>(
        &self,
        origin: &Origin,
        s: &Unlocked,
        id: i64,
    ) -> Result<Opened<P::Fields>, ServiceError> {
        let record = self
            .store()
            .item_by_id(s.user(), P::KIND, id)
            .await?
            .ok_or(ServiceError::NotFoundId)?;
        let opened = self.open::<P>(s, record);
        self.checked(origin, s, opened).await
    }

    async fn list<P: Payload>(
        &self,
        origin: &Origin,
        s: &Unlocked,
    ) -> Result<Vec<Opened<P::Fields>>, ServiceError> {
        let opened = self
            .store()
            .list_items(s.user(), P::KIND)
            .await?
            .into_iter()
            .map(|r| self.open::<P>(s, r))
            .collect();
        self.checked(origin, s, opened).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn replace<P: Payload>(
        &self,
        origin: &Origin,
        s: &Unlocked,
        old: ItemRecord,
        expected: i64,
        fields: &P::Fields,
        name: &ItemName,
        action: Action,
    ) -> Result<ItemRecord, ServiceError> {
        let record = ItemRecord {
            name_index: s.keys().name_index(P::KIND, &name.normalized()),
            sealed: self.seal::<P>(s, old.id, expected + 1, fields)?,
            version: expected + 1,
            updated_at: super::now(),
            ..old.clone()
        };
        let audit = origin.audit(Some(s.user()), action, Some(old.id), Outcome::Ok);
        match self
            .store()
            .update_item(P::KIND, &record, expected, &audit)
            .await
        {
            Err(StoreError::Conflict) => Err(taken(P::KIND, name)),
            other => other.map(|()| record).map_err(Into::into),
        }
    }

    async fn remove<P: Payload>(
        &self,
        origin: &Origin,
        s: &Unlocked,
        name: &ItemName,
        action: Action,
    ) -> Result<(), ServiceError> {
        let Opened { record, .. } = self.find::<P>(origin, s, name).await?;
        match self.remove_id::<P>(origin, s, record.id, action).await {
            Err(ServiceError::NotFoundId) => Err(not_found(P::KIND, name)),
            other => other,
        }
    }

    async fn remove_id<P: Payload>(
        &self,
        origin: &Origin,
        s: &Unlocked,
        id: i64,
        action: Action,
    ) -> Result<(), ServiceError> {
        let audit = origin.audit(Some(s.user()), action, Some(id), Outcome::Ok);
        Ok(self
            .store()
            .delete_item(P::KIND, s.user(), id, &audit)
            .await?)
    }

    async fn audit_read(
        &self,
        origin: &Origin,
        s: &Unlocked,
        action: Action,
        target: Option<i64>,
    ) -> Result<(), ServiceError> {
        let audit = origin.audit(Some(s.user()), action, target, Outcome::Ok);
        Ok(self.store().record(&audit).await?)
    }

    /// The names of a user's items of one kind, for completion. Not audited:
    /// nothing but names the user already typed leaves the session.
    pub async fn item_names(
        &self,
        origin: &Origin,
        s: &Unlocked,
        kind: ItemKind,
    ) -> Result<Vec<String>, ServiceError> {
        Ok(match kind {
            ItemKind::Card => self
                .list::<CardPayload>(origin, s)
                .await?
                .into_iter()
                .map(|o| o.fields.name.as_str().to_owned())
                .collect(),
            ItemKind::Password => self
                .list::<PasswordPayload>(origin, s)
                .await?
                .into_iter()
                .map(|o| o.fields.name.as_str().to_owned())
                .collect(),
        })
    }

    // ---- cards ----

    /// Stores a new card.
    pub async fn add_card(
        &self,
        origin: &Origin,
        s: &Unlocked,
        fields: CardFields,
    ) -> Result<Card, ServiceError> {
        check_cvv(&fields)?;
        let record = self
            .insert::<CardPayload>(origin, s, &fields.name, &fields, Action::CardCreate)
            .await?;
        Ok(card(Opened { record, fields }))
    }

    /// Every card of the user, oldest first.
    pub async fn list_cards(
        &self,
        origin: &Origin,
        s: &Unlocked,
    ) -> Result<Vec<Card>, ServiceError> {
        let cards = self
            .list::<CardPayload>(origin, s)
            .await?
            .into_iter()
            .map(card)
            .collect();
        self.audit_read(origin, s, Action::CardView, None).await?;
        Ok(cards)
    }

    /// One card by name; `reveal` is recorded as such in the audit log.
    pub async fn card(
        &self,
        origin: &Origin,
        s: &Unlocked,
        name: &ItemName,
        reveal: bool,
    ) -> Result<Card, ServiceError> {
        let opened = self.find::<CardPayload>(origin, s, name).await?;
        let action = if reveal {
            Action::CardReveal
        } else {
            Action::CardView
        };
        self.audit_read(origin, s, action, Some(opened.record.id))
            .await?;
        Ok(card(opened))
    }

    /// Applies changes to a card.
    pub async fn edit_card(
        &self,
        origin: &Origin,
        s: &Unlocked,
        name: &ItemName,
        changes: CardChanges,
    ) -> Result<Card, ServiceError> {
        let Opened { record, mut fields } = self.find::<CardPayload>(origin, s, name).await?;
        changes.apply_to(&mut fields);
        check_cvv(&fields)?;
        let record = self
            .replace::<CardPayload>(
                origin,
                s,
                record.clone(),
                record.version,
                &fields,
                &fields.name,
                Action::CardUpdate,
            )
            .await?;
        Ok(card(Opened { record, fields }))
    }

    /// Deletes a card.
    pub async fn remove_card(
        &self,
        origin: &Origin,
        s: &Unlocked,
        name: &ItemName,
    ) -> Result<(), ServiceError> {
        self.remove::<CardPayload>(origin, s, name, Action::CardDelete)
            .await
    }

    // ---- passwords ----

    /// Stores a new password entry.
    pub async fn add_password(
        &self,
        origin: &Origin,
        s: &Unlocked,
        fields: PasswordFields,
    ) -> Result<PasswordEntry, ServiceError> {
        let record = self
            .insert::<PasswordPayload>(origin, s, &fields.name, &fields, Action::PasswordCreate)
            .await?;
        Ok(entry(Opened { record, fields }))
    }

    /// Every password entry of the user, oldest first.
    pub async fn list_passwords(
        &self,
        origin: &Origin,
        s: &Unlocked,
    ) -> Result<Vec<PasswordEntry>, ServiceError> {
        let entries = self
            .list::<PasswordPayload>(origin, s)
            .await?
            .into_iter()
            .map(entry)
            .collect();
        self.audit_read(origin, s, Action::PasswordView, None)
            .await?;
        Ok(entries)
    }

    /// One password entry by name, audited as a view, reveal or copy.
    pub async fn password(
        &self,
        origin: &Origin,
        s: &Unlocked,
        name: &ItemName,
        access: Access,
    ) -> Result<PasswordEntry, ServiceError> {
        let opened = self.find::<PasswordPayload>(origin, s, name).await?;
        let action = match access {
            Access::View => Action::PasswordView,
            Access::Reveal => Action::PasswordReveal,
            Access::Copy => Action::PasswordCopy,
        };
        self.audit_read(origin, s, action, Some(opened.record.id))
            .await?;
        Ok(entry(opened))
    }

    /// Applies changes to a password entry.
    pub async fn edit_password(
        &self,
        origin: &Origin,
        s: &Unlocked,
        name: &ItemName,
        changes: PasswordChanges,
    ) -> Result<PasswordEntry, ServiceError> {
        let Opened { record, mut fields } = self.find::<PasswordPayload>(origin, s, name).await?;
        changes.apply_to(&mut fields);
        let record = self
            .replace::<PasswordPayload>(
                origin,
                s,
                record.clone(),
                record.version,
                &fields,
                &fields.name,
                Action::PasswordUpdate,
            )
            .await?;
        Ok(entry(Opened { record, fields }))
    }

    /// Deletes a password entry.
    pub async fn remove_password(
        &self,
        origin: &Origin,
        s: &Unlocked,
        name: &ItemName,
    ) -> Result<(), ServiceError> {
        self.remove::<PasswordPayload>(origin, s, name, Action::PasswordDelete)
            .await
    }
}

/// Operations by id, for the HTTP API: a missing id and another user's id
/// are the same `NotFoundId`.
impl Services {
    /// One card by id; `reveal` is recorded as such in the audit log.
    pub async fn card_by_id(
        &self,
        origin: &Origin,
        s: &Unlocked,
        id: CardId,
        reveal: bool,
    ) -> Result<Card, ServiceError> {
        let opened = self.find_by_id::<CardPayload>(origin, s, id.get()).await?;
        let action = if reveal {
            Action::CardReveal
        } else {
            Action::CardView
        };
        self.audit_read(origin, s, action, Some(id.get())).await?;
        Ok(card(opened))
    }

    /// Replaces every field of a card if its stored version is `expected`.
    pub async fn replace_card(
        &self,
        origin: &Origin,
        s: &Unlocked,
        id: CardId,
        expected: i64,
        fields: CardFields,
    ) -> Result<Card, ServiceError> {
        check_cvv(&fields)?;
        let Opened { record, .. } = self.find_by_id::<CardPayload>(origin, s, id.get()).await?;
        let record = self
            .replace::<CardPayload>(
                origin,
                s,
                record,
                expected,
                &fields,
                &fields.name,
                Action::CardUpdate,
            )
            .await?;
        Ok(card(Opened { record, fields }))
    }

    /// Deletes a card by id.
    pub async fn remove_card_by_id(
        &self,
        origin: &Origin,
        s: &Unlocked,
        id: CardId,
    ) -> Result<(), ServiceError> {
        self.remove_id::<CardPayload>(origin, s, id.get(), Action::CardDelete)
            .await
    }

    /// One password entry by id, audited as a view, reveal or copy.
    pub async fn password_by_id(
        &self,
        origin: &Origin,
        s: &Unlocked,
        id: PasswordId,
        access: Access,
    ) -> Result<PasswordEntry, ServiceError> {
        let opened = self
            .find_by_id::<PasswordPayload>(origin, s, id.get())
            .await?;
        self.audit_read(origin, s, access.action(), Some(id.get()))
            .await?;
        Ok(entry(opened))
    }

    /// Replaces every field of a password entry if its stored version is `expected`.
    pub async fn replace_password(
        &self,
        origin: &Origin,
        s: &Unlocked,
        id: PasswordId,
        expected: i64,
        fields: PasswordFields,
    ) -> Result<PasswordEntry, ServiceError> {
        let Opened { record, .. } = self
            .find_by_id::<PasswordPayload>(origin, s, id.get())
            .await?;
        let record = self
            .replace::<PasswordPayload>(
                origin,
                s,
                record,
                expected,
                &fields,
                &fields.name,
                Action::PasswordUpdate,
            )
            .await?;
        Ok(entry(Opened { record, fields }))
    }

    /// Deletes a password entry by id.
    pub async fn remove_password_by_id(
        &self,
        origin: &Origin,
        s: &Unlocked,
        id: PasswordId,
    ) -> Result<(), ServiceError> {
        self.remove_id::<PasswordPayload>(origin, s, id.get(), Action::PasswordDelete)
            .await
    }
}

impl Access {
    fn action(self) -> Action {
        match self {
            Access::View => Action::PasswordView,
            Access::Reveal => Action::PasswordReveal,
            Access::Copy => Action::PasswordCopy,
        }
    }
}

fn card(o: Opened<CardFields>) -> Card {
    Card {
        id: CardId::new(o.record.id),
        fields: o.fields,
        version: o.record.version,
        created_at: o.record.created_at,
        updated_at: o.record.updated_at,
    }
}

fn entry(o: Opened<PasswordFields>) -> PasswordEntry {
    PasswordEntry {
        id: PasswordId::new(o.record.id),
        fields: o.fields,
        version: o.record.version,
        created_at: o.record.created_at,
        updated_at: o.record.updated_at,
    }
}
