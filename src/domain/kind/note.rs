//! A secure note: a name and a secret, multi-line text.

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::{Kind, Op};
use crate::domain::extras::StoredExtras;
use crate::domain::{Action, DomainError, ItemKind, ItemName, NoteId, NoteText};

/// The secure-note kind (`note` in the shell; `Note` is the free-text
/// field other kinds carry).
#[derive(Debug)]
pub enum SecureNote {}

fields_and_changes! {
    /// What a secure note is made of.
    NoteFields,
    /// An edit of a secure note, like [`CardChanges`](super::CardChanges).
    NoteChanges {
        name: ItemName,
        text: NoteText,
    }
}

/// A secure note as sealed in its row: plain strings, wiped when dropped.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct StoredNote {
    name: String,
    text: String,
    /// Items sealed before tags and custom fields have none.
    #[serde(default, skip_serializing_if = "StoredExtras::is_empty")]
    extras: StoredExtras,
}

impl Kind for SecureNote {
    const KIND: ItemKind = ItemKind::Note;
    type Id = NoteId;
    type Fields = NoteFields;
    type Changes = NoteChanges;
    type Stored = StoredNote;
    const FIELDS: &'static [&'static str] = &["name", "text"];

    fn id(raw: i64) -> NoteId {
        NoteId::new(raw)
    }

    fn name(f: &NoteFields) -> &ItemName {
        &f.name
    }

    fn apply(changes: NoteChanges, f: &mut NoteFields) -> Result<(), DomainError> {
        changes.apply_to(f)
    }

    fn stored(f: &NoteFields) -> StoredNote {
        StoredNote {
            name: f.name.as_str().to_owned(),
            text: f.text.expose().to_owned(),
            extras: StoredExtras::of(&f.extras),
        }
    }

    fn fields(s: &StoredNote) -> Result<NoteFields, DomainError> {
        Ok(NoteFields {
            name: ItemName::named(&s.name)?,
            text: NoteText::parse(&s.text)?,
            extras: s.extras.open()?,
        })
    }

    fn own_secrets(f: &NoteFields) -> Vec<(&'static str, Zeroizing<String>)> {
        vec![("text", Zeroizing::new(f.text.expose().to_owned()))]
    }

    fn action(op: Op) -> Action {
        match op {
            Op::Create => Action::NoteCreate,
            Op::View => Action::NoteView,
            // A note's text is what a copy would give: a reveal.
            Op::Reveal | Op::Copy => Action::NoteReveal,
            Op::Update => Action::NoteUpdate,
            Op::Delete => Action::NoteDelete,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_keeps_its_lines_and_spacing_exactly() {
        let text = "  first line\n\n\tindented\r\nlast ";
        let fields = NoteFields {
            name: ItemName::parse("door codes").expect("name"),
            text: NoteText::parse(text).expect("text"),
            extras: Default::default(),
        };
        let back = SecureNote::fields(&SecureNote::stored(&fields)).expect("fields");
        assert_eq!(back.text.expose(), text);
    }

    #[test]
    fn the_text_is_bounded_at_64_kib_and_never_empty_or_holding_nul() {
        assert!(NoteText::parse(&"a".repeat(NoteText::MAX_BYTES)).is_ok());
        let over = NoteText::parse(&"a".repeat(NoteText::MAX_BYTES + 1))
            .map(|_| ())
            .expect_err("over 64 KiB");
        assert_eq!(over.field(), "text");
        assert!(over.reason().contains("64 KiB"), "{over}");
        // Bytes, not characters: 32,769 two-byte characters are too many.
        assert!(NoteText::parse(&"é".repeat(NoteText::MAX_BYTES / 2 + 1)).is_err());
        assert!(NoteText::parse("").is_err());
        assert!(NoteText::parse("a\0b").is_err());
        assert_eq!(
            format!("{:?}", NoteText::parse("s3cret").expect("text")),
            "NoteText(***)"
        );
    }
}
