"""Sign-in end to end: a browser follows /sso/login → the fake Zitadel → /sso/callback and gets
its session cookie, reads its own account's keys (and not another's), logs out; every forged or
stale token is 401 on HTTP and on gRPC; an opaque Zitadel token revoked at the issuer stops
working within the introspection cache bound."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from collections.abc import Callable, Iterator
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urljoin

import grpc
import httpx
import jwt
import orjson
import pytest

from devstack import stack
from e2e.support import ACTIONS_SIGNING_KEY
from switchyard.auth.v1 import (
    accounts_pb2,
    accounts_pb2_grpc,
    auth_pb2,
    keys_pb2,
    keys_pb2_grpc,
    users_pb2,
    users_pb2_grpc,
)
from switchyard.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from switchyard_auth.domain.sessions import KeyRing
from switchyard_fakes import oidc_server

# The auth service's trust in the edge's word: what the edge passes as the caller for setup.
MASTER = auth_pb2.Principal(account_id="default", is_admin=True, is_super_admin=True)
# OIDC_INTROSPECTION_CACHE_SECONDS of the e2e stack (conftest).
INTROSPECTION_CACHE_SECONDS = 2


class Browser:
    """Follows redirects across origins and keeps cookies as a browser would, including Secure
    ones on loopback (httpx's jar drops those over http)."""

    def __init__(self) -> None:
        self.http = httpx.Client(timeout=15, follow_redirects=False)
        self.cookies: dict[str, dict[str, SimpleCookie]] = {}
        self.set_cookies: list[str] = []

    def _jar(self, url: str) -> dict[str, SimpleCookie]:
        return self.cookies.setdefault(httpx.URL(url).netloc.decode(), {})

    def get(self, url: str, *, headers: dict[str, str] | None = None) -> httpx.Response:
        jar = self._jar(url)
        cookie = "; ".join(f"{name}={c[name].value}" for name, c in jar.items())
        resp = self.http.get(url, headers={**({"cookie": cookie} if cookie else {}), **(headers or {})})
        for raw in resp.headers.get_list("set-cookie"):
            self.set_cookies.append(raw)
            parsed: SimpleCookie = SimpleCookie(raw)
            for name, morsel in parsed.items():
                if morsel["max-age"] == "0" or not morsel.value or morsel.value == '""':
                    jar.pop(name, None)
                else:
                    jar[name] = parsed
        return resp

    def follow(self, url: str) -> httpx.Response:
        for _ in range(10):
            resp = self.get(url)
            if resp.status_code not in (301, 302, 303, 307):
                return resp
            url = urljoin(url, resp.headers["location"])
        raise AssertionError("too many redirects")

    def cookie(self, base: str, name: str) -> str:
        jar = self._jar(base)
        return jar[name][name].value if name in jar else ""


@pytest.fixture(scope="module")
def auth_channel(stack_cfg: stack.StackConfig) -> Iterator[grpc.Channel]:
    """auth's gRPC port as the edge (its certificate): the setup the management routes will do."""
    files = stack.certificates(stack_cfg)["edge"]
    creds = grpc.ssl_channel_credentials(
        root_certificates=files.ca_file.read_bytes(),
        private_key=files.key_file.read_bytes(),
        certificate_chain=files.cert_file.read_bytes(),
    )
    with grpc.secure_channel(stack_cfg.addr("auth"), creds) as ch:
        yield ch


@pytest.fixture(scope="module")
def idp(stack_cfg: stack.StackConfig) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.oidc_issuer_url(stack_cfg), timeout=10) as c:
        yield c


def _account(ch: grpc.Channel, domain: str, admins: tuple[str, ...] = ()) -> str:
    accounts = accounts_pb2_grpc.AccountServiceStub(ch)
    resp = accounts.CreateAccount(
        accounts_pb2.CreateAccountRequest(
            caller=MASTER, settings=accounts_pb2.AccountSettings(account_name=f"e2e-{domain}", domain=domain)
        ),
        timeout=10,
    )
    assert not resp.HasField("error"), resp.error.message
    for email in admins:
        added = accounts.AddAccountAdmin(
            accounts_pb2.AddAccountAdminRequest(caller=MASTER, account_id=resp.account.account_id, user_email=email),
            timeout=10,
        )
        assert not added.HasField("error"), added.error.message
    return resp.account.account_id


def _key(ch: grpc.Channel, account_id: str) -> str:
    resp = keys_pb2_grpc.KeyServiceStub(ch).CreateKey(
        keys_pb2.CreateKeyRequest(caller=MASTER, account_id=account_id, settings=auth_pb2.KeySettings()), timeout=10
    )
    assert not resp.HasField("error"), resp.error.message
    return resp.info.key_hash


