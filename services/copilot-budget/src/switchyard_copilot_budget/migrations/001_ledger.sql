-- The spend ledger: one row per attempt (usage event), applied exactly once by event_id.
CREATE TABLE spend_logs (
    event_id              text PRIMARY KEY,
    request_id            text NOT NULL,
    attempt               integer NOT NULL,
    account_id            text NOT NULL,
    call_type             text NOT NULL DEFAULT '',
    key_hash              text NOT NULL DEFAULT '',
    key_alias             text NOT NULL DEFAULT '',
    team_id               text NOT NULL DEFAULT '',
    user_id               text NOT NULL DEFAULT '',
    org_id                text NOT NULL DEFAULT '',
    end_user              text NOT NULL DEFAULT '',
    model                 text NOT NULL DEFAULT '',
    model_group           text NOT NULL DEFAULT '',
    deployment_id         text NOT NULL DEFAULT '',
    provider              text NOT NULL DEFAULT '',
    status                text NOT NULL,
    http_status           integer NOT NULL DEFAULT 0,
    error_kind            text NOT NULL DEFAULT '',
    error_message         text NOT NULL DEFAULT '',
    spend                 numeric(20, 10) NOT NULL DEFAULT 0,
    prompt_tokens         bigint NOT NULL DEFAULT 0,
    completion_tokens     bigint NOT NULL DEFAULT 0,
    total_tokens          bigint NOT NULL DEFAULT 0,
    cached_tokens         bigint NOT NULL DEFAULT 0,
    cache_creation_tokens bigint NOT NULL DEFAULT 0,
    reasoning_tokens      bigint NOT NULL DEFAULT 0,
    stream                boolean NOT NULL DEFAULT false,
    start_time            timestamptz NOT NULL,
    end_time              timestamptz NOT NULL,
    ttft_ms               double precision NOT NULL DEFAULT 0,
    tags                  text[] NOT NULL DEFAULT '{}',
    metadata              jsonb NOT NULL DEFAULT '{}'::jsonb,
    trace_id              text NOT NULL DEFAULT '',
    reservation_id        text NOT NULL DEFAULT '',
    recorded_at           timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX spend_logs_account_time_idx ON spend_logs (account_id, start_time DESC);
CREATE INDEX spend_logs_request_idx ON spend_logs (request_id);
CREATE INDEX spend_logs_key_time_idx ON spend_logs (key_hash, start_time DESC);

-- Spend limits of keys, users, teams, ... and the spend charged against them so far.
CREATE TABLE spend_limits (
    scope_kind      text NOT NULL,
    scope_id        text NOT NULL,
    account_id      text NOT NULL,
    max_budget      numeric(20, 10),
    budget_duration text,
    spend           numeric(20, 10) NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope_kind, scope_id)
);

-- Events (other than usage, which is keyed by spend_logs.event_id) already applied.
CREATE TABLE processed_events (
    event_id     text PRIMARY KEY,
    topic        text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
);
