-- Failed logins and PINs, per login and per source address: after a few
-- failures the key is locked for a while, longer each time. Kept in the
-- database so that every node sharing it enforces the same locks.

CREATE TABLE throttle (
    key          TEXT    PRIMARY KEY,          -- "login:alice", "pin:alice", "addr:192.0.2.7"
    failures     INTEGER NOT NULL,
    last_failure TEXT    NOT NULL,
    locked_until TEXT
) STRICT;
