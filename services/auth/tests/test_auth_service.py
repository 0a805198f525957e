"""AuthService: credentials → principals, and the original key RPCs the edge's routes call."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import grpc
import pytest
from auth_testing import MASTER, Auth

from switchyard.auth.v1 import auth_pb2, teams_pb2
from switchyard.llm.v1 import error_pb2
from switchyard_auth.domain import keys
from switchyard_auth.domain.settings import Invalid, check_duration


async def _auth(auth: Auth, cred: str) -> auth_pb2.AuthenticateResponse:
    return await auth.auth.Authenticate(auth_pb2.AuthenticateRequest(credential=cred), timeout=5)


async def test_master_key_and_unknown_keys(auth: Auth) -> None:
    ok = await _auth(auth, MASTER)
    assert ok.principal.is_admin and ok.principal.is_super_admin and ok.principal.account_id == "default"
    bad = await _auth(auth, "sk-nope")
    assert bad.error.kind == error_pb2.ERROR_KIND_AUTHENTICATION and "sk-nope" not in bad.error.message
    empty = await _auth(auth, "")
    assert empty.error.http_status == 401


async def test_a_key_store_that_does_not_answer_is_unavailable(auth: Auth) -> None:
    """switchyard/llm/v1/error.proto: a store that does not answer fails the call with the status
    UNAVAILABLE (the edge answers 503); it is no answer about the credential or the key."""
    admin = auth.master
    await auth.pool.close()
    calls = [
        auth.auth.Authenticate(auth_pb2.AuthenticateRequest(credential="sk-some-key"), timeout=5),
        auth.auth.GenerateKey(auth_pb2.GenerateKeyRequest(caller=admin), timeout=5),
        auth.auth.GetKey(auth_pb2.GetKeyRequest(caller=admin, key="sk-some-key"), timeout=5),
        auth.auth.DeleteKeys(auth_pb2.DeleteKeysRequest(caller=admin, keys=["sk-some-key"]), timeout=5),
        auth.teams.ListTeams(teams_pb2.ListTeamsRequest(caller=admin), timeout=5),
    ]
    for call in calls:
        with pytest.raises(grpc.aio.AioRpcError) as exc:
            await call
        assert exc.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_virtual_key_lifecycle(auth: Auth, pg_dsn: str) -> None:
    admin = auth.master
    settings = auth_pb2.KeySettings(key_alias="ci", models=["gpt-4o"], max_budget="12.5", guardrails=["pii_masking"])
    made = await auth.auth.GenerateKey(auth_pb2.GenerateKeyRequest(caller=admin, settings=settings), timeout=5)
    key = made.key
    assert key.startswith("sk-") and made.info.key_hash == keys.hash_key(key)
    assert made.info.key_id == made.info.key_hash, "a key's id is the hash of its first secret"
    p = (await _auth(auth, key)).principal
    assert p.key_hash == made.info.key_hash and p.key_id == made.info.key_id
    assert p.has_budget and list(p.models) == ["gpt-4o"] and p.key_limit.max_budget == "12.5"
    assert list(p.guardrails) == ["pii_masking"] and not p.is_admin and not p.is_super_admin and p.role == ""
    # Only the hash is stored.
    conn = await asyncpg.connect(pg_dsn)
    try:
        stored = await conn.fetch("SELECT key_hash, key_name FROM auth.keys")
    finally:
        await conn.close()
    assert all(key not in (r["key_hash"], r["key_name"]) for r in stored)
    # A key can read itself, not create keys.
    info = await auth.auth.GetKey(auth_pb2.GetKeyRequest(caller=p, key=key), timeout=5)
    assert info.info.settings.key_alias == "ci"
    denied = await auth.auth.GenerateKey(auth_pb2.GenerateKeyRequest(caller=p), timeout=5)
    assert denied.error.http_status == 403
    deleted = await auth.auth.DeleteKeys(auth_pb2.DeleteKeysRequest(caller=admin, keys=[key]), timeout=5)
    assert list(deleted.deleted_key_hashes) == [made.info.key_hash]
    assert (await _auth(auth, key)).error.http_status == 401
    assert [e.action for e in auth.events] == [1, 3], "create and delete each produced an identity event"
    assert auth.producer.backlog == 2


async def test_expiry_and_validation(auth: Auth) -> None:
    admin = auth.master
    short = await auth.auth.GenerateKey(
        auth_pb2.GenerateKeyRequest(caller=admin, settings=auth_pb2.KeySettings(duration="1s")), timeout=5
    )
    assert short.info.expires_at >= int(time.time())
    await asyncio.sleep(2.1)
    assert "expired" in (await _auth(auth, short.key)).error.message
    for bad in (
        auth_pb2.KeySettings(duration="soon"),
        auth_pb2.KeySettings(max_budget="-1"),
        auth_pb2.KeySettings(budget_duration="1y"),
        auth_pb2.KeySettings(duration="99999999999d"),  # past the calendar
        auth_pb2.KeySettings(max_budget="1e300"),  # past what the ledger can hold
    ):
        resp = await auth.auth.GenerateKey(auth_pb2.GenerateKeyRequest(caller=admin, settings=bad), timeout=5)
        assert resp.error.http_status == 400 and resp.error.param
    byok = await auth.auth.GenerateKey(auth_pb2.GenerateKeyRequest(caller=admin, key="not-sk"), timeout=5)
    assert byok.error.param == "key"


def test_durations() -> None:
    assert check_duration("30s", "d") == 30
    assert check_duration("2h", "d") == 7200
    assert check_duration("1mo", "d") == 30 * 86400
    with pytest.raises(Invalid):
        check_duration("1y", "d")
    assert check_duration("1200mo", "d") == 1200 * 30 * 86400
    with pytest.raises(Invalid, match="100 years"):
        check_duration("1300mo", "d")
    with pytest.raises(Invalid, match="'budget_duration' must be longer than zero"):
        check_duration("0d", "budget_duration")
