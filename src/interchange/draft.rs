//! The one shape every format's record is read into ([`Raw`]), and how it
//! becomes an item of Keeper's (a [`Draft`]) under the same rules `add`
//! keeps: a record that breaks one is refused with the field and the rule,
//! never stored half.

use zeroize::Zeroizing;

use crate::domain::kind::{Card, Identity, Password, SecureNote, Totp};
use crate::domain::totp::Algorithm;
use crate::domain::{
    Address, CardFields, CardNumber, CustomField, Cvv, DocumentNumber, DomainError, Email, Expiry,
    Extras, FieldKey, FullName, Holder, IdentityFields, ItemKind, ItemName, Kind, Note, NoteFields,
    NoteText, PasswordFields, Phone, Secret, Tag, TotpFields, TotpSeed, Url, Username,
};

/// An item read from a file, ready to be sealed.
#[derive(Debug)]
pub enum Draft {
    Card(CardFields),
    Password(PasswordFields),
    Note(NoteFields),
    Totp(TotpFields),
    Identity(IdentityFields),
}

impl Draft {
    pub fn kind(&self) -> ItemKind {
        match self {
            Self::Card(_) => ItemKind::Card,
            Self::Password(_) => ItemKind::Password,
            Self::Note(_) => ItemKind::Note,
            Self::Totp(_) => ItemKind::Totp,
            Self::Identity(_) => ItemKind::Identity,
        }
    }

    pub fn name(&self) -> &ItemName {
        match self {
            Self::Card(f) => &f.name,
            Self::Password(f) => &f.name,
            Self::Note(f) => &f.name,
            Self::Totp(f) => &f.name,
            Self::Identity(f) => &f.name,
        }
    }

    /// Gives the item another name (a clash with one already stored).
    pub fn rename(&mut self, name: ItemName) {
        match self {
            Self::Card(f) => f.name = name,
            Self::Password(f) => f.name = name,
            Self::Note(f) => f.name = name,
            Self::Totp(f) => f.name = name,
            Self::Identity(f) => f.name = name,
        }
    }
}

/// One record of a file and where it is.
#[derive(Debug)]
pub struct Entry {
    pub at: super::Place,
    pub draft: Draft,
}

/// Why a record is not an item.
pub(super) enum Refused {
    /// It is nothing Keeper keeps (an SSH key, an empty row).
    Skip(String),
    /// It breaks one of Keeper's rules.
    Error(String),
}

impl From<DomainError> for Refused {
    fn from(e: DomainError) -> Self {
        Self::Error(e.to_string())
    }
}

/// What every record may carry.
#[derive(Default)]
pub(super) struct Common {
    pub name: Option<String>,
    pub note: Option<String>,
    pub tags: Vec<String>,
    pub fields: Vec<RawField>,
    /// Tags and fields past the most an item holds, not kept.
    pub extra_tags: usize,
    pub extra_fields: usize,
}

/// A field beyond the kind's own, as the file names it.
pub(super) struct RawField {
    pub key: String,
    pub value: Zeroizing<String>,
    pub secret: bool,
}

impl Common {
    /// A field kept as a custom field; an empty value is dropped, and the
    /// lines of one that has several are joined with ` / ` (a custom field
    /// is one line). Past the most an item holds, fields are only counted,
    /// so that a record with too many costs no more than one with enough.
    pub fn field(&mut self, key: &str, value: &str, secret: bool) {
        if value.trim().is_empty() {
            return;
        }
        if self.fields.len() > Extras::MAX_FIELDS {
            self.extra_fields += 1;
            return;
        }
        let value = if value.contains(['\n', '\r']) {
            Zeroizing::new(
                value
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect::<Vec<_>>()
                    .join(" / "),
            )
        } else {
            Zeroizing::new(value.to_owned())
        };
        self.fields.push(RawField {
            key: key.to_owned(),
            value,
            secret,
        });
    }

