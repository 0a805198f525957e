-- Ids of teams, users, organisations and customers are unique per account only (auth's primary
-- keys are (account_id, id)): two accounts may both have a team "eng", each with its own limit.
ALTER TABLE spend_limits DROP CONSTRAINT spend_limits_pkey;
ALTER TABLE spend_limits ADD PRIMARY KEY (account_id, scope_kind, scope_id);
