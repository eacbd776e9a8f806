//! What every kind of item may carry beside its own fields: [`Tag`]s and
//! custom fields ([`CustomField`]), plain or secret. Both are sealed with
//! the item like its other fields.

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::DomainError;
use super::item::{invisible, search_form};
use super::text::Rules;

/// A label an item is filed under (`--tag work`): trimmed, in NFC, 1–32
/// printable characters without commas (a list of tags is written with
/// them). Two tags are the same up to case and accents.
#[derive(Clone, PartialEq, Eq)]
pub struct Tag(String);

impl Tag {
    /// Longest accepted tag, in characters.
    pub const MAX_LEN: usize = 32;

    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let rules = Rules::printable("tag", Self::MAX_LEN).refusing(
            |c| c.is_control() || c == ',' || invisible(c),
            "must not contain control or invisible characters or commas",
        );
        label(input, rules).map(Self)
    }
}

/// `input` trimmed, in NFC, checked by `rules`.
fn label(input: &str, rules: Rules) -> Result<String, DomainError> {
    use unicode_normalization::UnicodeNormalization;
    let nfc: String = input.trim().nfc().collect();
    rules.check(&nfc)
}

/// `as_str`, `is` (the same label, case and accents aside) and a redacted
/// `Debug` for a label type.
macro_rules! label_methods {
    ($($ty:ident),+) => {$(
        impl $ty {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Whether `other` names the same (case and accents aside).
            pub fn is(&self, other: &str) -> bool {
                search_form(&self.0) == search_form(other.trim())
            }
        }

        redacted_debug!($ty);
    )+};
}
label_methods!(Tag, FieldKey);

/// The key of a custom field: trimmed, 1–32 printable characters without
/// `=` (the shell writes a field `KEY=VALUE`). Keys are unique on an item
/// up to case and accents, and none is one of the kind's own fields.
#[derive(Clone, PartialEq, Eq)]
pub struct FieldKey(String);

impl FieldKey {
    /// Longest accepted key, in characters.
    pub const MAX_LEN: usize = 32;

    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let rules = Rules::printable("field", Self::MAX_LEN).refusing(
            |c| c.is_control() || c == '=' || invisible(c),
            "a custom field's key must not contain control or invisible characters or `=`",
        );
        label(input, rules).map(Self)
    }
}

/// A custom field: a key and a value, the value hidden unless revealed
/// when the field is secret (`--secret-field`). Values are kept as given,
/// 1–1024 characters on one line.
#[derive(Clone)]
pub struct CustomField {
    key: FieldKey,
    value: Zeroizing<String>,
    secret: bool,
}

impl CustomField {
    /// Longest accepted value, in characters.
    pub const MAX_VALUE_LEN: usize = 1024;

    pub fn new(key: FieldKey, value: &str, secret: bool) -> Result<Self, DomainError> {
        let value = Rules::verbatim("field", Self::MAX_VALUE_LEN)
            .refusing(
                |c| matches!(c, '\0' | '\n' | '\r'),
                "a custom field's value must be one line without NUL characters",
            )
            .check(value)
            .map_err(|e| match e.reason() {
                "must not be empty" => DomainError::invalid(
                    "field",
                    format!("custom field `{}` has an empty value", key.as_str()),
                ),
                _ => e,
            })?;
        Ok(Self {
            key,
            value: Zeroizing::new(value),
            secret,
        })
    }

    pub fn key(&self) -> &FieldKey {
        &self.key
    }

    /// The value, secret or not.
    pub fn expose(&self) -> &str {
        &self.value
    }

    pub fn is_secret(&self) -> bool {
        self.secret
    }
}

impl std::fmt::Debug for CustomField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CustomField(***)")
    }
}

/// An item's tags and custom fields.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    tags: Vec<Tag>,
    fields: Vec<CustomField>,
}

impl Extras {
    /// Most tags on one item.
    pub const MAX_TAGS: usize = 20;
    /// Most custom fields on one item.
    pub const MAX_FIELDS: usize = 20;

    /// Tags (a repeated one kept once) and fields, unchecked until
    /// [`Extras::check`].
    pub fn new(tags: Vec<Tag>, fields: Vec<CustomField>) -> Self {
        Self {
            tags: distinct(tags),
            fields,
        }
    }