    /// A tag (a folder, a group); blank ones are dropped, and past the
    /// most an item holds they are only counted.
    pub fn tag(&mut self, tag: &str) {
        let tag = tag.trim();
        if tag.is_empty() {
            return;
        }
        if self.tags.len() > Extras::MAX_TAGS {
            self.extra_tags += 1;
        } else {
            self.tags.push(tag.to_owned());
        }
    }
}

/// A record, read into the kinds Keeper has.
pub(super) enum Raw {
    Login(Login),
    Card(RawCard),
    Note(Common),
    Identity(RawIdentity),
    /// Not an item: why.
    Skip(String),
}

#[derive(Default)]
pub(super) struct Login {
    pub common: Common,
    pub urls: Vec<String>,
    pub username: Option<String>,
    pub password: Option<Zeroizing<String>>,
    pub totp: Option<Zeroizing<String>>,
}

#[derive(Default)]
pub(super) struct RawCard {
    pub common: Common,
    pub number: Option<Zeroizing<String>>,
    pub holder: Option<String>,
    /// `MM/YY`, `MM/YYYY`, `YYYYMM` or `YYYY-MM`.
    pub expiry: Option<String>,
    pub month: Option<String>,
    pub year: Option<String>,
    pub cvv: Option<Zeroizing<String>>,
}

#[derive(Default)]
pub(super) struct RawIdentity {
    pub common: Common,
    pub full_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    /// Document numbers by what they are: the first is the identity's
    /// document, the others secret custom fields.
    pub documents: Vec<(&'static str, Zeroizing<String>)>,
}

/// `Some` of a value that is not blank.
pub(super) fn given(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.trim().is_empty())
}

impl Raw {
    pub(super) fn draft(self) -> Result<Draft, Refused> {
        match self {
            Raw::Login(l) => l.draft(),
            Raw::Card(c) => c.draft(),
            Raw::Note(n) => note(n),
            Raw::Identity(i) => i.draft(),
            Raw::Skip(why) => Err(Refused::Skip(why)),
        }
    }
}

/// The item's name: the file's, made one line and cut to the longest
/// name, or `fallback` when it has none.
fn name(given_name: Option<&str>, fallback: &str) -> Result<ItemName, DomainError> {
    let raw = given(given_name).unwrap_or(fallback);
    let one_line: String = raw
        .split(|c: char| c.is_control())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let cut: String = one_line.trim().chars().take(ItemName::MAX_LEN).collect();
    ItemName::parse(&cut)
}

/// The host of a URL, to name an entry that has no name.
fn host(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let host = rest.split(['/', '?', '#']).next()?;
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    given(Some(host))
}

/// The tags and custom fields of a record under the rules `add` keeps,
/// for a kind whose own fields are `own`: tags are made one line, cut to
/// the longest tag and kept once; a key that is one of the kind's own or
/// taken on the item gets a number after it.
fn extras(common: &mut Common, own: &[&str]) -> Result<Extras, DomainError> {
    let tag_count = common.tags.len() + common.extra_tags;
    if tag_count > Extras::MAX_TAGS {
        return Err(DomainError::invalid(
            "tag",
            format!(
                "{tag_count} tags, where an item has at most {}",
                Extras::MAX_TAGS
            ),
        ));
    }
    let field_count = common.fields.len() + common.extra_fields;
    if field_count > Extras::MAX_FIELDS {
        return Err(DomainError::invalid(
            "field",
            format!(
                "{field_count} custom fields, where an item has at most {}",
                Extras::MAX_FIELDS
            ),
        ));
    }
    let mut tags: Vec<Tag> = Vec::new();
    for tag in &common.tags {
        let cleaned: String = tag
            .chars()
            .map(|c| if c == ',' || c.is_control() { ' ' } else { c })
            .collect();
        let cut: String = cleaned.trim().chars().take(Tag::MAX_LEN).collect();
        let tag = Tag::parse(&cut)?;
        if !tags.iter().any(|t| t.is(tag.as_str())) {
            tags.push(tag);
        }
    }
    let mut fields: Vec<CustomField> = Vec::new();
    for raw in common.fields.drain(..) {
        let base: String = raw
            .key
            .chars()
            .map(|c| if c == '=' || c.is_control() { ' ' } else { c })
            .collect::<String>()
            .trim()
            .chars()
            .take(FieldKey::MAX_LEN - 4)
            .collect();
        let base = if base.is_empty() {
            "field".to_owned()
        } else {
            base
        };
        // Compared as `Extras::check` compares them: NFC, case and
        // accents ignored.
        let taken = |key: &FieldKey| {
            own.iter().any(|o| key.is(o)) || fields.iter().any(|f| f.key().is(key.as_str()))
        };
        let mut key = FieldKey::parse(&base)?;
        let mut n = 2;
        while taken(&key) {
            key = FieldKey::parse(&format!("{base} {n}"))?;
            n += 1;
        }
        fields.push(CustomField::new(key, &raw.value, raw.secret)?);
    }
    Ok(Extras::new(tags, fields))
}

