//! How each kind looks outside the services: what a list shows, what a
//! reveal adds, and the body a client sends. The shell, the HTTP API and
//! the local client are written once over [`Viewed`].

use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;
use zeroize::Zeroizing;

use super::{
    CardDetail, CardSummary, FieldView, IdentityDetail, IdentitySummary, NoteDetail, NoteSummary,
    PasswordDetail, PasswordSummary, SecretText, TotpDetail, TotpSummary,
};
use crate::domain::kind::{Card, Identity, Password, SecureNote, Totp};
use crate::domain::totp::Algorithm;
use crate::domain::{
    Address, CardFields, CardNumber, CustomField, Cvv, DocumentNumber, DomainError, Email, Expiry,
    Extras, FieldKey, FullName, Holder, IdentityFields, ItemName, Kind, Note, NoteFields, NoteText,
    PasswordFields, Phone, Secret, Tag, TotpFields, TotpSeed, Url, Username,
};
use crate::service::Item;

/// A kind's views.
pub trait Viewed: Kind {
    /// Where the API serves the kind: `cards` for `/api/v1/cards`.
    const PLURAL: &'static str;
    /// What a list shows of an item.
    type Summary: Serialize + DeserializeOwned + ToSchema + Clone + Send + Sync + 'static;
    /// An item shown, its secrets only when revealed.
    type Detail: Serialize + DeserializeOwned + ToSchema + Clone + Send + Sync + 'static;
    /// The body a client sends to create or replace an item.
    type Body<'a>: Serialize + Send + Sync
    where
        Self: 'a;

    fn summary(item: &Item<Self>) -> Self::Summary;
    fn detail(item: &Item<Self>, reveal: bool) -> Self::Detail;
    /// The listed part of a detail.
    fn summary_of(detail: Self::Detail) -> Self::Summary;
    /// A detail without its secrets.
    fn concealed(detail: Self::Detail) -> Self::Detail;
    fn version_of(detail: &Self::Detail) -> i64;
    /// A listed item's id and name.
    fn listed(summary: &Self::Summary) -> (&str, &str);
    /// A listed item's tags.
    fn tags(summary: &Self::Summary) -> &[String];
    /// A shown item's custom fields.
    fn custom_fields(detail: &Self::Detail) -> &[FieldView];
    fn body(fields: &Self::Fields, version: Option<i64>) -> Self::Body<'_>;
    /// The fields of a revealed detail, to apply an edit to.
    fn fields_of(detail: &Self::Detail) -> Result<Self::Fields, DomainError>;
}

/// The methods of [`Viewed`] every kind writes alike, from its summary
/// and detail types (`of`, `concealed`, and the fields `summary`, `id`,
/// `name`, `version`).
macro_rules! common_views {
    ($kind:ty, $summary:ident, $detail:ident) => {
        type Summary = $summary;
        type Detail = $detail;

        fn summary(item: &Item<$kind>) -> $summary {
            $summary::of(item)
        }

        fn detail(item: &Item<$kind>, reveal: bool) -> $detail {
            $detail::of(item, reveal)
        }

        fn summary_of(detail: $detail) -> $summary {
            detail.summary
        }

        fn concealed(detail: $detail) -> $detail {
            let mut detail = detail.concealed();
            FieldView::concealed(&mut detail.fields);
            detail
        }

        fn tags(s: &$summary) -> &[String] {
            &s.tags
        }

        fn custom_fields(d: &$detail) -> &[FieldView] {
            &d.fields
        }

        fn version_of(detail: &$detail) -> i64 {
            detail.version
        }

        fn listed(s: &$summary) -> (&str, &str) {
            (&s.id, &s.name)
        }
    };
}

fn optional<T>(
    value: Option<&str>,
    parse: impl Fn(&str) -> Result<T, DomainError>,
) -> Result<Option<T>, DomainError> {
    value.map(parse).transpose()
}

fn revealed<'a, T>(secret: Option<&'a T>, what: &'static str) -> Result<&'a T, DomainError> {
    secret.ok_or_else(|| DomainError::invalid(what, "was not revealed"))
}

/// The tags and custom fields of every kind's body.
#[derive(Serialize)]
pub struct ExtrasBody<'a> {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fields: Vec<FieldBody<'a>>,
}

#[derive(Serialize)]
struct FieldBody<'a> {
    key: &'a str,
    value: &'a str,
    secret: bool,
}

