//! The shapes of command results, shared by every front end: the JSON of
//! `--json` and of the HTTP API, and the input of the text renderer. The
//! local client deserialises the API's JSON into these same types, so its
//! output is the SSH shell's by construction.

mod kind;
pub mod sanitize;
pub use kind::{CardBody, ExtrasBody, IdentityBody, NoteBody, PasswordBody, TotpBody, Viewed};

use serde::{Deserialize, Deserializer, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;
use zeroize::Zeroizing;

use crate::domain::TotpSeed;
use crate::domain::{AuditRecord, Extras};
use crate::service::{CardItem, IdentityItem, NoteItem, PasswordItem, TotpItem};

/// A secret on its way to the user: serialised as a plain string, zeroized on
/// drop, redacted in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretText(Zeroizing<String>);

impl SecretText {
    pub fn new(s: &str) -> Self {
        Self(Zeroizing::new(s.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A copy of the secret, wiped when dropped (`show --field`).
    pub fn to_zeroizing(&self) -> Zeroizing<String> {
        Zeroizing::new(self.0.as_str().to_owned())
    }
}

impl Serialize for SecretText {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SecretText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| Self(Zeroizing::new(s)))
    }
}

impl utoipa::PartialSchema for SecretText {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        String::schema()
    }
}

impl ToSchema for SecretText {}

impl std::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretText(***)")
    }
}

/// Distinguishes a field that is absent (`None`) from one that is `null`
/// (`Some(None)`) when deserialising.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

/// A card as listed: no number, no CVV.
/// `pass gen --json`: the generated password and its entropy in bits, to
/// one decimal.
#[derive(Serialize)]
pub struct Generated<'a> {
    pub password: &'a str,
    pub entropy_bits: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CardSummary {
    pub id: String,
    pub name: String,
    pub brand: String,
    pub last4: String,
    pub holder: Option<String>,
    pub expiry: String,
    /// Its tags, in the order given.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// A card shown in full; `number` and `cvv` are present only when revealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CardDetail {
    #[serde(flatten)]
    pub summary: CardSummary,
    /// Only when revealed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub number: Option<SecretText>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub cvv: Option<Option<SecretText>>,
    pub note: Option<String>,
    /// Its custom fields; a secret one's value only when revealed.
    #[serde(default)]
    pub fields: Vec<FieldView>,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

/// A password entry as listed: never the password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PasswordSummary {
    pub id: String,
    pub name: String,
    pub url: Option<String>,
    pub username: Option<String>,
    /// Its tags, in the order given.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// A password entry shown in full; `password` is present only when revealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PasswordDetail {
    #[serde(flatten)]
    pub summary: PasswordSummary,
    /// Only when revealed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub password: Option<SecretText>,
    pub note: Option<String>,
    /// The one-time password seed kept with it, as an `otpauth://` URI:
    /// only when revealed, and only if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub totp: Option<SecretText>,
    /// Its custom fields; a secret one's value only when revealed.
    #[serde(default)]
    pub fields: Vec<FieldView>,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

/// A secure note as listed: its name only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NoteSummary {
    pub id: String,
    pub name: String,
    /// Its tags, in the order given.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// A secure note shown in full; `text` is present only when revealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NoteDetail {
    #[serde(flatten)]
    pub summary: NoteSummary,
    /// Only when revealed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub text: Option<SecretText>,
    /// Its custom fields; a secret one's value only when revealed.
    #[serde(default)]
    pub fields: Vec<FieldView>,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

/// A one-time password item as listed: never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TotpSummary {
    pub id: String,
    pub name: String,
    pub issuer: Option<String>,
    pub account: Option<String>,
    /// Its tags, in the order given.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// A one-time password item shown in full; `secret` (base32) is present
/// only when revealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TotpDetail {
    #[serde(flatten)]
    pub summary: TotpSummary,
    /// `SHA1`, `SHA256` or `SHA512`.
    pub algorithm: String,
    pub digits: u8,
    /// Seconds a code lasts.
    pub period: u32,
    /// Only when revealed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub secret: Option<SecretText>,
    /// Its custom fields; a secret one's value only when revealed.
    #[serde(default)]
    pub fields: Vec<FieldView>,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

/// The code a seed gives now, and the whole seconds it stays current.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TotpCode {
    pub name: String,
    pub code: String,
    pub seconds_left: u32,
}

