-- Tenancy: accounts with entitlements and admins; organisations, teams, users, customers,
-- budget objects and memberships, every row carrying its account; keys gain a stable id and the
-- rest of LiteLLM's /key/generate fields. Ids are unique per account (so one account cannot
-- learn another's ids from a conflict), and every entity's version comes from the one sequence
-- keys already use (named for its first user), so versions only grow across entities.

ALTER TABLE accounts RENAME COLUMN name TO account_name;
UPDATE accounts SET account_name = account_id WHERE account_name = '';
ALTER TABLE accounts
    ADD COLUMN account_alias text,
    ADD COLUMN domain        text,
    ADD COLUMN status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'deleted')),
    ADD COLUMN metadata      jsonb,
    ADD COLUMN entitlements  jsonb NOT NULL DEFAULT '{}'::jsonb,
    ADD COLUMN created_by    text,
    ADD COLUMN updated_at    timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN version       bigint NOT NULL DEFAULT nextval('key_settings_version');
-- A deleted account's name and domain may be used again.
CREATE UNIQUE INDEX accounts_name_idx ON accounts (account_name) WHERE status <> 'deleted';
CREATE UNIQUE INDEX accounts_domain_idx ON accounts (domain) WHERE domain IS NOT NULL AND status <> 'deleted';

CREATE TABLE account_admins (
    account_id text NOT NULL REFERENCES accounts (account_id),
    user_email text NOT NULL,
    role       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, user_email)
);
CREATE INDEX account_admins_email_idx ON account_admins (user_email);

CREATE TABLE budgets (
    account_id            text NOT NULL REFERENCES accounts (account_id),
    budget_id             text NOT NULL,
    max_budget            numeric(20, 10),
    soft_budget           numeric(20, 10),
    budget_duration       text,
    rpm_limit             bigint,
    tpm_limit             bigint,
    max_parallel_requests bigint,
    model_max_budget      jsonb,
    created_by            text,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    version               bigint NOT NULL DEFAULT nextval('key_settings_version'),
    PRIMARY KEY (account_id, budget_id)
);

CREATE TABLE organizations (
    account_id            text NOT NULL REFERENCES accounts (account_id),
    organization_id       text NOT NULL,
    organization_alias    text,
    models                text[] NOT NULL DEFAULT '{}',
    max_budget            numeric(20, 10),
    soft_budget           numeric(20, 10),
    budget_duration       text,
    rpm_limit             bigint,
    tpm_limit             bigint,
    max_parallel_requests bigint,
    model_max_budget      jsonb,
    metadata              jsonb,
    budget_id             text,
    blocked               boolean NOT NULL DEFAULT false,
    created_by            text,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    version               bigint NOT NULL DEFAULT nextval('key_settings_version'),
    PRIMARY KEY (account_id, organization_id)
);

CREATE TABLE users (
    account_id            text NOT NULL REFERENCES accounts (account_id),
    user_id               text NOT NULL,
    user_email            text,
    user_alias            text,
    user_role             text NOT NULL DEFAULT 'internal_user',
    organization_id       text,
    models                text[] NOT NULL DEFAULT '{}',
    max_budget            numeric(20, 10),
    soft_budget           numeric(20, 10),
    budget_duration       text,
    rpm_limit             bigint,
    tpm_limit             bigint,
    max_parallel_requests bigint,
    model_max_budget      jsonb,
    metadata              jsonb,
    blocked               boolean NOT NULL DEFAULT false,
    budget_id             text,
    sso_user_id           text,
    created_by            text,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    version               bigint NOT NULL DEFAULT nextval('key_settings_version'),
    PRIMARY KEY (account_id, user_id)
);
CREATE UNIQUE INDEX users_email_idx ON users (account_id, lower(user_email)) WHERE user_email IS NOT NULL;

