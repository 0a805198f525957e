"""Sign-in against the fake Zitadel (libs/fakes oidc_server): the authorization code flow with
PKCE, state and nonce; the user's account by organisation, verified e-mail domain, then admin
list; JWKS rotation; Zitadel access tokens as credentials (JWT and opaque)."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import orjson
import pytest
from aiohttp import web
from auth_testing import ACTIONS_KEY, Auth, running

from switchyard.auth.v1 import accounts_pb2, auth_pb2, sessions_pb2, users_pb2
from switchyard.events.v1 import identity_pb2
from switchyard.llm.v1 import error_pb2
from switchyard_auth.clients.oidc import OidcProvider
from switchyard_common.kafka import EventProducer, KafkaSettings
from switchyard_fakes import oidc_server

CALLBACK = "https://llm.example.test/sso/callback"


class Idp:
    """The fake issuer and a client for its control routes."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.AsyncClient(base_url=url, timeout=10)

    async def user(self, email: str, *, org_id: str = "", verified: bool = True, roles: tuple[str, ...] = ()) -> str:
        sub = uuid.uuid4().hex
        body = {"sub": sub, "email": email, "email_verified": verified, "roles": list(roles)}
        if org_id:
            body["org_id"] = org_id
        (await self.http.post("/control/users", content=orjson.dumps(body))).raise_for_status()
        (await self.http.post("/control/login-as", content=orjson.dumps({"sub": sub}))).raise_for_status()
        return sub

    async def token(self, sub: str, **extra: object) -> str:
        resp = await self.http.post("/control/tokens", content=orjson.dumps({"sub": sub, **extra}))
        resp.raise_for_status()
        return str(resp.json()["access_token"])


