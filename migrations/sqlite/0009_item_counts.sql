-- How many items of each kind a user stores, kept with every insert and
-- delete, so that the per-kind limit is checked without counting the rows.

CREATE TABLE item_counts (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind    TEXT    NOT NULL,
    stored  INTEGER NOT NULL CHECK (stored >= 0),
    PRIMARY KEY (user_id, kind)
) STRICT, WITHOUT ROWID;

INSERT INTO item_counts (user_id, kind, stored)
    SELECT user_id, kind, COUNT(*) FROM items GROUP BY user_id, kind;