def _idp_user(idp: httpx.Client, email: str) -> str:
    sub = uuid.uuid4().hex
    idp.post("/control/users", content=orjson.dumps({"sub": sub, "email": email})).raise_for_status()
    idp.post("/control/login-as", content=orjson.dumps({"sub": sub})).raise_for_status()
    return sub


def _sign_in(base_url: str) -> tuple[Browser, str]:
    browser = Browser()
    landed = browser.follow(f"{base_url}/sso/login?return_to=/ui/keys")
    assert landed.request.url.path == "/ui/keys", landed.text
    token = browser.cookie(base_url, "token")
    assert token, f"no session cookie: {browser.set_cookies}"
    return browser, token


def test_a_browser_signs_in_reads_its_accounts_keys_only_and_logs_out(
    base_url: str, auth_channel: grpc.Channel, idp: httpx.Client
) -> None:
    tag = uuid.uuid4().hex[:8]
    email = f"admin@a-{tag}.test"
    mine = _account(auth_channel, f"a-{tag}.test", admins=(email,))
    theirs = _account(auth_channel, f"b-{tag}.test")
    my_key, their_key = _key(auth_channel, mine), _key(auth_channel, theirs)
    _idp_user(idp, email)

    browser, token = _sign_in(base_url)
    cookie = next(c for c in browser.set_cookies if c.startswith("token="))
    attrs = {a.strip().lower() for a in cookie.split(";")[1:]}
    assert {"httponly", "secure", "samesite=lax", "path=/"} <= attrs, cookie
    assert not browser.cookie(base_url, "sso_state"), "the login's state cookie is cleared"

    info = browser.get(f"{base_url}/key/info?key={my_key}")
    assert info.status_code == 200, info.text
    assert info.json()["info"]["token"] == my_key
    other = browser.get(f"{base_url}/key/info?key={their_key}")
    assert other.status_code == 404, other.text
    # The same session as a Bearer token, and on the model routes.
    assert browser.http.get(f"{base_url}/v1/models", headers={"authorization": f"Bearer {token}"}).status_code == 200

    out = browser.get(f"{base_url}/sso/logout")
    assert out.status_code == 303 and "/oidc/v1/end_session" in out.headers["location"]
    assert not browser.cookie(base_url, "token"), "logout clears the cookie"
    stale = browser.http.get(f"{base_url}/key/info?key={my_key}", headers={"cookie": f"token={token}"})
    assert stale.status_code == 401 and "logged out" in stale.json()["detail"]


