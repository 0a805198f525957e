"""Settings of the auth service."""

from __future__ import annotations

from pydantic import SecretStr

from switchyard_common.kafka import KafkaEnv
from switchyard_common.settings import CommonSettings, DatabaseEnv


class Settings(CommonSettings, DatabaseEnv, KafkaEnv):
    service_name: str = "auth"
    grpc_port: int = 50053
    # The bootstrap super-admin credential (LiteLLM's master_key); must start with "sk-".
    master_key: SecretStr
    # The account (tenant) of the master key and of keys created without one.
    default_account_id: str = "default"
    # Seconds the edge may cache a principal (identity events invalidate sooner).
    principal_cache_ttl_seconds: int = 30

    # --- sign-in (docs: README "Sign-in") -------------------------------------------------
    # Session signing keys: PEM private keys (EC P-256 → ES256, or RSA of 2048 bits or more →
    # RS256), concatenated. The first signs new sessions; every one verifies, so a key is rotated
    # by putting a new one first and dropping the old one a session lifetime later. Empty:
    # sessions and sign-in are off (only keys authenticate).
    session_signing_keys: SecretStr = SecretStr("")
    # `iss` and `aud` of session tokens.
    session_issuer: str = "switchyard"
    session_audience: str = "switchyard"
    # Lifetime of a session (its token's `exp`).
    session_ttl_seconds: int = 8 * 3600
    # The OIDC identity provider (Zitadel, or any standards-compliant one): its issuer URL
    # (discovery at <issuer>/.well-known/openid-configuration) and the web application's client.
    # Empty issuer: no sign-in and no identity-provider tokens.
    oidc_issuer_url: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: SecretStr = SecretStr("")
    # Scopes of the login; Zitadel's resourceowner scope asserts the user's organisation.
    oidc_scopes: str = "openid profile email urn:zitadel:iam:user:resourceowner"
    # Audiences an access token of the identity provider may carry to be accepted as a Bearer
    # credential, comma-separated (e.g. the Zitadel project id); empty: the client id.
    oidc_audiences: str = ""
    # The claim naming the user's organisation (mapped to an account's metadata.auth_org_id).
    oidc_org_claim: str = "urn:zitadel:iam:user:resourceowner:id"
    # The claim listing the user's project roles ({"role": {...}}); `super_admin` among them
    # makes a super admin.
    oidc_roles_claim: str = "urn:zitadel:iam:org:project:roles"
    # Introspection of opaque access tokens, authenticated as an API application (client
    # credentials). Empty client id: opaque tokens are not accepted.
    oidc_introspection_client_id: str = ""
    oidc_introspection_client_secret: SecretStr = SecretStr("")
    # How long an introspected token's principal may be cached (never past the token's `exp`):
    # a token revoked at the identity provider fails within this bound.
    oidc_introspection_cache_seconds: int = 30
    # Deadline of each call to the identity provider.
    oidc_timeout_seconds: float = 5.0
    # E-mails (comma-separated, any case) of users who are super admins when they sign in.
    super_admin_emails: str = ""
    # The signing key of the identity provider's webhook (Zitadel Actions v2 target) that tells
    # auth about users removed, deactivated or locked there. Empty: the webhook is refused.
    oidc_actions_signing_key: SecretStr = SecretStr("")
