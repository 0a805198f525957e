-- The version of a limit (auth's version of the settings it comes from): an older version never
-- replaces a newer one, whether it arrives by identity event or with a caller's first admission.
-- A deleted key's limit stays as a row without a budget (a tombstone holding its version).
ALTER TABLE spend_limits ADD COLUMN version bigint NOT NULL DEFAULT 0;

-- Spend reported by the holder of a returned lease whose usage events have not arrived yet
-- (Kafka lag or outage). It counts as spent until those events arrive and take its place, so
-- it never goes back to a budget's headroom in between, however long they take.
ALTER TABLE spend_limits ADD COLUMN pending numeric(20, 10) NOT NULL DEFAULT 0;
CREATE TABLE lease_pending (
    lease_id    text PRIMARY KEY,
    account_id  text NOT NULL,
    scope_kinds text[] NOT NULL,
    scope_ids   text[] NOT NULL,
    amount      numeric(20, 10) NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- What a lease's events settled so far is summed when it is returned.
CREATE INDEX spend_logs_reservation_idx ON spend_logs (reservation_id) WHERE reservation_id <> '';
