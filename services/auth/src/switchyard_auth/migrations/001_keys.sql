-- Accounts (tenants) and virtual keys. Keys are stored only as SHA-256 hashes.
CREATE TABLE accounts (
    account_id  text PRIMARY KEY,
    name        text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE keys (
    key_hash              text PRIMARY KEY,
    account_id            text NOT NULL REFERENCES accounts (account_id),
    key_name              text NOT NULL,
    key_alias             text,
    team_id               text,
    user_id               text,
    org_id                text,
    models                text[] NOT NULL DEFAULT '{}',
    max_budget            numeric(20, 10),
    budget_duration       text,
    rpm_limit             bigint,
    tpm_limit             bigint,
    max_parallel_requests bigint,
    guardrails            text[] NOT NULL DEFAULT '{}',
    tags                  text[] NOT NULL DEFAULT '{}',
    metadata              jsonb NOT NULL DEFAULT '{}'::jsonb,
    blocked               boolean NOT NULL DEFAULT false,
    expires_at            timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX keys_account_idx ON keys (account_id, created_at DESC);
CREATE UNIQUE INDEX keys_alias_idx ON keys (account_id, key_alias) WHERE key_alias IS NOT NULL;
