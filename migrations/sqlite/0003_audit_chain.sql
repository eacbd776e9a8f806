-- Tamper evidence: every audit record carries an HMAC (under the server's
-- audit key, kept outside the database) over the previous record of the same
-- chain — one chain per user, chain 0 for events without a user — and the id
-- of that previous record. audit_heads keeps each chain's last record, so a
-- deleted tail is detected too.

ALTER TABLE audit_events ADD COLUMN prev_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE audit_events ADD COLUMN mac BLOB NOT NULL DEFAULT x'';

CREATE TABLE audit_heads (
    chain   INTEGER PRIMARY KEY,                -- a user id, or 0
    last_id INTEGER NOT NULL,
    mac     BLOB    NOT NULL
) STRICT;
