-- One-time invite codes (`keeper admin invite`) for `--registration invite`:
-- only a hash of each code is kept, and a registration uses one in the same
-- transaction that makes the account. Operators' commands are audited with
-- the channel `operator`, which the audit table did not allow before: it
-- is rebuilt with the same rows, as 0010 did.

CREATE TABLE invites (
    code_hash  BLOB PRIMARY KEY,                -- SHA-256 of the code
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
) STRICT, WITHOUT ROWID;

CREATE TABLE audit_events_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT    NOT NULL,
    user_id     INTEGER REFERENCES users (id),
    channel     TEXT    NOT NULL CHECK (channel IN ('ssh', 'http', 'server', 'operator')),
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
