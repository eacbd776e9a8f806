//! Earlier values of an item's secret fields: each change of a secret keeps
//! the value it replaced, with the time, sealed with the item (the newest
//! [`History::KEPT`]).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::search_form;

/// A secret field's value as it was before a change.
pub struct Change {
    /// When it was replaced.
    pub changed_at: OffsetDateTime,
    /// The field: one of the kind's own, or a custom field's key.
    pub field: String,
    pub value: Zeroizing<String>,
}

impl std::fmt::Debug for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Change(***)")
    }
}

/// A secret field and its value, as [`Kind::secrets`](super::Kind::secrets)
/// lists them.
pub type SecretValue = (String, Zeroizing<String>);

/// An item's earlier secrets, oldest first.
#[derive(Debug, Default)]
pub struct History(Vec<Change>);

impl History {
    /// How many earlier values an item keeps.
    pub const KEPT: usize = 10;

    /// Keeps each secret of `before` that `after` no longer holds as it
    /// was (changed or removed), dropping the oldest beyond [`Self::KEPT`].
    pub fn record(&mut self, before: Vec<SecretValue>, after: &[SecretValue], at: OffsetDateTime) {
        for (field, value) in before {
            let wanted = search_form(&field);
            let kept = after
                .iter()
                .any(|(f, v)| search_form(f) == wanted && v.as_str() == value.as_str());
            if !kept {
                self.0.push(Change {
                    changed_at: at,
                    field,
                    value,
                });
            }
        }
        let over = self.0.len().saturating_sub(Self::KEPT);
        self.0.drain(..over);
    }

    /// Every change kept, newest first.
    pub fn newest_first(&self) -> impl Iterator<Item = &Change> {
        self.0.iter().rev()
    }
}

/// The history as sealed with its item: `{"history": [...]}` beside the
/// item's fields; an item without one has none.
#[derive(Default, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct StoredHistory {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    history: Vec<StoredChange>,
}

#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
struct StoredChange {
    /// Unix time in microseconds.
    at: i64,
    field: String,
    value: String,
}

impl StoredHistory {
    pub fn of(history: &History) -> Self {
        Self {
            history: history
                .0
                .iter()
                .map(|c| StoredChange {
                    at: i64::try_from(c.changed_at.unix_timestamp_nanos() / 1000)
                        .unwrap_or(i64::MAX),
                    field: c.field.clone(),
                    value: c.value.as_str().to_owned(),
                })
                .collect(),
        }
    }

    /// The history back; a time out of range reads as the epoch.
    pub fn open(&self) -> History {
        History(
            self.history
                .iter()
                .map(|c| Change {
                    changed_at: OffsetDateTime::from_unix_timestamp_nanos(i128::from(c.at) * 1000)
                        .unwrap_or(OffsetDateTime::UNIX_EPOCH),
                    field: c.field.clone(),
                    value: Zeroizing::new(c.value.clone()),
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(pairs: &[(&str, &str)]) -> Vec<SecretValue> {
        pairs
            .iter()
            .map(|(f, v)| ((*f).to_owned(), Zeroizing::new((*v).to_owned())))
            .collect()
    }

    fn fields(h: &History) -> Vec<(String, String)> {
        h.newest_first()
            .map(|c| (c.field.clone(), c.value.as_str().to_owned()))
            .collect()
    }

    #[test]
    fn a_changed_or_removed_secret_is_kept_and_an_unchanged_one_is_not() {
        let mut h = History::default();
        let at = OffsetDateTime::UNIX_EPOCH;
        h.record(
            secrets(&[("password", "old"), ("pin", "1111"), ("cvv", "123")]),
            &secrets(&[("password", "new"), ("PIN", "1111")]),
            at,
        );
        assert_eq!(
            fields(&h),
            [
                ("cvv".to_owned(), "123".to_owned()),
                ("password".to_owned(), "old".to_owned())
            ]
        );
    }

    #[test]
    fn only_the_newest_ten_are_kept_and_they_survive_sealing() {
        let mut h = History::default();
        for i in 0..15 {
            let at = OffsetDateTime::from_unix_timestamp(1_700_000_000 + i).expect("time");
            h.record(
                secrets(&[("password", &format!("v{i}"))]),
                &secrets(&[("password", &format!("v{}", i + 1))]),
                at,
            );
        }
        let json = serde_json::to_string(&StoredHistory::of(&h)).expect("json");
        let back: StoredHistory = serde_json::from_str(&json).expect("back");
        let back = back.open();
        let kept = fields(&back);
        assert_eq!(kept.len(), History::KEPT);
        assert_eq!(kept[0].1, "v14");
        assert_eq!(kept[9].1, "v5");
        let newest = back.newest_first().next().expect("one");
        assert_eq!(newest.changed_at.unix_timestamp(), 1_700_000_014);
        assert_eq!(format!("{newest:?}"), "Change(***)");
        assert_eq!(
            serde_json::to_string(&StoredHistory::default()).expect("json"),
            "{}"
        );
    }
}
