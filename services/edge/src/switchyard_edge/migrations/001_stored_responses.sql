-- Responses stored by POST /v1/responses (`store`, the default): what previous_response_id
-- continues and GET/DELETE /v1/responses/{id} and its input_items serve. Per account: every
-- query names the account (clients/responses_store.py), so another tenant's id is not found.
CREATE TABLE stored_responses (
    account_id           text        NOT NULL,
    id                   text        NOT NULL,
    -- The key that made it (SHA-256 hex; empty for the master key). Recorded, not checked: any
    -- key of the account may read it, as any key of an OpenAI project may.
    key_hash             text        NOT NULL DEFAULT '',
    previous_response_id text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    -- Invisible from then on; the sweep deletes it.
    expires_at           timestamptz NOT NULL,
    -- The request's own input items and the Response object, as the JSON the edge wrote (never
    -- queried inside, so stored as the bytes themselves).
    input_items          bytea       NOT NULL,
    response             bytea       NOT NULL,
    PRIMARY KEY (account_id, id)
);

CREATE INDEX stored_responses_expiry ON stored_responses (expires_at);
