-- API tokens. Only a hash of each token is stored, and the user's data key
-- wrapped under a key derived from the token itself: a copy of this table
-- opens nothing without the tokens, which only their holders have.

CREATE TABLE tokens (
    id           INTEGER PRIMARY KEY,          -- random, bound into wrapped_dek
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   BLOB    NOT NULL UNIQUE,      -- SHA-256 of the token
    wrapped_dek  BLOB    NOT NULL,             -- DEK under HMAC(token, "keeper/v1/token-kek")
    created_at   TEXT    NOT NULL,
    last_used_at TEXT    NOT NULL,             -- for the idle limit
    expires_at   TEXT    NOT NULL              -- the absolute limit
) STRICT;

CREATE INDEX tokens_by_user ON tokens (user_id);
