-- Chain heads carry the chain's record count and a MAC (under the audit
-- key) over chain, count, last id and last MAC: a head moved back over a
-- cut tail, or a deleted chain, no longer verifies. The server fills both
-- for existing heads right after this migration runs.

ALTER TABLE audit_heads ADD COLUMN count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE audit_heads ADD COLUMN head_mac BYTEA NOT NULL DEFAULT ''::bytea;
