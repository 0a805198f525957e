-- Deployments added at runtime (/model/new). Credentials are stored only sealed to the
-- provider adapter's public key (param name -> base64 ciphertext); the router cannot open them.
CREATE TABLE deployments (
    id                 text PRIMARY KEY,
    model_name         text NOT NULL,
    litellm_params     jsonb NOT NULL,
    model_info         jsonb NOT NULL DEFAULT '{}'::jsonb,
    sealed_credentials jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    created_by         text NOT NULL DEFAULT '',
    updated_by         text NOT NULL DEFAULT ''
);

CREATE INDEX deployments_model_name ON deployments (model_name);

-- Bumped by every change of `deployments`; replicas compare it to know they are current
-- (the backstop of the NOTIFY on channel switchyard_router_models).
CREATE TABLE registry_version (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version   bigint NOT NULL
);
INSERT INTO registry_version (singleton, version) VALUES (true, 0);
