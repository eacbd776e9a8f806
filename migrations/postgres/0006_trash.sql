-- The trash: an item deleted from the vault moves here as stored (its row
-- id, version and sealed value unchanged, so it opens and can move back)
-- and is purged by the server once `deleted_at` is older than the
-- retention. Purges are audited with the channel `server`.

CREATE TABLE trash (
    id         BIGINT      PRIMARY KEY,             -- the item's id, bound into `sealed`
    user_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT        NOT NULL,
    name_index BYTEA       NOT NULL,
    sealed     BYTEA       NOT NULL,
    version    BIGINT      NOT NULL CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    deleted_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX trash_by_user ON trash (user_id, deleted_at, id);
CREATE INDEX trash_by_deleted ON trash (deleted_at);

ALTER TABLE audit_events DROP CONSTRAINT audit_events_channel_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_channel_check
    CHECK (channel IN ('ssh', 'http', 'server'));