def _forgeries(token: str, pem: str, kid: str, master_key: str) -> dict[str, Callable[[], str]]:
    good = jwt.decode(token, options={"verify_signature": False})

    def b64(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(orjson.dumps(data)).rstrip(b"=").decode()

    def signed(**changes: Any) -> str:
        return jwt.encode({**good, **changes}, pem, algorithm="ES256", headers={"kid": kid})

    def hs256(secret: bytes) -> str:
        head = f"{b64({'alg': 'HS256', 'typ': 'JWT', 'kid': kid})}.{b64(good)}"
        sig = hmac.new(secret, head.encode(), hashlib.sha256).digest()
        return f"{head}.{base64.urlsafe_b64encode(sig).rstrip(b'=').decode()}"

    head, body, sig = token.split(".")
    return {
        "bad signature": lambda: f"{head}.{b64({**good, 'role': 'proxy_admin', 'super_admin': True})}.{sig}",
        "alg none": lambda: f"{b64({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{body}.",
        "HS256 signed with the master key": lambda: hs256(master_key.encode()),
        "wrong aud": lambda: signed(aud="another-gateway"),
        "wrong iss": lambda: signed(iss="https://evil.example"),
        "expired": lambda: signed(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600),
    }


def test_every_forgery_is_401_on_http_and_grpc(
    base_url: str, stack_cfg: stack.StackConfig, auth_channel: grpc.Channel, idp: httpx.Client
) -> None:
    tag = uuid.uuid4().hex[:8]
    account = _account(auth_channel, f"f-{tag}.test")
    _idp_user(idp, f"user@f-{tag}.test")
    _, token = _sign_in(base_url)
    pem = stack.session_signing_key(stack_cfg)
    kid = str(KeyRing(pem, issuer="switchyard", audience="switchyard").jwks()["keys"][0]["kid"])
    cases = _forgeries(token, pem, kid, stack.master_key(stack_cfg))

    user_id = jwt.decode(token, options={"verify_signature": False})["sub"]

    def deleted_user() -> str:
        users_pb2_grpc.UserServiceStub(auth_channel).DeleteUsers(
            users_pb2.DeleteUsersRequest(caller=MASTER, account_id=account, user_ids=[user_id]), timeout=10
        )
        return token

    with grpc.insecure_channel(stack_cfg.addr("edge")) as ch:
        gateway = gateway_pb2_grpc.GatewayServiceStub(ch)

        def grpc_code(cred: str) -> grpc.StatusCode:
            try:
                gateway.ListModels(
                    gateway_pb2.ListModelsRequest(), metadata=(("authorization", f"Bearer {cred}"),), timeout=10
                )
            except grpc.RpcError as exc:
                return exc.code()  # type: ignore[attr-defined, no-any-return]
            return grpc.StatusCode.OK

        assert grpc_code(token) == grpc.StatusCode.OK
        for name, forge in [*cases.items(), ("deleted user", deleted_user)]:
            cred = forge()
            answers = {
                "model route": _wait_status(lambda c=cred: httpx.get(f"{base_url}/v1/models", headers=_bearer(c))),
                "management route": httpx.get(f"{base_url}/key/info", headers={"cookie": f"token={cred}"}).status_code,
                "grpc": grpc_code(cred),
            }
            assert answers == {
                "model route": 401,
                "management route": 401,
                "grpc": grpc.StatusCode.UNAUTHENTICATED,
            }, name


def _bearer(cred: str) -> dict[str, str]:
    return {"authorization": f"Bearer {cred}"}


def _wait_status(call: Callable[[], httpx.Response], want: int = 401, within: float = 10.0) -> int:
    """The status once it is ``want`` (identity events reach the edges within moments), else the
    last one seen after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        status = call().status_code
        if status == want or time.monotonic() > deadline:
            return status
        time.sleep(0.1)


def test_an_opaque_zitadel_token_revoked_at_the_issuer_fails_within_the_cache_bound(
    base_url: str, auth_channel: grpc.Channel, idp: httpx.Client
) -> None:
    tag = uuid.uuid4().hex[:8]
    _account(auth_channel, f"o-{tag}.test")
    sub = _idp_user(idp, f"svc@o-{tag}.test")
    token = idp.post("/control/tokens", content=orjson.dumps({"sub": sub})).json()["access_token"]
    assert not token.startswith(("sk-", "eyJ")), "an opaque token"
    assert httpx.get(f"{base_url}/v1/models", headers=_bearer(token)).status_code == 200
    idp.post("/oauth/v2/revoke", data={"token": token}).raise_for_status()
    revoked_at = time.monotonic()
    status = _wait_status(lambda: httpx.get(f"{base_url}/v1/models", headers=_bearer(token)), within=10)
    assert status == 401
    assert time.monotonic() - revoked_at <= INTROSPECTION_CACHE_SECONDS + 1.0


def test_the_session_keys_are_published(base_url: str) -> None:
    resp = httpx.get(f"{base_url}/.well-known/jwks.json")
    assert resp.status_code == 200
    keys = resp.json()["keys"]
    assert keys and all(k["alg"] in ("ES256", "RS256") and "d" not in k for k in keys)


def test_the_fake_issuer_is_zitadel_shaped(idp: httpx.Client) -> None:
    doc = idp.get("/.well-known/openid-configuration").json()
    assert doc["jwks_uri"].endswith("/oauth/v2/keys") and doc["introspection_endpoint"].endswith("/oauth/v2/introspect")
    assert oidc_server.RESOURCEOWNER_SCOPE in doc["scopes_supported"]


def test_a_user_deactivated_at_the_issuer_is_signed_out_on_every_edge(
    base_url: str, auth_channel: grpc.Channel, idp: httpx.Client
) -> None:
    tag = uuid.uuid4().hex[:8]
    _account(auth_channel, f"w-{tag}.test")
    sub = _idp_user(idp, f"leaver@w-{tag}.test")
    _, token = _sign_in(base_url)
    assert httpx.get(f"{base_url}/v1/models", headers=_bearer(token)).status_code == 200  # cached now
    body = orjson.dumps({"aggregateID": sub, "aggregateType": "user", "event_type": "user.deactivated"})
    t = str(int(time.time()))
    good = hmac.new(ACTIONS_SIGNING_KEY.encode(), t.encode() + b"." + body, hashlib.sha256).hexdigest()
    forged = hmac.new(b"guess", t.encode() + b"." + body, hashlib.sha256).hexdigest()
    refused = httpx.post(f"{base_url}/sso/events", content=body, headers={"zitadel-signature": f"t={t},v1={forged}"})
    assert refused.status_code == 401 and "signature" in refused.json()["detail"]
    assert httpx.get(f"{base_url}/v1/models", headers=_bearer(token)).status_code == 200
    done = httpx.post(f"{base_url}/sso/events", content=body, headers={"zitadel-signature": f"t={t},v1={good}"})
    assert done.status_code == 200 and done.json() == {"users_blocked": 1}
    # The user's BLOCKED event drops the cached session on the edge.
    assert _wait_status(lambda: httpx.get(f"{base_url}/v1/models", headers=_bearer(token))) == 401
