-- Operators' account commands (`keeper admin disable|enable|unlock|delete`).
-- A disabled account keeps its data and opens on no channel. A login's
-- throttle rows carry an HMAC of the login (`owner`, under the throttle
-- key), so that `unlock` finds them without knowing the addresses; rows
-- made before this migration have none and run out on their own. A deleted
-- account's audit chain stays and still verifies: audit_events no longer
-- refers to users, and is rebuilt with the same rows, as 0012 did.

ALTER TABLE users ADD COLUMN disabled_at TEXT;

ALTER TABLE throttle ADD COLUMN owner BLOB;
CREATE INDEX throttle_by_owner ON throttle (owner) WHERE owner IS NOT NULL;

CREATE TABLE audit_events_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT    NOT NULL,
    user_id     INTEGER,                       -- a user id, also of a deleted user
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
