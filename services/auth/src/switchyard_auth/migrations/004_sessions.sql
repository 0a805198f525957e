-- Sign-in: sessions minted after an OIDC login, and logins under way. A session row is what makes
-- its token valid besides the signature: logout revokes it, and deleting the user deletes it.
CREATE TABLE sessions (
    session_id  text PRIMARY KEY,
    account_id  text NOT NULL,
    user_id     text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    FOREIGN KEY (account_id, user_id) REFERENCES users (account_id, user_id) ON DELETE CASCADE
);
CREATE INDEX sessions_user_idx ON sessions (account_id, user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

-- An authorization-code login between /sso/login and /sso/callback: used once, within minutes.
CREATE TABLE sso_logins (
    state          text PRIMARY KEY,
    code_verifier  text NOT NULL,
    nonce          text NOT NULL,
    redirect_uri   text NOT NULL,
    return_to      text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- Users by their identity-provider id (`sub`), and accounts by the identity provider's
-- organisation id (`metadata.auth_org_id`): the sign-in's lookups, indexed rather than scanned.
CREATE INDEX users_sso_idx ON users (sso_user_id) WHERE sso_user_id IS NOT NULL;
CREATE INDEX accounts_auth_org_idx ON accounts ((metadata ->> 'auth_org_id')) WHERE status = 'active';
