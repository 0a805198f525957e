"""A fake Zitadel instance: the OIDC endpoints Switchyard's sign-in uses, at Zitadel's paths and
with its wire format (https://zitadel.com/docs/apis/openidoauth/endpoints), so the whole login
runs offline.

- ``GET /.well-known/openid-configuration``: discovery.
- ``GET /oauth/v2/keys``: the JWKS (RS256, as Zitadel signs); ``POST /control/rotate-keys``
  rotates it without notice, like Zitadel (the new key signs; ``drop_old`` removes the others).
- ``GET /oauth/v2/authorize``: authorization code with PKCE S256 (no other method), ``state``
  and ``nonce``. There is no login page: the browser is signed in as the user
  ``POST /control/login-as`` chose (Zitadel's own session cookie, in effect).
- ``POST /oauth/v2/token``: the code exchange (client_secret_basic or client_secret_post, the
  PKCE verifier checked, a code used once), answering an ID token and an access token, opaque
  by default or a JWT when the application is set to (``POST /control/app``).
- ``POST /oauth/v2/introspect``: RFC 7662, authenticated as the API application.
- ``POST /oauth/v2/revoke``, ``GET /oidc/v1/userinfo``, ``GET /oidc/v1/end_session``.

Claims as Zitadel asserts them: ``urn:zitadel:iam:user:resourceowner:id`` (and ``:name``,
``:primary_domain``) only with the scope ``urn:zitadel:iam:user:resourceowner``, and
``urn:zitadel:iam:org:project:roles`` shaped ``{role: {orgId: domain}}``. The issuer is the
address the caller reached (``http://<Host>``), as a Zitadel custom domain is.

Tests add users with ``POST /control/users`` and mint access tokens directly with
``POST /control/tokens``; ``GET /control/requests`` lists what the token and introspection
endpoints were asked."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jwt
import orjson
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

# The web application (sign-in) and the API application (introspection) of the fake project.
CLIENT_ID = "switchyard-web"
CLIENT_SECRET = "web-secret"
API_CLIENT_ID = "switchyard-api"
API_CLIENT_SECRET = "api-secret"
PROJECT_ID = "300000000000000001"
RESOURCEOWNER_SCOPE = "urn:zitadel:iam:user:resourceowner"
ORG_CLAIM = "urn:zitadel:iam:user:resourceowner:id"
ROLES_CLAIM = "urn:zitadel:iam:org:project:roles"
TOKEN_SECONDS = 3600
CODE_SECONDS = 60


@dataclass
class User:
    sub: str
    email: str
    email_verified: bool = True
    org_id: str = "200000000000000001"
    org_domain: str = "example.test"
    name: str = ""
    roles: list[str] = field(default_factory=list)


@dataclass
class Grant:
    """An issued code or access token: who, for which client and scopes, until when."""

    user: User
    client_id: str
    scope: str
    expires_at: float
    redirect_uri: str = ""
    nonce: str = ""
    code_challenge: str = ""
    sid: str = ""


class Issuer:
    def __init__(self) -> None:
        self.keys: list[tuple[str, rsa.RSAPrivateKey]] = []
        self.rotate()
        self.users: dict[str, User] = {}
        self.logged_in: str = ""
        self.codes: dict[str, Grant] = {}
        self.tokens: dict[str, Grant] = {}
        self.jwt_access_tokens = False
        self.requests: list[dict[str, Any]] = []

    def rotate(self, drop_old: bool = False) -> str:
        kid = uuid.uuid4().hex[:16]
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.keys = [(kid, key)] + ([] if drop_old else self.keys)
        return kid

    def jwks(self) -> dict[str, Any]:
        out = []
        for kid, key in self.keys:
            jwk = orjson.loads(RSAAlgorithm.to_jwk(key.public_key()))
            out.append({**jwk, "kid": kid, "alg": "RS256", "use": "sig"})
        return {"keys": out}

    def sign(self, claims: dict[str, Any]) -> str:
        kid, key = self.keys[0]
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid, "typ": "JWT"})

    def user_claims(self, user: User, scope: str) -> dict[str, Any]:
        scopes = set(scope.split())
        claims: dict[str, Any] = {"sub": user.sub}
        if "email" in scopes:
            claims.update(email=user.email, email_verified=user.email_verified)
        if "profile" in scopes:
            claims.update(name=user.name or user.email, preferred_username=user.email)
        if RESOURCEOWNER_SCOPE in scopes:
            claims[ORG_CLAIM] = user.org_id
            claims["urn:zitadel:iam:user:resourceowner:primary_domain"] = user.org_domain
        if user.roles:
            claims[ROLES_CLAIM] = {r: {user.org_id: user.org_domain} for r in user.roles}
        return claims

    def access_token(self, iss: str, grant: Grant) -> str:
        if self.jwt_access_tokens:
            now = int(time.time())
            token = self.sign(
                {
                    "iss": iss,
                    "aud": [grant.client_id, PROJECT_ID],
                    "client_id": grant.client_id,
                    "exp": int(grant.expires_at),
                    "iat": now,
                    "nbf": now,
                    "jti": uuid.uuid4().hex,
                    "scope": grant.scope,
                    **self.user_claims(grant.user, grant.scope),
                }
            )
        else:
            token = secrets.token_urlsafe(48)
        self.tokens[token] = grant
        return token


ISSUER = web.AppKey("issuer", Issuer)


def _iss(request: web.Request) -> str:
    return f"http://{request.host}"


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json", headers=headers)


def _oauth_error(error: str, description: str, status: int = 400) -> web.Response:
    return _json({"error": error, "error_description": description}, status)


def _client(request: web.Request, form: Any) -> tuple[str, str]:
    """client_secret_basic (Authorization: Basic), else client_secret_post."""
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Basic "):
        try:
            cid, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return "", ""
        return cid, secret
    return str(form.get("client_id", "")), str(form.get("client_secret", ""))


async def discovery(request: web.Request) -> web.Response:
    iss = _iss(request)
    return _json(
        {
            "issuer": iss,
            "authorization_endpoint": f"{iss}/oauth/v2/authorize",
            "token_endpoint": f"{iss}/oauth/v2/token",
            "introspection_endpoint": f"{iss}/oauth/v2/introspect",
            "userinfo_endpoint": f"{iss}/oidc/v1/userinfo",
            "revocation_endpoint": f"{iss}/oauth/v2/revoke",
            "end_session_endpoint": f"{iss}/oidc/v1/end_session",
            "jwks_uri": f"{iss}/oauth/v2/keys",
            "scopes_supported": ["openid", "profile", "email", "offline_access", RESOURCEOWNER_SCOPE],
            "response_types_supported": ["code", "id_token", "id_token token"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "private_key_jwt"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["sub", "aud", "exp", "iat", "iss", "nonce", "email", "email_verified", ORG_CLAIM],
        }
    )


async def keys(request: web.Request) -> web.Response:
    return _json(request.app[ISSUER].jwks(), headers={"cache-control": "max-age=300, must-revalidate"})


async def authorize(request: web.Request) -> web.Response:
    issuer = request.app[ISSUER]
    q = request.query
    redirect_uri = q.get("redirect_uri", "")
    if q.get("client_id") != CLIENT_ID or not redirect_uri:
        return web.Response(status=400, text="unknown client or redirect_uri")
    if q.get("response_type") != "code" or "openid" not in q.get("scope", "").split():
        return web.Response(status=400, text="only the authorization code flow with openid")
    if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
        return web.Response(status=400, text="PKCE with S256 is required")
    state = q.get("state", "")
    user = issuer.users.get(issuer.logged_in)
    if user is None:
        back = {"error": "login_required", "error_description": "nobody is logged in", "state": state}
        raise web.HTTPFound(f"{redirect_uri}?{urlencode(back)}")
    code = secrets.token_urlsafe(32)
    issuer.codes[code] = Grant(
        user=user,
        client_id=CLIENT_ID,
        scope=q.get("scope", ""),
        expires_at=time.time() + CODE_SECONDS,
        redirect_uri=redirect_uri,
        nonce=q.get("nonce", ""),
        code_challenge=q["code_challenge"],
        sid=uuid.uuid4().hex,
    )
    raise web.HTTPFound(f"{redirect_uri}?{urlencode({'code': code, 'state': state})}")


async def token(request: web.Request) -> web.Response:
    issuer = request.app[ISSUER]
    form = await request.post()
    cid, secret = _client(request, form)
    issuer.requests.append({"endpoint": "token", "client_id": cid, "grant_type": form.get("grant_type", "")})
    if (cid, secret) != (CLIENT_ID, CLIENT_SECRET):
        return _oauth_error("invalid_client", "client authentication failed", 401)
    if form.get("grant_type") != "authorization_code":
        return _oauth_error("unsupported_grant_type", "only authorization_code here")
    grant = issuer.codes.pop(str(form.get("code", "")), None)
    if grant is None or grant.expires_at < time.time():
        return _oauth_error("invalid_grant", "code is invalid or expired")
    if form.get("redirect_uri") != grant.redirect_uri:
        return _oauth_error("invalid_grant", "redirect_uri does not match")
    verifier = str(form.get("code_verifier", ""))
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    if not verifier or not secrets.compare_digest(challenge, grant.code_challenge):
        return _oauth_error("invalid_grant", "invalid code challenge")
    iss = _iss(request)
    now = int(time.time())
    access = Grant(grant.user, CLIENT_ID, grant.scope, now + TOKEN_SECONDS, sid=grant.sid)
    access_token = issuer.access_token(iss, access)
    at_hash = base64.urlsafe_b64encode(hashlib.sha256(access_token.encode()).digest()[:16]).rstrip(b"=").decode()
    id_token = issuer.sign(
        {
            "iss": iss,
            "aud": [CLIENT_ID, PROJECT_ID],
            "azp": CLIENT_ID,
            "exp": now + TOKEN_SECONDS,
            "iat": now,
            "auth_time": now,
            "nonce": grant.nonce,
            "amr": ["pwd"],
            "at_hash": at_hash,
            "sid": grant.sid,
            **issuer.user_claims(grant.user, grant.scope),
        }
    )
    return _json(
        {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": TOKEN_SECONDS,
            "id_token": id_token,
        },
        headers={"cache-control": "no-store"},
    )


async def introspect(request: web.Request) -> web.Response:
    issuer = request.app[ISSUER]
    form = await request.post()
    cid, secret = _client(request, form)
    issuer.requests.append({"endpoint": "introspect", "client_id": cid})
    if (cid, secret) != (API_CLIENT_ID, API_CLIENT_SECRET):
        return _oauth_error("invalid_client", "client authentication failed", 401)
    grant = issuer.tokens.get(str(form.get("token", "")))
    if grant is None or grant.expires_at < time.time():
        return _json({"active": False})
    claims = issuer.user_claims(grant.user, grant.scope)
    if "preferred_username" in claims:
        claims["username"] = claims.pop("preferred_username")
    return _json(
        {
            "active": True,
            "iss": _iss(request),
            "aud": [grant.client_id, PROJECT_ID],
            "client_id": grant.client_id,
            "exp": int(grant.expires_at),
            "iat": int(grant.expires_at) - TOKEN_SECONDS,
            "scope": grant.scope,
            "token_type": "Bearer",
            **claims,
        }
    )


async def revoke(request: web.Request) -> web.Response:
    form = await request.post()
    request.app[ISSUER].tokens.pop(str(form.get("token", "")), None)
    return web.Response(status=200)


async def userinfo(request: web.Request) -> web.Response:
    auth = request.headers.get("Authorization", "")
    grant = request.app[ISSUER].tokens.get(auth[7:] if auth.startswith("Bearer ") else "")
    if grant is None or grant.expires_at < time.time():
        return web.Response(status=401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    return _json(request.app[ISSUER].user_claims(grant.user, grant.scope))


async def end_session(request: web.Request) -> web.Response:
    issuer = request.app[ISSUER]
    issuer.logged_in = ""
    back = request.query.get("post_logout_redirect_uri", "")
    if back:
        state = request.query.get("state")
        raise web.HTTPFound(f"{back}?{urlencode({'state': state})}" if state else back)
    return web.Response(text="signed out")


# --- control (tests and the local stack) ---------------------------------------------------


async def control_users(request: web.Request) -> web.Response:
    body = orjson.loads(await request.read())
    user = User(**body)
    request.app[ISSUER].users[user.sub] = user
    return _json({"sub": user.sub})


async def control_login_as(request: web.Request) -> web.Response:
    body = orjson.loads(await request.read())
    request.app[ISSUER].logged_in = str(body.get("sub", ""))
    return _json({"logged_in": request.app[ISSUER].logged_in})


async def control_app(request: web.Request) -> web.Response:
    """The web application's settings: ``{"access_token_type": "jwt" | "opaque"}``."""
    body = orjson.loads(await request.read())
    request.app[ISSUER].jwt_access_tokens = body.get("access_token_type") == "jwt"
    return _json({"jwt_access_tokens": request.app[ISSUER].jwt_access_tokens})