fn optional<T>(
    value: Option<&str>,
    parse: impl Fn(&str) -> Result<T, DomainError>,
) -> Result<Option<T>, DomainError> {
    given(value).map(parse).transpose()
}

/// A one-time password seed as files hold it: an `otpauth://` URI or the
/// bare base32 secret (SHA-1, 6 digits, 30 s).
fn seed(value: &str, field: &'static str) -> Result<TotpSeed, DomainError> {
    let value = value.trim();
    if value.starts_with("otpauth://") {
        TotpSeed::parse_uri_as(field, value)
    } else {
        let secret: String = value
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        TotpSeed::new(&secret, Algorithm::Sha1, 6, 30, None, None)
            .map_err(|e| DomainError::invalid(field, e.reason().to_owned()))
    }
}

impl Login {
    fn draft(mut self) -> Result<Draft, Refused> {
        let url = self.urls.first().map(String::as_str);
        let fallback = url
            .and_then(host)
            .or(given(self.username.as_deref()))
            .unwrap_or("Untitled");
        let name = name(self.common.name.as_deref(), fallback)?;
        let password = given(self.password.as_deref().map(|p| p.as_str()));
        let totp = given(self.totp.as_deref().map(|t| t.as_str()));
        // A seed some apps keep that is not a TOTP URI (`steam://`) stays,
        // as a secret field.
        let (totp, other_seed) = match totp {
            Some(t) if t.contains("://") && !t.starts_with("otpauth://") => (None, Some(t)),
            t => (t, None),
        };
        if let Some(other) = other_seed {
            self.common.field("one-time code", other, true);
        }
        for (n, more) in self.urls.iter().enumerate().skip(1) {
            let key = format!("url {}", n + 1);
            self.common.field(&key, more, false);
        }
        let Some(password) = password else {
            if let Some(totp) = totp {
                // A one-time password keeps no URL, username or note of its
                // own: they stay as custom fields.
                if let Some(url) = url {
                    self.common.field("url", url, false);
                }
                if let Some(username) = self.username.take() {
                    self.common.field("username", &username, false);
                }
                if let Some(note) = self.common.note.take() {
                    self.common.field("note", &note, false);
                }
                return Ok(Draft::Totp(TotpFields {
                    name,
                    seed: seed(totp, "totp")?,
                    extras: extras(&mut self.common, Totp::FIELDS)?,
                }));
            }
            // Only a name and a text: what other managers use for notes.
            let bare = url.is_none() && given(self.username.as_deref()).is_none();
            if bare && given(self.common.note.as_deref()).is_some() {
                return note(self.common);
            }
            return Err(Refused::Skip(if bare {
                "an empty login".to_owned()
            } else {
                "a login without a password".to_owned()
            }));
        };
        let fields = PasswordFields {
            name,
            url: optional(url, Url::parse)?,
            username: optional(self.username.as_deref(), Username::parse)?,
            password: Secret::parse(password)?,
            note: optional(self.common.note.as_deref(), Note::parse)?,
            totp: totp.map(|t| seed(t, "totp")).transpose()?,
            extras: extras(&mut self.common, Password::FIELDS)?,
        };
        Password::checked(&fields)?;
        Ok(Draft::Password(fields))
    }
}

