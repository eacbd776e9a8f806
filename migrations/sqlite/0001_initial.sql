-- Keeper's schema. Nothing secret is stored in a form the server can read:
-- item names, card data and passwords live only inside `sealed` (AES-256-GCM
-- under the user's data key); `name_index` is a keyed HMAC of the name.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    login         TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,            -- Argon2id PHC string
    kek_salt      BLOB    NOT NULL,            -- salt of KEK = Argon2id(password ‖ PIN)
    wrapped_dek   BLOB    NOT NULL,            -- data key sealed under the KEK
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
) STRICT;

CREATE TABLE cards (
    id         INTEGER PRIMARY KEY,            -- random, bound into `sealed`
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name_index BLOB    NOT NULL,
    sealed     BLOB    NOT NULL,
    version    INTEGER NOT NULL CHECK (version >= 1),
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL,
    UNIQUE (user_id, name_index)
) STRICT;

CREATE TABLE passwords (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name_index BLOB    NOT NULL,
    sealed     BLOB    NOT NULL,
    version    INTEGER NOT NULL CHECK (version >= 1),
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL,
    UNIQUE (user_id, name_index)
) STRICT;

CREATE TABLE audit_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT    NOT NULL,
    user_id     INTEGER REFERENCES users (id),
    channel     TEXT    NOT NULL CHECK (channel IN ('ssh', 'http')),
    remote_addr TEXT,
    action      TEXT    NOT NULL,
    target      TEXT,                          -- an item id, never a name
    outcome     TEXT    NOT NULL CHECK (outcome IN ('ok', 'failed'))
) STRICT;

CREATE INDEX audit_events_by_user ON audit_events (user_id, id);