impl std::fmt::Debug for TotpCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpCode")
            .field("name", &self.name)
            .field("code", &"***")
            .field("seconds_left", &self.seconds_left)
            .finish()
    }
}

impl TotpCode {
    /// The code of `seed` at this moment.
    pub fn now(name: &str, seed: &TotpSeed) -> Self {
        let unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let code = seed.code_at(unix);
        Self {
            name: name.to_owned(),
            code: code.code,
            seconds_left: code.seconds_left,
        }
    }
}

/// An identity as listed: never the document number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IdentitySummary {
    pub id: String,
    pub name: String,
    pub full_name: Option<String>,
    pub email: Option<String>,
    /// Its tags, in the order given.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// An identity shown in full; `document` is present only when revealed
/// (and `null` then if it has none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IdentityDetail {
    #[serde(flatten)]
    pub summary: IdentitySummary,
    pub phone: Option<String>,
    pub address: Option<String>,
    /// Only when revealed.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schema(value_type = Option<String>)]
    pub document: Option<Option<SecretText>>,
    pub note: Option<String>,
    /// Its custom fields; a secret one's value only when revealed.
    #[serde(default)]
    pub fields: Vec<FieldView>,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

/// A custom field as shown: its value is left out when the field is secret
/// and not revealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldView {
    pub key: String,
    /// Left out for a secret field not revealed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub value: Option<SecretText>,
    /// Hidden unless revealed.
    pub secret: bool,
}

impl FieldView {
    /// An item's custom fields, secret values only when `reveal`.
    pub fn list(extras: &Extras, reveal: bool) -> Vec<Self> {
        extras
            .fields()
            .iter()
            .map(|f| Self {
                key: f.key().as_str().to_owned(),
                value: (reveal || !f.is_secret()).then(|| SecretText::new(f.expose())),
                secret: f.is_secret(),
            })
            .collect()
    }

    /// The fields without their secret values.
    pub fn concealed(fields: &mut [Self]) {
        for f in fields.iter_mut().filter(|f| f.secret) {
            f.value = None;
        }
    }
}

fn tags_of(extras: &Extras) -> Vec<String> {
    extras
        .tags()
        .iter()
        .map(|t| t.as_str().to_owned())
        .collect()
}

/// An earlier value of a secret field (`history`): the value only when
/// revealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HistoryEntry {
    /// When the value was replaced.
    pub changed_at: String,
    /// The field: one of the kind's own or a custom field's key.
    pub field: String,
    /// Only when revealed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub value: Option<SecretText>,
}

impl HistoryEntry {
    /// An item's history, newest first.
    pub fn list(history: &crate::domain::History, reveal: bool) -> Vec<Self> {
        history
            .newest_first()
            .map(|c| Self {
                changed_at: rfc3339(c.changed_at),
                field: c.field.clone(),
                value: reveal.then(|| SecretText::new(&c.value)),
            })
            .collect()
    }
}

/// How healthy a password entry is (`health`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HealthEntry {
    pub id: String,
    /// `password`.
    pub kind: String,
    pub name: String,
    /// A zxcvbn score below 3 (of 0–4): fewer than 10^8 guesses crack it.
    pub weak: bool,
    /// The other entries with the same password.
    pub reused_with: Vec<String>,
    /// The password has not changed for a year.
    pub old: bool,
    /// In the server's Pwned Passwords file; `null` when the server has none.
    pub breached: Option<bool>,
}

impl HealthEntry {
    pub fn of(h: &crate::service::Health) -> Self {
        Self {
            id: h.id.to_string(),
            kind: crate::domain::ItemKind::Password.as_str().to_owned(),
            name: h.name.clone(),
            weak: h.weak,
            reused_with: h.reused_with.clone(),
            old: h.old,
            breached: h.breached,
        }
    }
}

