//! How an engine's columns hold a point in time, and the few statements
//! whose locking differs: what [`super::Sql`] needs beyond sqlx.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Database, Decode, Encode, Type};
use time::OffsetDateTime;

/// What the shared statements need of an engine beyond sqlx's `Database`.
pub(in crate::storage) trait Engine: Database {
    /// A point in time as the engine's columns are given it.
    type Time: for<'q> Encode<'q, Self> + Type<Self>;
    /// A point in time as the engine's columns give it back (borrowed from
    /// the row where it can be).
    type TimeRef<'r>: Decode<'r, Self>;

    /// `t` as the engine's columns are given it.
    fn to_column(t: OffsetDateTime) -> Result<Self::Time, BoxDynError>;

    /// The point in time a column gave back.
    fn from_column(t: Self::TimeRef<'_>) -> Result<OffsetDateTime, BoxDynError>;

    /// The text of a stored time that an audit record's MAC covers.
    fn column_text(t: Self::TimeRef<'_>) -> Result<String, BoxDynError>;

    /// How many rows a statement changed.
    fn rows_affected(result: &Self::QueryResult) -> u64;

    /// Takes the head of chain `$1`, held against other writers until the
    /// transaction ends, and the id of the record to append: the newest
    /// record's id and MAC and the chain's count (`NULL` for a new chain),
    /// then the new id.
    const CHAIN_HEAD: &'static str;

    /// Writes a record and moves its chain's head to it, in one round trip,
    /// given
    /// `$1` id, `$2` at, `$3` user_id, `$4` channel, `$5` remote_addr,
    /// `$6` action, `$7` target, `$8` outcome, `$9` prev_id, `$10` mac,
    /// `$11` chain, `$12` count and `$13` head_mac.
    const APPEND: &'static str;

    /// Takes `$1` more record ids after the one [`Self::CHAIN_HEAD`] gave,
    /// where they are not simply the ones that follow it (as they are
    /// where the writer holds the whole database).
    const MORE_IDS: Option<&'static str>;
}

/// A point in time as an engine stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::storage) struct Stamp(pub(in crate::storage) OffsetDateTime);

impl<DB: Engine> Type<DB> for Stamp {
    fn type_info() -> DB::TypeInfo {
        <DB::Time as Type<DB>>::type_info()
    }
}

impl<DB: Engine> Encode<'_, DB> for Stamp {
    fn encode_by_ref(&self, buf: &mut DB::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <DB::Time as Encode<'_, DB>>::encode(DB::to_column(self.0)?, buf)
    }
}

impl<'r, DB: Engine> Decode<'r, DB> for Stamp {
    fn decode(value: DB::ValueRef<'r>) -> Result<Self, BoxDynError> {
        DB::from_column(<DB::TimeRef<'r> as Decode<'r, DB>>::decode(value)?).map(Self)
    }
}

/// A stored point in time as an audit record's MAC covers it.
pub(in crate::storage) struct TimeText(pub(super) String);

impl<DB: Engine> Type<DB> for TimeText {
    fn type_info() -> DB::TypeInfo {
        <DB::Time as Type<DB>>::type_info()
    }
}

impl<'r, DB: Engine> Decode<'r, DB> for TimeText {
    fn decode(value: DB::ValueRef<'r>) -> Result<Self, BoxDynError> {
        DB::column_text(<DB::TimeRef<'r> as Decode<'r, DB>>::decode(value)?).map(Self)
    }
}

impl From<Stamp> for OffsetDateTime {
    fn from(stamp: Stamp) -> Self {
        stamp.0
    }
}