CREATE TABLE teams (
    account_id            text NOT NULL REFERENCES accounts (account_id),
    team_id               text NOT NULL,
    team_alias            text,
    organization_id       text,
    models                text[] NOT NULL DEFAULT '{}',
    model_aliases         jsonb,
    max_budget            numeric(20, 10),
    soft_budget           numeric(20, 10),
    budget_duration       text,
    rpm_limit             bigint,
    tpm_limit             bigint,
    max_parallel_requests bigint,
    model_max_budget      jsonb,
    model_rpm_limit       jsonb,
    model_tpm_limit       jsonb,
    blocked               boolean NOT NULL DEFAULT false,
    metadata              jsonb,
    budget_id             text,
    tags                  text[] NOT NULL DEFAULT '{}',
    guardrails            text[] NOT NULL DEFAULT '{}',
    created_by            text,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    version               bigint NOT NULL DEFAULT nextval('key_settings_version'),
    PRIMARY KEY (account_id, team_id)
);
CREATE INDEX teams_org_idx ON teams (account_id, organization_id);

CREATE TABLE team_members (
    account_id         text NOT NULL,
    team_id            text NOT NULL,
    user_id            text NOT NULL,
    role               text NOT NULL CHECK (role IN ('admin', 'user')),
    max_budget_in_team numeric(20, 10),
    budget_id          text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    version            bigint NOT NULL DEFAULT nextval('key_settings_version'),
    PRIMARY KEY (account_id, team_id, user_id),
    FOREIGN KEY (account_id, team_id) REFERENCES teams (account_id, team_id) ON DELETE CASCADE,
    FOREIGN KEY (account_id, user_id) REFERENCES users (account_id, user_id) ON DELETE CASCADE
);
CREATE INDEX team_members_user_idx ON team_members (account_id, user_id);

CREATE TABLE organization_members (
    account_id      text NOT NULL,
    organization_id text NOT NULL,
    user_id         text NOT NULL,
    user_role       text NOT NULL,
    budget_id       text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    version         bigint NOT NULL DEFAULT nextval('key_settings_version'),
    PRIMARY KEY (account_id, organization_id, user_id),
    FOREIGN KEY (account_id, organization_id) REFERENCES organizations (account_id, organization_id) ON DELETE CASCADE,
    FOREIGN KEY (account_id, user_id) REFERENCES users (account_id, user_id) ON DELETE CASCADE
);
CREATE INDEX organization_members_user_idx ON organization_members (account_id, user_id);

CREATE TABLE customers (
    account_id            text NOT NULL REFERENCES accounts (account_id),
    user_id               text NOT NULL,
    alias                 text,
    blocked               boolean NOT NULL DEFAULT false,
    max_budget            numeric(20, 10),
    soft_budget           numeric(20, 10),
    budget_duration       text,
    rpm_limit             bigint,
    tpm_limit             bigint,
    max_parallel_requests bigint,
    model_max_budget      jsonb,
    budget_id             text,
    default_model         text,
    allowed_model_region  text,
    metadata              jsonb,
    created_by            text,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    version               bigint NOT NULL DEFAULT nextval('key_settings_version'),
    PRIMARY KEY (account_id, user_id)
);

-- A key's id is the hash of its first secret: existing keys, and every spend and limit scope
-- that names them by hash, keep their identity; regeneration changes key_hash only.
ALTER TABLE keys
    ADD COLUMN key_id                 text,
    ADD COLUMN aliases                jsonb,
    ADD COLUMN soft_budget            numeric(20, 10),
    ADD COLUMN allowed_routes         text[] NOT NULL DEFAULT '{}',
    ADD COLUMN model_max_budget       jsonb,
    ADD COLUMN budget_id              text,
    ADD COLUMN model_rpm_limit        jsonb,
    ADD COLUMN model_tpm_limit        jsonb,
    ADD COLUMN permissions            jsonb,
    ADD COLUMN allowed_cache_controls text[] NOT NULL DEFAULT '{}',
    ADD COLUMN object_permission      jsonb,
    ADD COLUMN key_type               text,
    ADD COLUMN created_by             text;
UPDATE keys SET key_id = key_hash;
ALTER TABLE keys ALTER COLUMN key_id SET NOT NULL;
CREATE UNIQUE INDEX keys_key_id_idx ON keys (key_id);
CREATE INDEX keys_team_idx ON keys (account_id, team_id);
CREATE INDEX keys_user_idx ON keys (account_id, user_id);

-- Inserts that do not name the id (the code before this migration, during a rolling upgrade)
-- get the invariant above.
CREATE FUNCTION keys_default_key_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.key_id IS NULL THEN
        NEW.key_id := NEW.key_hash;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER keys_default_key_id BEFORE INSERT ON keys FOR EACH ROW EXECUTE FUNCTION keys_default_key_id();