@pytest.fixture
async def idp() -> AsyncIterator[Idp]:
    runner = web.AppRunner(oidc_server.create_app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    i = Idp(f"http://127.0.0.1:{port}")
    try:
        yield i
    finally:
        await i.http.aclose()
        await runner.cleanup()


@pytest.fixture
async def sso(pg_dsn: str, tmp_path: Path, idp: Idp) -> AsyncIterator[Auth]:
    kafka = KafkaSettings(bootstrap_servers="127.0.0.1:9")
    producer = EventProducer(kafka, client_id="t", spool_dir=tmp_path)
    provider = OidcProvider(
        idp.url,
        oidc_server.CLIENT_ID,
        oidc_server.CLIENT_SECRET,
        timeout=5,
        introspection_client=(oidc_server.API_CLIENT_ID, oidc_server.API_CLIENT_SECRET),
        jwks_refresh_interval=0,
    )
    try:
        async with running(pg_dsn, producer, kafka, "identity", provider=provider) as a:
            yield a
    finally:
        await provider.close()


async def _login(auth: Auth, idp: Idp, *, browser_state: str | None = None) -> sessions_pb2.CompleteLoginResponse:
    """The browser's trip: BeginLogin → the issuer's authorize → CompleteLogin with its answer."""
    begun = await auth.sessions.BeginLogin(
        sessions_pb2.BeginLoginRequest(redirect_uri=CALLBACK, return_to="/ui/keys"), timeout=10
    )
    assert begun.WhichOneof("result") == "authorization_url", begun.error.message
    q = parse_qs(urlsplit(begun.authorization_url).query)
    assert q["code_challenge_method"] == ["S256"] and q["state"] == [begun.state] and q["nonce"][0]
    assert "urn:zitadel:iam:user:resourceowner" in q["scope"][0].split()
    back = await idp.http.get(begun.authorization_url)
    assert back.status_code == 302, back.text
    answer = parse_qs(urlsplit(back.headers["location"]).query)
    return await auth.sessions.CompleteLogin(
        sessions_pb2.CompleteLoginRequest(
            state=answer["state"][0],
            code=answer.get("code", [""])[0],
            browser_state=begun.state if browser_state is None else browser_state,
            redirect_uri=CALLBACK,
            issuer_error=answer.get("error", [""])[0],
        ),
        timeout=10,
    )


async def _account(auth: Auth, *, domain: str = "", org_id: str = "", admins: tuple[str, ...] = ()) -> str:
    settings = accounts_pb2.AccountSettings(account_name=f"acct-{uuid.uuid4().hex[:10]}", domain=domain)
    if org_id:
        settings.metadata_json = orjson.dumps({"auth_org_id": org_id})
    resp = await auth.accounts.CreateAccount(
        accounts_pb2.CreateAccountRequest(caller=auth.master, settings=settings), timeout=10
    )
    assert not resp.HasField("error"), resp.error.message
    account_id = resp.account.account_id
    for email in admins:
        added = await auth.accounts.AddAccountAdmin(
            accounts_pb2.AddAccountAdminRequest(caller=auth.master, account_id=account_id, user_email=email), timeout=10
        )
        assert not added.HasField("error"), added.error.message
    return account_id


async def _principal(auth: Auth, cred: str) -> auth_pb2.AuthenticateResponse:
    return await auth.auth.Authenticate(auth_pb2.AuthenticateRequest(credential=cred), timeout=10)


async def test_a_login_maps_the_organization_to_its_account_and_mints_a_session(sso: Auth, idp: Idp) -> None:
    org = uuid.uuid4().hex
    account = await _account(sso, org_id=org, domain=f"{uuid.uuid4().hex[:8]}.test")
    await _account(sso, domain="elsewhere.test")
    sub = await idp.user("ann@elsewhere.test", org_id=org)
    done = await _login(sso, idp)
    assert done.WhichOneof("result") == "session_token", done.error.message
    assert done.return_to == "/ui/keys"
    p = (await _principal(sso, done.session_token)).principal
    assert p.account_id == account, "the organisation comes before the e-mail's domain"
    assert p.credential_kind == auth_pb2.CREDENTIAL_KIND_SESSION and p.role == "internal_user"
    user = await sso.users.GetUser(users_pb2.GetUserRequest(caller=sso.master, account_id=account, user_id=p.user_id))
    assert user.user.settings.sso_user_id == sub and user.user.settings.user_email == "ann@elsewhere.test"
    created = [e for e in sso.events if e.entity == identity_pb2.IDENTITY_ENTITY_USER and e.entity_id == p.user_id]
    assert [e.action for e in created] == [identity_pb2.IDENTITY_ACTION_CREATED]
    # The same person again: the same user, no new one.
    again = await _login(sso, idp)
    assert (await _principal(sso, again.session_token)).principal.user_id == p.user_id


async def test_then_the_verified_email_domain_then_the_admin_list(sso: Auth, idp: Idp) -> None:
    domain = f"{uuid.uuid4().hex[:8]}.test"
    by_domain = await _account(sso, domain=domain)
    await idp.user(f"bob@{domain}")
    p = (await _principal(sso, (await _login(sso, idp)).session_token)).principal
    assert p.account_id == by_domain
    # An unverified e-mail proves nothing about its domain.
    await idp.user(f"eve@{domain}", verified=False)
    refused = await _login(sso, idp)
    assert refused.error.kind == error_pb2.ERROR_KIND_AUTHENTICATION and "no account" in refused.error.message
    admin_email = f"carol@{uuid.uuid4().hex[:8]}.test"
    by_admin = await _account(sso, admins=(admin_email,))
    await idp.user(admin_email)
    p = (await _principal(sso, (await _login(sso, idp)).session_token)).principal
    assert (p.account_id, p.role) == (by_admin, "proxy_admin"), "an account admin signs in as its admin"


async def test_a_super_admin_by_email_or_project_role(sso: Auth, idp: Idp) -> None:
    await idp.user("root@super.test")
    p = (await _principal(sso, (await _login(sso, idp)).session_token)).principal
    assert p.is_super_admin and p.account_id == "default"
    await _account(sso, domain="roles.test")
    await idp.user("ops@roles.test", roles=("super_admin",))
    assert (await _principal(sso, (await _login(sso, idp)).session_token)).principal.is_super_admin


async def test_a_login_is_used_once_and_only_in_the_browser_that_started_it(sso: Auth, idp: Idp) -> None:
    await _account(sso, domain="once.test")
    await idp.user("dan@once.test")
    stolen = await _login(sso, idp, browser_state="another-browser")
    assert stolen.error.kind == error_pb2.ERROR_KIND_AUTHENTICATION and "browser" in stolen.error.message
    begun = await sso.sessions.BeginLogin(sessions_pb2.BeginLoginRequest(redirect_uri=CALLBACK), timeout=10)
    back = parse_qs(urlsplit((await idp.http.get(begun.authorization_url)).headers["location"]).query)
    req = sessions_pb2.CompleteLoginRequest(
        state=begun.state, code=back["code"][0], browser_state=begun.state, redirect_uri=CALLBACK
    )
    assert (await sso.sessions.CompleteLogin(req, timeout=10)).WhichOneof("result") == "session_token"
    replay = await sso.sessions.CompleteLogin(req, timeout=10)
    assert replay.error.kind == error_pb2.ERROR_KIND_AUTHENTICATION and "already used" in replay.error.message
    # Nobody signed in at the issuer: its error comes back as the refusal.
    await idp.http.post("/control/login-as", content=b'{"sub": ""}')
    refused = await _login(sso, idp)
    assert refused.error.kind == error_pb2.ERROR_KIND_AUTHENTICATION and "login_required" in refused.error.message
    bad = await sso.sessions.BeginLogin(
        sessions_pb2.BeginLoginRequest(redirect_uri=CALLBACK, return_to="//evil.example/x"), timeout=10
    )
    assert bad.error.kind == error_pb2.ERROR_KIND_BAD_REQUEST and bad.error.param == "return_to"


async def test_the_issuers_keys_rotate_without_notice(sso: Auth, idp: Idp) -> None:
    await _account(sso, domain="rotate.test")
    await idp.user("fay@rotate.test")
    assert (await _login(sso, idp)).WhichOneof("result") == "session_token"
    await idp.http.post("/control/rotate-keys", content=b'{"drop_old": true}')
    # The new ID token names a key auth has not seen: it reads the JWKS again.
    assert (await _login(sso, idp)).WhichOneof("result") == "session_token"


async def test_access_tokens_jwt_and_opaque(sso: Auth, idp: Idp) -> None:
    domain = f"{uuid.uuid4().hex[:8]}.test"
    account = await _account(sso, domain=domain)
    sub = await idp.user(f"gus@{domain}")
    opaque = await idp.token(sub)
    p = (await _principal(sso, opaque)).principal
    assert p.credential_kind == auth_pb2.CREDENTIAL_KIND_OIDC_TOKEN and p.account_id == account
    assert 0 < p.cache_ttl_seconds <= 5, "an introspected token is cached no longer than the bound"
    await idp.http.post("/oauth/v2/revoke", data={"token": opaque})
    revoked = await _principal(sso, opaque)
    assert revoked.error.kind == error_pb2.ERROR_KIND_AUTHENTICATION and "not active" in revoked.error.message
    short = await idp.token(sub, expires_in=2)
    assert (await _principal(sso, short)).principal.cache_ttl_seconds <= 2, "never past the token's exp"
    await idp.http.post("/control/app", content=b'{"access_token_type": "jwt"}')
    token = await idp.token(sub)
    p = (await _principal(sso, token)).principal
    assert p.credential_kind == auth_pb2.CREDENTIAL_KIND_OIDC_TOKEN and p.account_id == account
    assert p.expires_at == jwt.decode(token, options={"verify_signature": False})["exp"]
    # The issuer's name on a token signed by someone else is no use.
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = jwt.encode(claims, "x" * 32, algorithm="HS256", headers={"kid": jwt.get_unverified_header(token)["kid"]})
    assert (await _principal(sso, forged)).error.kind == error_pb2.ERROR_KIND_AUTHENTICATION
    # Opaque tokens the issuer never issued: refused, and nothing is created.
    assert (await _principal(sso, "not-a-token")).error.kind == error_pb2.ERROR_KIND_AUTHENTICATION


async def test_logout_names_the_issuers_end_session(sso: Auth, idp: Idp) -> None:
    await _account(sso, domain="bye.test")
    await idp.user("hal@bye.test")
    token = (await _login(sso, idp)).session_token
    out = await sso.sessions.Logout(
        sessions_pb2.LogoutRequest(credential=token, post_logout_redirect_uri="https://llm.example.test/ui/"),
        timeout=10,
    )
    url = urlsplit(out.end_session_url)
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{idp.url}/oidc/v1/end_session"
    assert parse_qs(url.query)["client_id"] == [oidc_server.CLIENT_ID]
    assert (await _principal(sso, token)).error.kind == error_pb2.ERROR_KIND_AUTHENTICATION


def _signed(body: bytes, key: str = ACTIONS_KEY, at: float | None = None) -> str:
    t = str(int(time.time() if at is None else at))
    return f"t={t},v1={hmac.new(key.encode(), t.encode() + b'.' + body, hashlib.sha256).hexdigest()}"


async def test_a_user_removed_at_the_issuer_is_blocked_here_once_the_webhook_verifies(sso: Auth, idp: Idp) -> None:
    await _account(sso, domain="hook.test")
    sub = await idp.user("ivy@hook.test")
    token = (await _login(sso, idp)).session_token
    user_id = (await _principal(sso, token)).principal.user_id
    body = orjson.dumps({"aggregateID": sub, "aggregateType": "user", "event_type": "user.removed"})

    async def deliver(signature: str, payload: bytes = body) -> sessions_pb2.HandleProviderEventResponse:
        req = sessions_pb2.HandleProviderEventRequest(body=payload, signature=signature)
        return await sso.sessions.HandleProviderEvent(req, timeout=10)

    for name, signature in {
        "another key": _signed(body, key="guessed"),
        "replayed after the tolerance": _signed(body, at=time.time() - 301),
        "no timestamp": "v1=" + _signed(body).split("v1=")[1],
        "another body": _signed(body.replace(b"removed", b"added")),
    }.items():
        refused = await deliver(signature)
        assert refused.error.kind == error_pb2.ERROR_KIND_AUTHENTICATION, name
    assert (await _principal(sso, token)).WhichOneof("result") == "principal", "nothing changed yet"
    done = await deliver(_signed(body))
    assert not done.HasField("error") and done.users_blocked == 1
    assert "blocked" in (await _principal(sso, token)).error.message
    assert any(
        e.entity == identity_pb2.IDENTITY_ENTITY_USER
        and e.entity_id == user_id
        and e.action == identity_pb2.IDENTITY_ACTION_BLOCKED
        for e in sso.events
    )
    other = orjson.dumps({"aggregateID": sub, "event_type": "user.human.profile.changed"})
    assert (await deliver(_signed(other), other)).users_blocked == 0