/// An item in the trash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TrashEntry {
    pub id: String,
    /// `card`, `password`, `note`, `totp` or `identity`.
    pub kind: String,
    pub name: String,
    pub deleted_at: String,
}

impl TrashEntry {
    pub fn of(t: &crate::service::Trashed) -> Self {
        Self {
            id: t.id.to_string(),
            kind: t.kind.as_str().to_owned(),
            name: t.name.clone(),
            deleted_at: rfc3339(t.deleted_at),
        }
    }
}

/// What an import stored or, with `dry_run`, would store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ImportSummary {
    /// The format the file was read as.
    pub format: String,
    /// Nothing was stored: this is what would have been.
    pub dry_run: bool,
    /// How many new items of each kind.
    pub created: ImportCounts,
    /// Items whose name was taken (in the vault, or by a record before
    /// them), and the name each got instead.
    pub renamed: Vec<RenamedEntry>,
    /// Records that are nothing Keeper keeps (an SSH key, an empty row),
    /// and why.
    pub skipped: Vec<crate::interchange::Problem>,
}

/// New items by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub struct ImportCounts {
    pub card: usize,
    pub password: usize,
    pub note: usize,
    pub totp: usize,
    pub identity: usize,
}

/// An imported item that got another name than its file gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RenamedEntry {
    #[serde(flatten)]
    pub at: crate::interchange::Place,
    /// `card`, `password`, `note`, `totp` or `identity`.
    pub kind: String,
    pub from: String,
    pub to: String,
}

impl ImportSummary {
    pub fn of(r: &crate::service::ImportReport) -> Self {
        use crate::domain::ItemKind;
        let mut created = ImportCounts::default();
        for (kind, n) in &r.created {
            *match kind {
                ItemKind::Card => &mut created.card,
                ItemKind::Password => &mut created.password,
                ItemKind::Note => &mut created.note,
                ItemKind::Totp => &mut created.totp,
                ItemKind::Identity => &mut created.identity,
            } += n;
        }
        Self {
            format: r.format.as_str().to_owned(),
            dry_run: r.dry_run,
            created,
            renamed: r
                .renamed
                .iter()
                .map(|n| RenamedEntry {
                    at: n.at,
                    kind: n.kind.as_str().to_owned(),
                    from: n.from.clone(),
                    to: n.to.clone(),
                })
                .collect(),
            skipped: r.skipped.clone(),
        }
    }

    /// Every new item, of all kinds, with each kind's name and count.
    pub fn counts(&self) -> [(&'static str, usize); 5] {
        let c = &self.created;
        [
            ("card", c.card),
            ("password", c.password),
            ("note", c.note),
            ("totp", c.totp),
            ("identity", c.identity),
        ]
    }
}

/// How many items `DELETE /trash` deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Emptied {
    pub deleted: u64,
}

/// An item `find` found: its id, kind and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FoundView {
    pub id: String,
    /// `card`, `password`, `note`, `totp` or `identity`.
    pub kind: String,
    pub name: String,
}

impl FoundView {
    pub fn of((kind, id, name): (crate::domain::ItemKind, String, String)) -> Self {
        Self {
            id,
            kind: kind.as_str().to_owned(),
            name,
        }
    }
}

/// One audit event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EventView {
    pub at: String,
    pub action: String,
    pub outcome: String,
    pub channel: String,
    pub remote_addr: Option<String>,
    pub target: Option<String>,
    /// The name of the item `target` names, when asked for (`?names=true`)
    /// and the item still exists: opened when the log is read, never
    /// stored in the log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
}

impl CardSummary {
    pub fn of(c: &CardItem) -> Self {
        Self {
            id: c.id.to_string(),
            name: c.fields.name.as_str().to_owned(),
            brand: c.brand().to_string(),
            last4: c.last4(),
            holder: c.fields.holder.as_ref().map(|h| h.as_str().to_owned()),
            expiry: c.fields.expiry.to_string(),
            tags: tags_of(&c.fields.extras),
        }
    }
}