impl<'a> ExtrasBody<'a> {
    fn of(extras: &'a Extras) -> Self {
        Self {
            tags: extras.tags().iter().map(Tag::as_str).collect(),
            fields: extras
                .fields()
                .iter()
                .map(|f| FieldBody {
                    key: f.key().as_str(),
                    value: f.expose(),
                    secret: f.is_secret(),
                })
                .collect(),
        }
    }
}

/// The tags and fields of a revealed detail; a secret field must have
/// been revealed.
fn extras_of(tags: &[String], fields: &[FieldView]) -> Result<Extras, DomainError> {
    let tags = tags
        .iter()
        .map(|t| Tag::parse(t))
        .collect::<Result<_, _>>()?;
    let fields = fields
        .iter()
        .map(|f| {
            let value = revealed(f.value.as_ref(), "field")?;
            CustomField::new(FieldKey::parse(&f.key)?, value.expose(), f.secret)
        })
        .collect::<Result<_, _>>()?;
    Ok(Extras::new(tags, fields))
}

/// The body of `POST` and `PUT /cards`.
#[derive(Serialize)]
pub struct CardBody<'a> {
    name: &'a str,
    number: &'a str,
    holder: Option<&'a str>,
    expiry: String,
    cvv: Option<&'a str>,
    note: Option<&'a str>,
    #[serde(flatten)]
    extras: ExtrasBody<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<i64>,
}

impl Viewed for Card {
    const PLURAL: &'static str = "cards";
    type Body<'a> = CardBody<'a>;
    common_views!(Card, CardSummary, CardDetail);

    fn body(f: &CardFields, version: Option<i64>) -> CardBody<'_> {
        CardBody {
            name: f.name.as_str(),
            number: f.number.expose(),
            holder: f.holder.as_ref().map(|h| h.as_str()),
            expiry: f.expiry.to_string(),
            cvv: f.cvv.as_ref().map(|c| c.expose()),
            note: f.note.as_ref().map(|n| n.as_str()),
            extras: ExtrasBody::of(&f.extras),
            version,
        }
    }

    fn fields_of(d: &CardDetail) -> Result<CardFields, DomainError> {
        let number = revealed(d.number.as_ref(), "number")?;
        Ok(CardFields {
            name: ItemName::named(&d.summary.name)?,
            number: CardNumber::parse(number.expose())?,
            holder: optional(d.summary.holder.as_deref(), Holder::parse)?,
            expiry: Expiry::parse(&d.summary.expiry)?,
            cvv: optional(
                d.cvv.as_ref().and_then(|c| c.as_ref()).map(|c| c.expose()),
                Cvv::parse,
            )?,
            note: optional(d.note.as_deref(), Note::parse)?,
            extras: extras_of(&d.summary.tags, &d.fields)?,
        })
    }
}

/// The body of `POST` and `PUT /passwords`.
#[derive(Serialize)]
pub struct PasswordBody<'a> {
    name: &'a str,
    url: Option<&'a str>,
    username: Option<&'a str>,
    password: &'a str,
    note: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    totp: Option<Zeroizing<String>>,
    #[serde(flatten)]
    extras: ExtrasBody<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<i64>,
}

impl Viewed for Password {
    const PLURAL: &'static str = "passwords";
    type Body<'a> = PasswordBody<'a>;
    common_views!(Password, PasswordSummary, PasswordDetail);

    fn body(f: &PasswordFields, version: Option<i64>) -> PasswordBody<'_> {
        PasswordBody {
            name: f.name.as_str(),
            url: f.url.as_ref().map(|u| u.as_str()),
            username: f.username.as_ref().map(|u| u.as_str()),
            password: f.password.expose(),
            note: f.note.as_ref().map(|n| n.as_str()),
            totp: f.totp.as_ref().map(TotpSeed::to_uri),
            extras: ExtrasBody::of(&f.extras),
            version,
        }
    }

    fn fields_of(d: &PasswordDetail) -> Result<PasswordFields, DomainError> {
        let password = revealed(d.password.as_ref(), "password")?;
        Ok(PasswordFields {
            name: ItemName::named(&d.summary.name)?,
            url: optional(d.summary.url.as_deref(), Url::parse)?,
            username: optional(d.summary.username.as_deref(), Username::parse)?,
            password: Secret::parse(password.expose())?,
            note: optional(d.note.as_deref(), Note::parse)?,
            totp: optional(d.totp.as_ref().map(SecretText::expose), |uri| {
                TotpSeed::parse_uri_as("totp", uri)
            })?,
            extras: extras_of(&d.summary.tags, &d.fields)?,
        })
    }
}

/// The body of `POST` and `PUT /notes`.
#[derive(Serialize)]
pub struct NoteBody<'a> {
    name: &'a str,
    text: &'a str,
    #[serde(flatten)]
    extras: ExtrasBody<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<i64>,
}

