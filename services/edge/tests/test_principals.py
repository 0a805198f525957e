"""The edge's cache of principals: which identity events drop which cached principals."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import pytest
from aiokafka.structs import ConsumerRecord

from switchyard.auth.v1 import auth_pb2
from switchyard.events.v1 import identity_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_edge.clients.principals import Principals
from switchyard_edge.errors import GatewayError
from switchyard_llm.errors import make_error

E = identity_pb2


class _Auth:
    """Stands in for the auth service's Authenticate: one principal per credential."""

    def __init__(self, principals: dict[str, auth_pb2.Principal]) -> None:
        self.principals = principals
        self.calls = 0

    async def Authenticate(self, req: auth_pb2.AuthenticateRequest, timeout: float) -> Any:
        self.calls += 1
        return auth_pb2.AuthenticateResponse(principal=self.principals[req.credential])


def _principal(**fields: Any) -> auth_pb2.Principal:
    return auth_pb2.Principal(**{"account_id": "acct", "cache_ttl_seconds": 300, **fields})


def _record(event: identity_pb2.IdentityEvent) -> ConsumerRecord[bytes, bytes]:
    value = event.SerializeToString()
    return ConsumerRecord("identity", 0, 0, 0, 0, b"acct", value, None, 0, len(value), [])


async def _cached_after(event: identity_pb2.IdentityEvent) -> dict[str, bool]:
    """Which of three cached principals are still served from the cache after ``event``."""
    auth = _Auth(
        {
            "sk-a": _principal(key_hash="ha", key_id="ka", team_id="t1", user_id="u1", org_id="o1"),
            "sk-b": _principal(key_hash="hb", key_id="kb", team_id="t2", user_id="u2"),
            "sk-c": _principal(key_hash="hc", key_id="kc", account_id="other"),
        }
    )
    peers: Any = type("Peers", (), {"auth": auth})()
    cache = Principals(peers, timeout=1.0, negative_ttl=1.0)
    for cred in ("sk-a", "sk-b", "sk-c"):
        await cache.authenticate(cred)
    await cache.on_identity_event(_record(event))
    out = {}
    for cred in ("sk-a", "sk-b", "sk-c"):
        before = auth.calls
        await cache.authenticate(cred)
        out[cred] = auth.calls == before
    return out


async def test_a_regenerated_keys_old_secret_is_dropped_by_its_previous_hash() -> None:
    event = E.IdentityEvent(entity=E.IDENTITY_ENTITY_KEY, key_id="ka", key_hash="new", previous_key_hash="ha")
    assert await _cached_after(event) == {"sk-a": False, "sk-b": True, "sk-c": True}


async def test_a_change_of_a_team_user_or_organization_drops_the_principals_built_from_it() -> None:
    team = E.IdentityEvent(entity=E.IDENTITY_ENTITY_TEAM, entity_id="t2", action=E.IDENTITY_ACTION_BLOCKED)
    assert await _cached_after(team) == {"sk-a": True, "sk-b": False, "sk-c": True}
    user = E.IdentityEvent(entity=E.IDENTITY_ENTITY_USER, entity_id="u1")
    assert await _cached_after(user) == {"sk-a": False, "sk-b": True, "sk-c": True}
    org = E.IdentityEvent(entity=E.IDENTITY_ENTITY_ORGANIZATION, entity_id="o1")
    assert await _cached_after(org) == {"sk-a": False, "sk-b": True, "sk-c": True}
    member = E.IdentityEvent(entity=E.IDENTITY_ENTITY_TEAM_MEMBER, entity_id="t9", member_user_id="u2")
    assert await _cached_after(member) == {"sk-a": True, "sk-b": False, "sk-c": True}


async def test_a_suspended_account_drops_every_principal_of_that_account_only() -> None:
    event = E.IdentityEvent(entity=E.IDENTITY_ENTITY_ACCOUNT, entity_id="acct", action=E.IDENTITY_ACTION_UPDATED)
    assert await _cached_after(event) == {"sk-a": False, "sk-b": False, "sk-c": True}


class _Blocking:
    """Authenticate refusing one key until it is unblocked."""

    def __init__(self) -> None:
        self.blocked = True

    async def Authenticate(self, req: auth_pb2.AuthenticateRequest, timeout: float) -> Any:
        if self.blocked:
            return auth_pb2.AuthenticateResponse(
                error=make_error(ErrorKind.ERROR_KIND_AUTHENTICATION, "Authentication Error: this key is blocked.")
            )
        return auth_pb2.AuthenticateResponse(principal=_principal(key_hash=hashlib.sha256(b"sk-x").hexdigest()))


async def test_an_unblocked_key_works_at_once_though_its_refusal_was_cached() -> None:
    auth = _Blocking()
    cache = Principals(type("Peers", (), {"auth": auth})(), timeout=1.0, negative_ttl=60.0)  # type: ignore[arg-type]
    with pytest.raises(GatewayError):
        await cache.authenticate("sk-x")
    auth.blocked = False
    # The unblocking write (or its identity event) names the key by its hash.
    event = E.IdentityEvent(entity=E.IDENTITY_ENTITY_KEY, key_id="kx", key_hash=hashlib.sha256(b"sk-x").hexdigest())
    await cache.on_identity_event(_record(event))
    assert (await cache.authenticate("sk-x")).key_hash == event.key_hash
    auth.blocked = True
    cache.invalidate([("key", event.key_hash)])
    with pytest.raises(GatewayError):
        await cache.authenticate("sk-x")


async def test_a_logged_out_or_blocked_users_session_is_dropped_and_nothing_else() -> None:
    session = "eyJ.session.token"
    auth = _Auth(
        {
            session: _principal(user_id="u3", session_id="s1", credential_kind=auth_pb2.CREDENTIAL_KIND_SESSION),
            "sk-a": _principal(key_hash="ha", key_id="ka", user_id="u1"),
        }
    )
    peers: Any = type("Peers", (), {"auth": auth})()
    for event, dropped in (
        (E.IdentityEvent(entity=E.IDENTITY_ENTITY_SESSION, entity_id="s1", action=E.IDENTITY_ACTION_DELETED), True),
        (E.IdentityEvent(entity=E.IDENTITY_ENTITY_USER, entity_id="u3", action=E.IDENTITY_ACTION_BLOCKED), True),
        (E.IdentityEvent(entity=E.IDENTITY_ENTITY_SESSION, entity_id="s2", action=E.IDENTITY_ACTION_DELETED), False),
    ):
        cache = Principals(peers, timeout=1.0, negative_ttl=1.0)
        for cred in (session, "sk-a"):
            await cache.authenticate(cred)
        await cache.on_identity_event(_record(event))
        before = auth.calls
        await cache.authenticate(session)
        assert (auth.calls > before) is dropped, event
        before = auth.calls
        await cache.authenticate("sk-a")
        assert auth.calls == before, "a key of another user stays cached"


async def test_an_expired_session_is_refused_from_the_cache() -> None:
    session = "eyJ.expiring.token"
    auth = _Auth({session: _principal(user_id="u", session_id="s", expires_at=int(time.time()) - 1)})
    cache = Principals(type("Peers", (), {"auth": auth})(), timeout=1.0, negative_ttl=1.0)  # type: ignore[arg-type]
    with pytest.raises(GatewayError) as exc:
        await cache.authenticate(session)
    assert exc.value.error.http_status == 401 and "session has expired" in exc.value.error.message