impl RawCard {
    fn expiry(&self) -> Result<Expiry, DomainError> {
        let missing = || DomainError::invalid("expiry", "missing: Keeper keeps a card's expiry");
        if let Some(text) = given(self.expiry.as_deref()) {
            let text = text.trim();
            let digits: String = text.chars().filter(char::is_ascii_digit).collect();
            // `YYYYMM` (1Password) and `YYYY-MM`.
            if digits.len() == 6 && (text.len() == 6 || text.as_bytes().get(4) == Some(&b'-')) {
                let year: u16 = digits[..4].parse().map_err(|_| missing())?;
                let month: u8 = digits[4..].parse().map_err(|_| missing())?;
                return Expiry::from_parts(month, year);
            }
            let padded = match text.split_once('/') {
                Some((m, y)) if m.trim().len() == 1 => format!("0{}/{}", m.trim(), y.trim()),
                Some((m, y)) => format!("{}/{}", m.trim(), y.trim()),
                None => text.to_owned(),
            };
            return Expiry::parse(&padded);
        }
        let (Some(month), Some(year)) = (given(self.month.as_deref()), given(self.year.as_deref()))
        else {
            return Err(missing());
        };
        let bad = || DomainError::invalid("expiry", "month must be 1 to 12 and year 2000 to 2099");
        let month: u8 = month.trim().parse().map_err(|_| bad())?;
        let year: u16 = year.trim().parse().map_err(|_| bad())?;
        let year = if year < 100 { 2000 + year } else { year };
        Expiry::from_parts(month, year)
    }

    fn draft(mut self) -> Result<Draft, Refused> {
        let Some(number) = given(self.number.as_deref().map(|n| n.as_str())) else {
            return Err(Refused::Error("number: missing".to_owned()));
        };
        let number = CardNumber::parse(number)?;
        let fallback = format!("{} card {}", number.brand().as_str(), number.last4());
        let fields = CardFields {
            name: name(self.common.name.as_deref(), &fallback)?,
            expiry: self.expiry()?,
            number,
            holder: optional(self.holder.as_deref(), Holder::parse)?,
            cvv: optional(self.cvv.as_deref().map(|c| c.as_str()), Cvv::parse)?,
            note: optional(self.common.note.as_deref(), Note::parse)?,
            extras: extras(&mut self.common, Card::FIELDS)?,
        };
        Card::checked(&fields)?;
        Ok(Draft::Card(fields))
    }
}

fn note(mut common: Common) -> Result<Draft, Refused> {
    let Some(text) = given(common.note.as_deref()) else {
        return Err(Refused::Skip("a note without text".to_owned()));
    };
    let fields = NoteFields {
        name: name(common.name.as_deref(), "Untitled note")?,
        text: NoteText::parse(text)?,
        extras: extras(&mut common, SecureNote::FIELDS)?,
    };
    SecureNote::checked(&fields)?;
    Ok(Draft::Note(fields))
}

impl RawIdentity {
    fn draft(mut self) -> Result<Draft, Refused> {
        let mut documents = std::mem::take(&mut self.documents).into_iter();
        let document = documents.next();
        for (what, number) in documents {
            self.common.field(what, &number, true);
        }
        let fallback = given(self.full_name.as_deref())
            .or(given(self.email.as_deref()))
            .unwrap_or("Untitled identity")
            .to_owned();
        let fields = IdentityFields {
            name: name(self.common.name.as_deref(), &fallback)?,
            full_name: optional(self.full_name.as_deref(), FullName::parse)?,
            email: optional(self.email.as_deref(), Email::parse_address)?,
            phone: optional(self.phone.as_deref(), Phone::parse_number)?,
            address: optional(self.address.as_deref(), Address::parse)?,
            document: document
                .map(|(_, number)| DocumentNumber::parse(&number))
                .transpose()?,
            note: optional(self.common.note.as_deref(), Note::parse)?,
            extras: extras(&mut self.common, Identity::FIELDS)?,
        };
        Identity::checked(&fields)?;
        Ok(Draft::Identity(fields))
    }
}

