-- Operators' account commands (`keeper admin disable|enable|unlock|delete`).
-- A disabled account keeps its data and opens on no channel. A login's
-- throttle rows carry an HMAC of the login (`owner`, under the throttle
-- key), so that `unlock` finds them without knowing the addresses; rows
-- made before this migration have none and run out on their own. A deleted
-- account's audit chain stays and still verifies: audit_events no longer
-- refers to users.

ALTER TABLE users ADD COLUMN disabled_at TIMESTAMPTZ;

ALTER TABLE throttle ADD COLUMN owner BYTEA;
CREATE INDEX throttle_by_owner ON throttle (owner) WHERE owner IS NOT NULL;

ALTER TABLE audit_events DROP CONSTRAINT audit_events_user_id_fkey;
