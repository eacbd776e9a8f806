-- The trash: an item deleted from the vault moves here as stored (its row
-- id, version and sealed value unchanged, so it opens and can move back)
-- and is purged by the server once `deleted_at` is older than the
-- retention. Purges are audited with the channel `server`, which the
-- audit table did not allow before: it is rebuilt with the same rows.

CREATE TABLE trash (
    id         INTEGER PRIMARY KEY,            -- the item's id, bound into `sealed`
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL,
    name_index BLOB    NOT NULL,
    sealed     BLOB    NOT NULL,
    version    INTEGER NOT NULL CHECK (version >= 1),
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL,
    deleted_at TEXT    NOT NULL
) STRICT;

CREATE INDEX trash_by_user ON trash (user_id, deleted_at, id);
CREATE INDEX trash_by_deleted ON trash (deleted_at);

CREATE TABLE audit_events_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT    NOT NULL,
    user_id     INTEGER REFERENCES users (id),
    channel     TEXT    NOT NULL CHECK (channel IN ('ssh', 'http', 'server')),
    remote_addr TEXT,
    action      TEXT    NOT NULL,
    target      TEXT,                          -- an item id, never a name
    outcome     TEXT    NOT NULL CHECK (outcome IN ('ok', 'failed')),
    prev_id     INTEGER NOT NULL DEFAULT 0,
    mac         BLOB    NOT NULL DEFAULT x''
) STRICT;

INSERT INTO audit_events_new (id, at, user_id, channel, remote_addr, action, target, outcome, prev_id, mac)
    SELECT id, at, user_id, channel, remote_addr, action, target, outcome, prev_id, mac FROM audit_events;
DROP TABLE audit_events;
ALTER TABLE audit_events_new RENAME TO audit_events;
CREATE INDEX audit_events_by_user ON audit_events (user_id, id);