async def control_rotate(request: web.Request) -> web.Response:
    body = orjson.loads(await request.read() or b"{}")
    kid = request.app[ISSUER].rotate(drop_old=bool(body.get("drop_old")))
    return _json({"kid": kid})


async def control_tokens(request: web.Request) -> web.Response:
    """An access token for a user, as if the web application had been given one:
    ``{"sub", "scope"?, "expires_in"?}``."""
    issuer = request.app[ISSUER]
    body = orjson.loads(await request.read())
    user = issuer.users.get(str(body.get("sub", "")))
    if user is None:
        return _json({"error": "unknown user"}, 404)
    scope = str(body.get("scope", f"openid profile email {RESOURCEOWNER_SCOPE}"))
    grant = Grant(user, CLIENT_ID, scope, time.time() + float(body.get("expires_in", TOKEN_SECONDS)))
    return _json({"access_token": issuer.access_token(_iss(request), grant), "expires_at": int(grant.expires_at)})


async def control_requests(request: web.Request) -> web.Response:
    return _json(request.app[ISSUER].requests)


async def health(request: web.Request) -> web.Response:
    return web.Response(text="ok")


def create_app() -> web.Application:
    app = web.Application()
    app[ISSUER] = Issuer()
    app.router.add_get("/.well-known/openid-configuration", discovery)
    app.router.add_get("/oauth/v2/keys", keys)
    app.router.add_get("/oauth/v2/authorize", authorize)
    app.router.add_post("/oauth/v2/token", token)
    app.router.add_post("/oauth/v2/introspect", introspect)
    app.router.add_post("/oauth/v2/revoke", revoke)
    app.router.add_get("/oidc/v1/userinfo", userinfo)
    app.router.add_get("/oidc/v1/end_session", end_session)
    app.router.add_post("/control/users", control_users)
    app.router.add_post("/control/login-as", control_login_as)
    app.router.add_post("/control/app", control_app)
    app.router.add_post("/control/rotate-keys", control_rotate)
    app.router.add_post("/control/tokens", control_tokens)
    app.router.add_get("/control/requests", control_requests)
    app.router.add_get("/health", health)
    return app
