-- The data key wrapped under a key derived from the user's recovery key
-- (shown once at registration); accounts made before have none until they
-- ask for one.
ALTER TABLE users ADD COLUMN recovery_wrapped BLOB;
