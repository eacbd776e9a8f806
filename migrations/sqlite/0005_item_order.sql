-- A vault is listed oldest first: these indexes give the rows in that order,
-- so listing reads one index range instead of sorting the user's items.
CREATE INDEX cards_by_user_created ON cards (user_id, created_at, id);
CREATE INDEX passwords_by_user_created ON passwords (user_id, created_at, id);
