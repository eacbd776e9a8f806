-- One table for every kind of item. Kinds are rows, not tables: a new kind
-- needs no migration. Rows move as stored, nothing decrypted: each sealed
-- value is bound to its kind and row id, which stay the same.

CREATE TABLE items (
    id         BIGINT      PRIMARY KEY,             -- random, bound into `sealed`
    user_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT        NOT NULL,                -- 'card', 'password', …
    name_index BYTEA       NOT NULL,
    sealed     BYTEA       NOT NULL,
    version    BIGINT      NOT NULL CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (user_id, kind, name_index)
);

-- A vault is listed oldest first, straight from this index.
CREATE INDEX items_by_user_kind_created ON items (user_id, kind, created_at, id);

INSERT INTO items (id, user_id, kind, name_index, sealed, version, created_at, updated_at)
    SELECT id, user_id, 'card', name_index, sealed, version, created_at, updated_at FROM cards;
INSERT INTO items (id, user_id, kind, name_index, sealed, version, created_at, updated_at)
    SELECT id, user_id, 'password', name_index, sealed, version, created_at, updated_at FROM passwords;

DROP TABLE cards;
DROP TABLE passwords;