impl Viewed for SecureNote {
    const PLURAL: &'static str = "notes";
    type Body<'a> = NoteBody<'a>;
    common_views!(SecureNote, NoteSummary, NoteDetail);

    fn body(f: &NoteFields, version: Option<i64>) -> NoteBody<'_> {
        NoteBody {
            name: f.name.as_str(),
            text: f.text.expose(),
            extras: ExtrasBody::of(&f.extras),
            version,
        }
    }

    fn fields_of(d: &NoteDetail) -> Result<NoteFields, DomainError> {
        let text = revealed(d.text.as_ref(), "text")?;
        Ok(NoteFields {
            name: ItemName::named(&d.summary.name)?,
            text: NoteText::parse(text.expose())?,
            extras: extras_of(&d.summary.tags, &d.fields)?,
        })
    }
}

/// The body of `POST` and `PUT /totp`.
#[derive(Serialize)]
pub struct TotpBody<'a> {
    name: &'a str,
    secret: Zeroizing<String>,
    issuer: Option<&'a str>,
    account: Option<&'a str>,
    algorithm: &'static str,
    digits: u8,
    period: u32,
    #[serde(flatten)]
    extras: ExtrasBody<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<i64>,
}

impl Viewed for Totp {
    const PLURAL: &'static str = "totp";
    type Body<'a> = TotpBody<'a>;
    common_views!(Totp, TotpSummary, TotpDetail);

    fn body(f: &TotpFields, version: Option<i64>) -> TotpBody<'_> {
        let seed = &f.seed;
        TotpBody {
            name: f.name.as_str(),
            secret: seed.expose_secret(),
            issuer: seed.issuer(),
            account: seed.account(),
            algorithm: seed.algorithm().as_str(),
            digits: seed.digits(),
            period: seed.period(),
            extras: ExtrasBody::of(&f.extras),
            version,
        }
    }

    fn fields_of(d: &TotpDetail) -> Result<TotpFields, DomainError> {
        let secret = revealed(d.secret.as_ref(), "secret")?;
        Ok(TotpFields {
            name: ItemName::named(&d.summary.name)?,
            seed: TotpSeed::new(
                secret.expose(),
                Algorithm::parse(&d.algorithm)?,
                d.digits,
                d.period,
                d.summary.issuer.as_deref(),
                d.summary.account.as_deref(),
            )?,
            extras: extras_of(&d.summary.tags, &d.fields)?,
        })
    }
}

/// The body of `POST` and `PUT /identities`.
#[derive(Serialize)]
pub struct IdentityBody<'a> {
    name: &'a str,
    full_name: Option<&'a str>,
    email: Option<&'a str>,
    phone: Option<&'a str>,
    address: Option<&'a str>,
    document: Option<&'a str>,
    note: Option<&'a str>,
    #[serde(flatten)]
    extras: ExtrasBody<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<i64>,
}

impl Viewed for Identity {
    const PLURAL: &'static str = "identities";
    type Body<'a> = IdentityBody<'a>;
    common_views!(Identity, IdentitySummary, IdentityDetail);

    fn body(f: &IdentityFields, version: Option<i64>) -> IdentityBody<'_> {
        IdentityBody {
            name: f.name.as_str(),
            full_name: f.full_name.as_ref().map(FullName::as_str),
            email: f.email.as_ref().map(Email::as_str),
            phone: f.phone.as_ref().map(Phone::as_str),
            address: f.address.as_ref().map(Address::as_str),
            document: f.document.as_ref().map(DocumentNumber::expose),
            note: f.note.as_ref().map(Note::as_str),
            extras: ExtrasBody::of(&f.extras),
            version,
        }
    }

    fn fields_of(d: &IdentityDetail) -> Result<IdentityFields, DomainError> {
        let document = revealed(d.document.as_ref(), "document")?;
        let s = &d.summary;
        Ok(IdentityFields {
            name: ItemName::named(&s.name)?,
            full_name: optional(s.full_name.as_deref(), FullName::parse)?,
            email: optional(s.email.as_deref(), Email::parse_address)?,
            phone: optional(d.phone.as_deref(), Phone::parse_number)?,
            address: optional(d.address.as_deref(), Address::parse)?,
            document: optional(
                document.as_ref().map(SecretText::expose),
                DocumentNumber::parse,
            )?,
            note: optional(d.note.as_deref(), Note::parse)?,
            extras: extras_of(&s.tags, &d.fields)?,
        })
    }
}
