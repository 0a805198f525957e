-- Budget windows: a limit with a budget_duration starts its spend again from zero at
-- budget_reset_at, which then moves on by whole durations.
ALTER TABLE spend_limits ADD COLUMN budget_reset_at timestamptz;
CREATE INDEX spend_limits_reset_idx ON spend_limits (budget_reset_at) WHERE budget_duration IS NOT NULL;