impl CardDetail {
    pub fn of(c: &CardItem, reveal: bool) -> Self {
        Self {
            summary: CardSummary::of(c),
            number: reveal.then(|| SecretText::new(c.fields.number.expose())),
            cvv: reveal.then(|| c.fields.cvv.as_ref().map(|v| SecretText::new(v.expose()))),
            note: c.fields.note.as_ref().map(|n| n.as_str().to_owned()),
            fields: FieldView::list(&c.fields.extras, reveal),
            created_at: rfc3339(c.created_at),
            updated_at: rfc3339(c.updated_at),
            version: c.version,
        }
    }

    /// The same card without its secrets.
    pub fn concealed(mut self) -> Self {
        self.number = None;
        self.cvv = None;
        self
    }
}

impl PasswordSummary {
    pub fn of(e: &PasswordItem) -> Self {
        Self {
            id: e.id.to_string(),
            name: e.fields.name.as_str().to_owned(),
            url: e.fields.url.as_ref().map(|u| u.as_str().to_owned()),
            username: e.fields.username.as_ref().map(|u| u.as_str().to_owned()),
            tags: tags_of(&e.fields.extras),
        }
    }
}

impl PasswordDetail {
    pub fn of(e: &PasswordItem, reveal: bool) -> Self {
        Self {
            summary: PasswordSummary::of(e),
            password: reveal.then(|| SecretText::new(e.fields.password.expose())),
            note: e.fields.note.as_ref().map(|n| n.as_str().to_owned()),
            totp: e
                .fields
                .totp
                .as_ref()
                .filter(|_| reveal)
                .map(|t| SecretText::new(&t.to_uri())),
            fields: FieldView::list(&e.fields.extras, reveal),
            created_at: rfc3339(e.created_at),
            updated_at: rfc3339(e.updated_at),
            version: e.version,
        }
    }

    /// The same entry without its password and seed.
    pub fn concealed(mut self) -> Self {
        self.password = None;
        self.totp = None;
        self
    }
}

impl NoteSummary {
    pub fn of(n: &NoteItem) -> Self {
        Self {
            id: n.id.to_string(),
            name: n.fields.name.as_str().to_owned(),
            tags: tags_of(&n.fields.extras),
        }
    }
}

impl NoteDetail {
    pub fn of(n: &NoteItem, reveal: bool) -> Self {
        Self {
            summary: NoteSummary::of(n),
            text: reveal.then(|| SecretText::new(n.fields.text.expose())),
            fields: FieldView::list(&n.fields.extras, reveal),
            created_at: rfc3339(n.created_at),
            updated_at: rfc3339(n.updated_at),
            version: n.version,
        }
    }

    /// The same note without its text.
    pub fn concealed(mut self) -> Self {
        self.text = None;
        self
    }
}

impl TotpSummary {
    pub fn of(t: &TotpItem) -> Self {
        Self {
            id: t.id.to_string(),
            name: t.fields.name.as_str().to_owned(),
            issuer: t.fields.seed.issuer().map(str::to_owned),
            account: t.fields.seed.account().map(str::to_owned),
            tags: tags_of(&t.fields.extras),
        }
    }
}

impl TotpDetail {
    pub fn of(t: &TotpItem, reveal: bool) -> Self {
        let seed = &t.fields.seed;
        Self {
            summary: TotpSummary::of(t),
            algorithm: seed.algorithm().as_str().to_owned(),
            digits: seed.digits(),
            period: seed.period(),
            secret: reveal.then(|| SecretText::new(&seed.expose_secret())),
            fields: FieldView::list(&t.fields.extras, reveal),
            created_at: rfc3339(t.created_at),
            updated_at: rfc3339(t.updated_at),
            version: t.version,
        }
    }

    /// The same item without its secret.
    pub fn concealed(mut self) -> Self {
        self.secret = None;
        self
    }
}

impl IdentitySummary {
    pub fn of(i: &IdentityItem) -> Self {
        let f = &i.fields;
        Self {
            id: i.id.to_string(),
            name: f.name.as_str().to_owned(),
            full_name: f.full_name.as_ref().map(|v| v.as_str().to_owned()),
            email: f.email.as_ref().map(|v| v.as_str().to_owned()),
            tags: tags_of(&i.fields.extras),
        }
    }
}