    /// Parses tags and `(key, value, secret)` fields as given.
    pub fn parse<'a>(
        tags: impl IntoIterator<Item = &'a str>,
        fields: impl IntoIterator<Item = (&'a str, &'a str, bool)>,
    ) -> Result<Self, DomainError> {
        let tags = tags.into_iter().map(Tag::parse).collect::<Result<_, _>>()?;
        let fields = fields
            .into_iter()
            .map(|(key, value, secret)| CustomField::new(FieldKey::parse(key)?, value, secret))
            .collect::<Result<_, _>>()?;
        Ok(Self::new(tags, fields))
    }

    pub fn tags(&self) -> &[Tag] {
        &self.tags
    }

    pub fn fields(&self) -> &[CustomField] {
        &self.fields
    }

    pub fn has_tag(&self, tag: &str) -> bool {
        self.tags.iter().any(|t| t.is(tag))
    }

    /// The custom field keyed `key` (case and accents aside).
    pub fn field(&self, key: &str) -> Option<&CustomField> {
        self.fields.iter().find(|f| f.key.is(key))
    }

    /// The rules across tags and fields: how many, each key once, and no
    /// key that is one of the kind's own `built_in` fields.
    pub fn check(&self, built_in: &[&str]) -> Result<(), DomainError> {
        if self.tags.len() > Self::MAX_TAGS {
            return Err(DomainError::invalid(
                "tag",
                format!("an item has at most {} tags", Self::MAX_TAGS),
            ));
        }
        if self.fields.len() > Self::MAX_FIELDS {
            return Err(DomainError::invalid(
                "field",
                format!("an item has at most {} custom fields", Self::MAX_FIELDS),
            ));
        }
        for (i, field) in self.fields.iter().enumerate() {
            let key = field.key.as_str();
            if built_in.iter().any(|b| field.key.is(b)) {
                return Err(DomainError::invalid(
                    "field",
                    format!("`{key}` is a field of its own here; give a custom field another key"),
                ));
            }
            if self.fields[..i].iter().any(|f| f.key.is(key)) {
                return Err(DomainError::invalid(
                    "field",
                    format!("custom field `{key}` is given twice"),
                ));
            }
        }
        Ok(())
    }

    /// Every tag and non-secret field key and value: what `find` searches.
    pub fn searchable(&self) -> impl Iterator<Item = &str> {
        let tags = self.tags.iter().map(Tag::as_str);
        let fields = self
            .fields
            .iter()
            .filter(|f| !f.secret)
            .flat_map(|f| [f.key.as_str(), f.expose()]);
        tags.chain(fields)
    }
}

fn distinct(tags: Vec<Tag>) -> Vec<Tag> {
    let mut kept: Vec<Tag> = Vec::with_capacity(tags.len());
    for tag in tags {
        if !kept.iter().any(|k| k.is(tag.as_str())) {
            kept.push(tag);
        }
    }
    kept
}

/// An edit of an item's tags and custom fields.
#[derive(Debug, Clone, Default)]
pub struct ExtrasChanges {
    /// The tags that replace the item's (an empty list removes them all).
    pub tags: Option<Vec<Tag>>,
    /// Fields added, or replacing the field with their key.
    pub set: Vec<CustomField>,
    /// Keys of fields removed.
    pub remove: Vec<FieldKey>,
}

impl ExtrasChanges {
    pub fn is_empty(&self) -> bool {
        self.tags.is_none() && self.set.is_empty() && self.remove.is_empty()
    }

    /// Applies the edit; removing a field the item does not have is an
    /// error, and `extras` is then left as it was.
    pub fn apply_to(self, extras: &mut Extras) -> Result<(), DomainError> {
        if let Some(missing) = self
            .remove
            .iter()
            .find(|k| extras.field(k.as_str()).is_none())
        {
            return Err(DomainError::invalid(
                "field",
                format!("there is no custom field `{}` to remove", missing.as_str()),
            ));
        }
        if let Some(tags) = self.tags {
            extras.tags = distinct(tags);
        }
        for key in &self.remove {
            extras.fields.retain(|f| !f.key.is(key.as_str()));
        }
        for field in self.set {
            match extras
                .fields
                .iter_mut()
                .find(|f| f.key.is(field.key.as_str()))
            {
                Some(kept) => *kept = field,
                None => extras.fields.push(field),
            }
        }
        Ok(())
    }
}

/// Tags and custom fields as sealed with an item: plain strings, wiped when
/// dropped. Items sealed before they existed have none.
#[derive(Default, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct StoredExtras {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    fields: Vec<StoredField>,
}

#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
struct StoredField {
    key: String,
    value: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    secret: bool,
}

