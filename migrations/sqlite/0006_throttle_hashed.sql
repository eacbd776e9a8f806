-- Throttle keys become HMACs under a server key: the table no longer holds
-- logins, addresses, or whatever was typed into a login field. Rows are
-- deleted once their window has passed. An attempt is counted as pending
-- before its Argon2 work starts, so attempts in flight count against the
-- limit too. Locks in force at the upgrade are
-- dropped with the old table.

DROP TABLE throttle;

CREATE TABLE throttle (
    key          BLOB    PRIMARY KEY,          -- HMAC of "pair\0login\0addr", "login\0…", …
    failures     INTEGER NOT NULL,
    last_failure TEXT    NOT NULL,
    locked_until TEXT,
    pending      INTEGER NOT NULL DEFAULT 0,   -- attempts being checked now
    pending_until TEXT                         -- when those count as abandoned
) STRICT;