impl IdentityDetail {
    pub fn of(i: &IdentityItem, reveal: bool) -> Self {
        let f = &i.fields;
        Self {
            summary: IdentitySummary::of(i),
            phone: f.phone.as_ref().map(|v| v.as_str().to_owned()),
            address: f.address.as_ref().map(|v| v.as_str().to_owned()),
            document: reveal.then(|| f.document.as_ref().map(|d| SecretText::new(d.expose()))),
            note: f.note.as_ref().map(|n| n.as_str().to_owned()),
            fields: FieldView::list(&i.fields.extras, reveal),
            created_at: rfc3339(i.created_at),
            updated_at: rfc3339(i.updated_at),
            version: i.version,
        }
    }

    /// The same identity without its document number.
    pub fn concealed(mut self) -> Self {
        self.document = None;
        self
    }
}

impl EventView {
    pub fn of(a: &AuditRecord) -> Self {
        Self {
            at: rfc3339(a.at),
            action: a.action.as_str().to_owned(),
            outcome: a.outcome.as_str().to_owned(),
            channel: a.channel.as_str().to_owned(),
            remote_addr: a.remote_addr.clone(),
            target: a.target.clone(),
            item: None,
        }
    }

    /// The event with the name of the item it targets, if it still exists.
    pub fn named(a: &AuditRecord, labels: &crate::service::ItemLabels) -> Self {
        let item = a.target.as_ref().and_then(|t| labels.get(t)).cloned();
        Self {
            item,
            ..Self::of(a)
        }
    }
}

/// Counts what a serialiser writes, to size a buffer first.
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `value` as JSON (pretty or compact), written once into a buffer of its
/// final size plus `spare` bytes: no half-grown copy of a revealed secret
/// is freed along the way. The caller wipes the result.
pub fn json_exact<T: serde::Serialize + ?Sized>(
    value: &T,
    pretty: bool,
    spare: usize,
) -> Result<Vec<u8>, serde_json::Error> {
    let mut size = Counter(0);
    if pretty {
        serde_json::to_writer_pretty(&mut size, value)?;
    } else {
        serde_json::to_writer(&mut size, value)?;
    }
    let mut out = Vec::with_capacity(size.0 + spare);
    if pretty {
        serde_json::to_writer_pretty(&mut out, value)?;
    } else {
        serde_json::to_writer(&mut out, value)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detail(cvv: Option<Option<SecretText>>) -> CardDetail {
        CardDetail {
            summary: CardSummary {
                id: "1".into(),
                name: "visa".into(),
                brand: "Visa".into(),
                last4: "1111".into(),
                holder: None,
                expiry: "12/30".into(),
                tags: vec![],
            },
            number: cvv.as_ref().map(|_| SecretText::new("4111111111111111")),
            cvv,
            note: None,
            fields: vec![],
            created_at: "2026-01-01T00:00:00Z".into(),
            updated_at: "2026-01-01T00:00:00Z".into(),
            version: 1,
        }
    }

    #[test]
    fn a_revealed_card_without_cvv_round_trips_with_an_explicit_null() {
        let card = detail(Some(None));
        let json = serde_json::to_value(&card).expect("json");
        assert!(json.get("cvv").is_some_and(|v| v.is_null()));
        assert_eq!(
            serde_json::from_value::<CardDetail>(json).expect("back"),
            card
        );
    }

    #[test]
    fn a_concealed_card_has_neither_number_nor_cvv_keys() {
        let json = serde_json::to_value(detail(None)).expect("json");
        assert!(json.get("number").is_none() && json.get("cvv").is_none());
        assert_eq!(
            serde_json::from_value::<CardDetail>(json).expect("back"),
            detail(None)
        );
    }

    #[test]
    fn secret_text_is_redacted_in_debug() {
        assert_eq!(
            format!("{:?}", SecretText::new("hunter2")),
            "SecretText(***)"
        );
    }
}
