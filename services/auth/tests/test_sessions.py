"""Session tokens: minted by auth, verified by Authenticate (one function for every credential),
revoked by logout, by blocking or deleting the user; keys rotate without logging anyone out."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any

import jwt
import orjson
import pytest
from auth_testing import MASTER, SESSION_AUDIENCE, SESSION_ISSUER, SESSION_KEY, Auth, mask, new_signing_key, running
from cryptography.hazmat.primitives import serialization

from switchyard.auth.v1 import auth_pb2, keys_pb2, sessions_pb2, users_pb2
from switchyard.events.v1 import identity_pb2
from switchyard.llm.v1 import error_pb2
from switchyard_auth.domain.sessions import KeyRing
from switchyard_common.kafka import EventProducer, KafkaSettings


async def _authenticate(auth: Auth, cred: str) -> auth_pb2.AuthenticateResponse:
    return await auth.auth.Authenticate(auth_pb2.AuthenticateRequest(credential=cred), timeout=10)


async def _signed_in(auth: Auth, role: str = "internal_user") -> tuple[str, str, str]:
    """(account_id, user_id, session token) of a new user of a new account."""
    account = await auth.account()
    user_id, _, _ = await auth.user(account, role)
    token, _ = await auth.signin.mint(account, user_id, role, False)
    return account, user_id, token


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(data)).rstrip(b"=").decode()


def _kid() -> str:
    return str(KeyRing(SESSION_KEY, issuer=SESSION_ISSUER, audience=SESSION_AUDIENCE).jwks()["keys"][0]["kid"])


def _claims(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def _forgeries(token: str) -> dict[str, Callable[[], str]]:
    """Every way a token may be forged or stale, each built from a genuine one."""
    good = _claims(token)
    kid = _kid()
    public_pem = (
        serialization.load_pem_private_key(SESSION_KEY.encode(), None)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )

    def signed(**changes: Any) -> str:
        return jwt.encode({**good, **changes}, SESSION_KEY, algorithm="ES256", headers={"kid": kid})

    def tampered_signature() -> str:
        head, body, sig = token.split(".")
        raw = bytearray(base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)))
        raw[0] ^= 0xFF
        return f"{head}.{body}.{base64.urlsafe_b64encode(bytes(raw)).rstrip(b'=').decode()}"

    def now() -> int:
        return int(time.time())

    return {
        "bad signature": tampered_signature,
        "another key, same kid": lambda: jwt.encode(good, new_signing_key(), algorithm="ES256", headers={"kid": kid}),
        "claims changed after signing": lambda: ".".join(
            [
                token.split(".", maxsplit=1)[0],
                _b64({**good, "role": "proxy_admin", "super_admin": True}),
                token.split(".")[2],
            ]
        ),
        "alg none": lambda: f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{_b64(good)}.",
        "HS256 with the master key": lambda: _hs256(good, MASTER.encode(), kid),
        "HS256 with the public key as secret": lambda: _hs256(good, public_pem, kid),
        "wrong aud": lambda: signed(aud="someone-else"),
        "wrong iss": lambda: signed(iss="https://evil.example"),
        "expired": lambda: signed(iat=now() - 7200, exp=now() - 3600),
        "issued in the future": lambda: signed(iat=now() + 3600, exp=now() + 7200),
        "no exp": lambda: jwt.encode(
            {k: v for k, v in good.items() if k != "exp"}, SESSION_KEY, algorithm="ES256", headers={"kid": kid}
        ),
        "unknown session": lambda: signed(sid="never-minted"),
        "another account": lambda: signed(account="default"),
        "another user of the session": lambda: signed(sub="someone-else"),
        "unknown kid": lambda: jwt.encode(good, SESSION_KEY, algorithm="ES256", headers={"kid": "nope"}),
    }


def _hs256(claims: dict[str, Any], secret: bytes, kid: str) -> str:
    """HMAC with a public key as the secret (the classic algorithm confusion), built by hand:
    PyJWT rightly refuses to encode it."""
    import hashlib
    import hmac

    signing_input = f"{_b64({'alg': 'HS256', 'typ': 'JWT', 'kid': kid})}.{_b64(claims)}"
    sig = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(sig).rstrip(b'=').decode()}"


async def test_a_session_token_is_a_principal_of_its_user(auth: Auth) -> None:
    account, user_id, token = await _signed_in(auth, "proxy_admin")
    resp = await _authenticate(auth, token)
    assert resp.WhichOneof("result") == "principal", resp.error.message
    p = resp.principal
    assert p.credential_kind == auth_pb2.CREDENTIAL_KIND_SESSION
    assert (p.account_id, p.user_id, p.role) == (account, user_id, "proxy_admin")
    assert p.session_id == _claims(token)["sid"] and not p.key_hash and not p.key_id
    assert not p.is_super_admin and not p.is_admin
    # The edge stops using a cached copy when the token expires.
    assert p.expires_at == _claims(token)["exp"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256" and header["kid"] == _kid()
    assert {"iss", "aud", "exp", "iat", "sub", "sid", "account", "role", "super_admin"} <= set(_claims(token))


async def test_every_forgery_is_refused(auth: Auth) -> None:
    """Item 4 of issue 12: a bad signature, alg none, HS256 with the master key, wrong aud or iss,
    an expired token, one of a deleted user: each is AUTHENTICATION (401 at the edge)."""
    account, user_id, token = await _signed_in(auth)
    assert (await _authenticate(auth, token)).WhichOneof("result") == "principal"
    for name, forge in _forgeries(token).items():
        resp = await _authenticate(auth, forge())
        assert resp.WhichOneof("result") == "error", f"{name}: accepted"
        assert resp.error.kind == error_pb2.ERROR_KIND_AUTHENTICATION and resp.error.http_status == 401, name
    deleted = await auth.users.DeleteUsers(
        users_pb2.DeleteUsersRequest(caller=auth.master, account_id=account, user_ids=[user_id]), timeout=10
    )
    assert list(deleted.deleted_user_ids) == [user_id]
    resp = await _authenticate(auth, token)
    assert resp.error.kind == error_pb2.ERROR_KIND_AUTHENTICATION, "a deleted user's session"


async def test_a_blocked_user_is_refused_at_once_and_the_edge_is_told(auth: Auth) -> None:
    account, user_id, token = await _signed_in(auth)
    resp = await auth.users.UpdateUser(
        users_pb2.UpdateUserRequest(
            caller=auth.master,
            account_id=account,
            user_id=user_id,
            settings=users_pb2.UserSettings(blocked=True),
            update_mask=mask("blocked"),
        ),
        timeout=10,
    )
    assert not resp.HasField("error"), resp.error.message
    refused = await _authenticate(auth, token)
    assert refused.error.kind == error_pb2.ERROR_KIND_AUTHENTICATION and "blocked" in refused.error.message
    # The edge drops cached principals of the user on this event (the principal names the user).
    assert any(
        e.entity == identity_pb2.IDENTITY_ENTITY_USER and e.entity_id == user_id and e.account_id == account
        for e in auth.events
    )


async def test_logout_revokes_the_session_everywhere(auth: Auth) -> None:
    account, user_id, token = await _signed_in(auth)
    principal = (await _authenticate(auth, token)).principal
    out = await auth.sessions.Logout(sessions_pb2.LogoutRequest(credential=token), timeout=10)
    assert not out.HasField("error") and out.end_session_url == "", "no identity provider is configured"
    refused = await _authenticate(auth, token)
    assert refused.error.kind == error_pb2.ERROR_KIND_AUTHENTICATION and "logged out" in refused.error.message
    # Every edge drops the principal it cached for the session.
    revoked = [e for e in auth.events if e.entity == identity_pb2.IDENTITY_ENTITY_SESSION]
    assert [(e.action, e.entity_id, e.account_id, e.member_user_id) for e in revoked] == [
        (identity_pb2.IDENTITY_ACTION_DELETED, principal.session_id, account, user_id)
    ]
    # A principal the edge still holds no longer works for management calls either.
    listed = await auth.keys.ListKeys(keys_pb2.ListKeysRequest(caller=principal), timeout=10)
    assert listed.error.kind == error_pb2.ERROR_KIND_AUTHENTICATION
    # Logging out twice, or a credential that is not a session, changes nothing.
    published = len(auth.events)
    again = await auth.sessions.Logout(sessions_pb2.LogoutRequest(credential=token), timeout=10)
    assert not again.HasField("error") and len(auth.events) == published
    assert not (await auth.sessions.Logout(sessions_pb2.LogoutRequest(credential="sk-x"), timeout=10)).HasField("error")


async def test_a_session_acts_with_its_users_rights_in_its_account_only(auth: Auth) -> None:
    account, user_id, token = await _signed_in(auth, "proxy_admin")
    other = await auth.account()
    await auth.key(account, key_alias="mine")
    await auth.key(other, key_alias="theirs")
    p = (await _authenticate(auth, token)).principal
    listed = await auth.keys.ListKeys(keys_pb2.ListKeysRequest(caller=p), timeout=10)
    assert not listed.HasField("error"), listed.error.message
    assert {k.account_id for k in listed.keys} == {account}
    assert "mine" in {k.settings.key_alias for k in listed.keys}
    foreign = await auth.keys.ListKeys(keys_pb2.ListKeysRequest(caller=p, account_id=other), timeout=10)
    assert foreign.error.kind == error_pb2.ERROR_KIND_NOT_FOUND
    # Rights are read now, not from the token: a demoted user loses them at once.
    await auth.users.UpdateUser(
        users_pb2.UpdateUserRequest(
            caller=auth.master,
            account_id=account,
            user_id=user_id,
            settings=users_pb2.UserSettings(user_role="internal_user_viewer"),
            update_mask=mask("user_role"),
        ),
        timeout=10,
    )
    made = await auth.keys.CreateKey(
        keys_pb2.CreateKeyRequest(caller=p, settings=auth_pb2.KeySettings(team_id="")), timeout=10
    )
    assert made.error.kind == error_pb2.ERROR_KIND_PERMISSION_DENIED


async def test_keys_rotate_without_logging_anyone_out(pg_dsn: str, tmp_path: Any) -> None:
    old, new = SESSION_KEY, new_signing_key("rsa")
    kafka = KafkaSettings(bootstrap_servers="127.0.0.1:9")
    producer = EventProducer(kafka, client_id="t", spool_dir=tmp_path)
    async with running(pg_dsn, producer, kafka, "identity", session_keys=old) as before:
        account = await before.account()
        user_id, _, _ = await before.user(account)
        old_token, _ = await before.signin.mint(account, user_id, "internal_user", False)
    # The new key goes first (it signs); the old one stays until its last token has expired.
    async with running(pg_dsn, producer, kafka, "identity", session_keys=new + old) as during:
        assert (await _authenticate(during, old_token)).WhichOneof("result") == "principal"
        new_token, _ = await during.signin.mint(account, user_id, "internal_user", False)
        assert jwt.get_unverified_header(new_token)["alg"] == "RS256"
        jwks = orjson.loads((await during.sessions.GetJwks(sessions_pb2.GetJwksRequest(), timeout=10)).jwks_json)
        assert {k["alg"] for k in jwks["keys"]} == {"ES256", "RS256"}
        assert all("d" not in k and "p" not in k for k in jwks["keys"]), "only public keys are published"
    async with running(pg_dsn, producer, kafka, "identity", session_keys=new) as after:
        assert (await _authenticate(after, new_token)).WhichOneof("result") == "principal"
        gone = await _authenticate(after, old_token)
        assert gone.error.kind == error_pb2.ERROR_KIND_AUTHENTICATION


@pytest.mark.parametrize("bundle", ["", "not a pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"])
def test_a_bad_key_bundle_is_refused_at_start(bundle: str) -> None:
    with pytest.raises(ValueError):
        KeyRing(bundle, issuer="i", audience="a")
