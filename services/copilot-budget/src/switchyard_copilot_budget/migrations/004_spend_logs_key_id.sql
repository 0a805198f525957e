-- The key's stable id (it survives /key/regenerate, which changes key_hash). Rows written before
-- it existed have NULL here and are found by key_hash, which was the key's id until then.
ALTER TABLE spend_logs ADD COLUMN key_id text;
CREATE INDEX spend_logs_key_id_idx ON spend_logs (key_id, start_time DESC) WHERE key_id IS NOT NULL;
