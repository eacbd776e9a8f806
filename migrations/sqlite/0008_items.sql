-- One table for every kind of item. Kinds are rows, not tables: a new kind
-- needs no migration. Rows move as stored, nothing decrypted: each sealed
-- value is bound to its kind and row id, which stay the same.

CREATE TABLE items (
    id         INTEGER PRIMARY KEY,            -- random, bound into `sealed`
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL,               -- 'card', 'password', …
    name_index BLOB    NOT NULL,
    sealed     BLOB    NOT NULL,
    version    INTEGER NOT NULL CHECK (version >= 1),
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL,
    UNIQUE (user_id, kind, name_index)
) STRICT;

-- A vault is listed oldest first, straight from this index.
CREATE INDEX items_by_user_kind_created ON items (user_id, kind, created_at, id);

INSERT INTO items (id, user_id, kind, name_index, sealed, version, created_at, updated_at)
    SELECT id, user_id, 'card', name_index, sealed, version, created_at, updated_at FROM cards;
INSERT INTO items (id, user_id, kind, name_index, sealed, version, created_at, updated_at)
    SELECT id, user_id, 'password', name_index, sealed, version, created_at, updated_at FROM passwords;

DROP TABLE cards;
DROP TABLE passwords;
