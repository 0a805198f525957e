-- Secrets a regeneration replaced but keeps working until `valid_until` (`/key/regenerate` with a
-- `grace_period`), so clients can move to the new secret without an outage. A row names the key
-- by its stable id: the old secret authenticates as the key as it is now (blocked, deleted or
-- changed as it is), never longer than the grace period.
CREATE TABLE previous_key_secrets (
    key_hash     text PRIMARY KEY,
    account_id   text NOT NULL,
    key_id       text NOT NULL REFERENCES keys (key_id) ON DELETE CASCADE,
    valid_until  timestamptz NOT NULL
);
CREATE INDEX previous_key_secrets_key_idx ON previous_key_secrets (key_id);