/// Joins the parts of a person's name or an address that are given.
pub(super) fn joined<'a>(
    parts: impl IntoIterator<Item = Option<&'a str>>,
    by: &str,
) -> Option<String> {
    let parts: Vec<&str> = parts
        .into_iter()
        .filter_map(|p| given(p).map(str::trim))
        .collect();
    (!parts.is_empty()).then(|| parts.join(by))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login(name: &str, password: &str) -> Login {
        Login {
            common: Common {
                name: Some(name.to_owned()),
                ..Common::default()
            },
            password: Some(Zeroizing::new(password.to_owned())),
            ..Login::default()
        }
    }

    #[test]
    fn a_name_is_made_one_line_and_cut_to_64_characters() {
        let long = format!("line one\nline two {}", "x".repeat(100));
        let Ok(Draft::Password(f)) = login(&long, "pw").draft() else {
            panic!("a password entry");
        };
        assert!(f.name.as_str().starts_with("line one line two x"));
        assert_eq!(f.name.as_str().chars().count(), 64);
    }

    #[test]
    fn a_login_without_a_name_is_named_after_its_host() {
        let mut l = login("", "pw");
        l.urls = vec!["https://user@accounts.example.com/login?x=1".to_owned()];
        let Ok(Draft::Password(f)) = l.draft() else {
            panic!("a password entry");
        };
        assert_eq!(f.name.as_str(), "accounts.example.com");
    }

    #[test]
    fn custom_keys_that_clash_get_a_number() {
        let mut l = login("x", "pw");
        l.common.field("password", "a", true);
        l.common.field("PIN", "1", true);
        l.common.field("pin", "2", true);
        l.common.field("empty", " ", false);
        let Ok(Draft::Password(f)) = l.draft() else {
            panic!("a password entry");
        };
        let keys: Vec<&str> = f.extras.fields().iter().map(|f| f.key().as_str()).collect();
        assert_eq!(keys, ["password 2", "PIN", "pin 2"]);
    }

    #[test]
    fn a_login_with_only_a_seed_is_a_totp_item_and_an_empty_one_is_skipped() {
        let mut l = login("bank", "");
        l.totp = Some(Zeroizing::new("JBSW Y3DP EHPK 3PXP".to_owned()));
        assert!(matches!(l.draft(), Ok(Draft::Totp(_))));
        assert!(matches!(login("", "").draft(), Err(Refused::Skip(_))));
    }

    #[test]
    fn card_expiries_are_read_in_every_form_files_use() {
        for (expiry, month, year) in [
            (Some("202712"), None, None),
            (Some("2027-12"), None, None),
            (Some("12/27"), None, None),
            (Some("12/2027"), None, None),
            (None, Some("12"), Some("2027")),
            (None, Some("12"), Some("27")),
        ] {
            let card = RawCard {
                expiry: expiry.map(str::to_owned),
                month: month.map(str::to_owned),
                year: year.map(str::to_owned),
                ..RawCard::default()
            };
            let e = card.expiry().expect("an expiry");
            assert_eq!(
                (e.month(), e.year()),
                (12, 2027),
                "{expiry:?} {month:?} {year:?}"
            );
        }
        let padded = RawCard {
            expiry: Some("3/29".to_owned()),
            ..RawCard::default()
        };
        assert_eq!(padded.expiry().expect("expiry").month(), 3);
        assert!(RawCard::default().expiry().is_err());
    }
}
