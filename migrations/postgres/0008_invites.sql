-- One-time invite codes (`keeper admin invite`) for `--registration invite`:
-- only a hash of each code is kept, and a registration uses one in the same
-- transaction that makes the account. Operators' commands are audited with
-- the channel `operator`.

CREATE TABLE invites (
    code_hash  BYTEA       PRIMARY KEY,         -- SHA-256 of the code
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);

ALTER TABLE audit_events DROP CONSTRAINT audit_events_channel_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_channel_check
    CHECK (channel IN ('ssh', 'http', 'server', 'operator'));