impl StoredExtras {
    pub fn of(extras: &Extras) -> Self {
        Self {
            tags: extras.tags.iter().map(|t| t.0.clone()).collect(),
            fields: extras
                .fields
                .iter()
                .map(|f| StoredField {
                    key: f.key.0.clone(),
                    value: f.value.as_str().to_owned(),
                    secret: f.secret,
                })
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.tags.is_empty() && self.fields.is_empty()
    }

    pub fn open(&self) -> Result<Extras, DomainError> {
        Extras::parse(
            self.tags.iter().map(String::as_str),
            self.fields
                .iter()
                .map(|f| (f.key.as_str(), f.value.as_str(), f.secret)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(key: &str, value: &str, secret: bool) -> CustomField {
        CustomField::new(FieldKey::parse(key).expect("key"), value, secret).expect("field")
    }

    #[test]
    fn tags_are_trimmed_and_refuse_control_characters_commas_and_length() {
        assert_eq!(Tag::parse("  work ").expect("tag").as_str(), "work");
        assert!(Tag::parse("bad\u{1b}[31m").is_err());
        assert!(Tag::parse("a,b").is_err());
        assert!(Tag::parse("").is_err());
        assert!(Tag::parse("zero\u{200B}width").is_err());
        assert!(Tag::parse(&"t".repeat(Tag::MAX_LEN)).is_ok());
        assert!(Tag::parse(&"t".repeat(Tag::MAX_LEN + 1)).is_err());
    }

    #[test]
    fn a_tag_repeated_in_another_case_is_kept_once() {
        let tags = ["Work", "work", "WÖRK", "home"]
            .iter()
            .map(|t| Tag::parse(t).expect("tag"))
            .collect();
        let extras = Extras::new(tags, vec![]);
        let kept: Vec<_> = extras.tags().iter().map(Tag::as_str).collect();
        assert_eq!(kept, ["Work", "home"]);
        assert!(extras.has_tag("HOME"));
    }

    #[test]
    fn keys_are_unique_and_never_a_built_in_field() {
        let twice = Extras::new(
            vec![],
            vec![field("pin", "1", false), field("PIN", "2", true)],
        );
        assert!(twice.check(&[]).is_err());
        let built_in = Extras::new(vec![], vec![field("Password", "x", true)]);
        let e = built_in.check(&["name", "password"]).expect_err("built in");
        assert!(e.to_string().contains("field of its own"), "{e}");
        assert!(FieldKey::parse("a=b").is_err());
        assert!(CustomField::new(FieldKey::parse("k").expect("key"), "two\nlines", false).is_err());
        assert!(CustomField::new(FieldKey::parse("k").expect("key"), "", false).is_err());
    }

    #[test]
    fn an_edit_replaces_tags_sets_fields_by_key_and_removes_them() {
        let mut extras = Extras::new(
            vec![Tag::parse("old").expect("tag")],
            vec![field("a", "1", false), field("b", "2", true)],
        );
        ExtrasChanges {
            tags: Some(vec![Tag::parse("new").expect("tag")]),
            set: vec![field("A", "10", true), field("c", "3", false)],
            remove: vec![FieldKey::parse("b").expect("key")],
        }
        .apply_to(&mut extras)
        .expect("applies");
        assert!(extras.has_tag("new") && !extras.has_tag("old"));
        let fields: Vec<_> = extras
            .fields()
            .iter()
            .map(|f| (f.key().as_str(), f.expose(), f.is_secret()))
            .collect();
        assert_eq!(fields, [("A", "10", true), ("c", "3", false)]);
        let missing = ExtrasChanges {
            tags: Some(vec![]),
            remove: vec![FieldKey::parse("nothere").expect("key")],
            ..ExtrasChanges::default()
        }
        .apply_to(&mut extras)
        .expect_err("no such field");
        assert!(missing.to_string().contains("nothere"), "{missing}");
        assert!(extras.has_tag("new"), "a refused edit changes nothing");
    }

    #[test]
    fn extras_round_trip_through_their_sealed_form_and_hide_in_debug() {
        let extras = Extras::new(
            vec![Tag::parse("bank").expect("tag")],
            vec![field("recovery", "s3cret-code", true)],
        );
        let json = serde_json::to_string(&StoredExtras::of(&extras)).expect("json");
        let back: StoredExtras = serde_json::from_str(&json).expect("back");
        let back = back.open().expect("open");
        assert_eq!(back.tags()[0].as_str(), "bank");
        assert_eq!(
            back.field("Recovery").expect("field").expose(),
            "s3cret-code"
        );
        let debug = format!("{extras:?}");
        assert!(
            !debug.contains("s3cret") && !debug.contains("bank"),
            "{debug}"
        );
        assert!(StoredExtras::default().is_empty());
        assert_eq!(
            serde_json::to_string(&StoredExtras::default()).expect("json"),
            "{}"
        );
    }
}
