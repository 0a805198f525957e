"""The auth service's gRPC API on an ephemeral port with a real PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from switchyard.auth.v1 import auth_pb2, auth_pb2_grpc
from switchyard.llm.v1 import error_pb2
from switchyard_auth.clients.repository import Repository
from switchyard_auth.domain import keys
from switchyard_auth.handlers.auth import AuthServicer
from switchyard_auth.server import MIGRATIONS, SCHEMA
from switchyard_common.db import create_pool, migrate
from switchyard_common.grpc_server import GrpcService
from switchyard_common.kafka import EventProducer, KafkaSettings

MASTER = "sk-master-unit-test"


@pytest.fixture
async def stub(pg_dsn: str, tmp_path: Path) -> AsyncIterator[auth_pb2_grpc.AuthServiceStub]:
    await migrate(pg_dsn, schema=SCHEMA, migrations_dir=MIGRATIONS)
    pool = await create_pool(pg_dsn, schema=SCHEMA)
    repo = Repository(pool)
    await repo.ensure_account("default")
    # Kafka is unreachable here on purpose: identity events buffer and nothing blocks.
    producer = EventProducer(KafkaSettings(bootstrap_servers="127.0.0.1:9"), client_id="t", spool_dir=tmp_path)
    servicer = AuthServicer(
        repo, producer, master_key=MASTER, default_account="default", cache_ttl=30, identity_topic="identity"
    )
    service = GrpcService(
        host="127.0.0.1",
        port=0,
        service_names=[],
        register=lambda s: auth_pb2_grpc.add_AuthServiceServicer_to_server(servicer, s),
    )
    await service.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{service.bound_port}")
    try:
        stub = auth_pb2_grpc.AuthServiceStub(channel)
        stub.producer = producer  # type: ignore[attr-defined]
        stub.pool = pool  # type: ignore[attr-defined]
        yield stub
    finally:
        await channel.close()
        await service.stop()
        await pool.close()


async def _auth(stub: auth_pb2_grpc.AuthServiceStub, cred: str) -> auth_pb2.AuthenticateResponse:
    return await stub.Authenticate(auth_pb2.AuthenticateRequest(credential=cred), timeout=5)


async def test_master_key_and_unknown_keys(stub: auth_pb2_grpc.AuthServiceStub) -> None:
    ok = await _auth(stub, MASTER)
    assert ok.principal.is_admin and ok.principal.account_id == "default"
    bad = await _auth(stub, "sk-nope")
    assert bad.error.kind == error_pb2.ERROR_KIND_AUTHENTICATION and "sk-nope" not in bad.error.message
    empty = await _auth(stub, "")
    assert empty.error.http_status == 401


async def test_a_key_store_that_does_not_answer_is_unavailable(stub: auth_pb2_grpc.AuthServiceStub) -> None:
    """switchyard/llm/v1/error.proto: a store that does not answer fails the call (the edge answers
    503); it is no answer about the credential or the key."""
    admin = (await _auth(stub, MASTER)).principal
    await stub.pool.close()  # type: ignore[attr-defined]
    calls = [
        stub.Authenticate(auth_pb2.AuthenticateRequest(credential="sk-some-key"), timeout=5),
        stub.GenerateKey(auth_pb2.GenerateKeyRequest(caller=admin), timeout=5),
        stub.GetKey(auth_pb2.GetKeyRequest(caller=admin, key="sk-some-key"), timeout=5),
        stub.DeleteKeys(auth_pb2.DeleteKeysRequest(caller=admin, keys=["sk-some-key"]), timeout=5),
    ]
    for call in calls:
        with pytest.raises(grpc.aio.AioRpcError) as exc:
            await call
        assert exc.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_virtual_key_lifecycle(stub: auth_pb2_grpc.AuthServiceStub, pg_dsn: str) -> None:
    admin = (await _auth(stub, MASTER)).principal
    settings = auth_pb2.KeySettings(key_alias="ci", models=["gpt-4o"], max_budget="12.5", guardrails=["pii_masking"])
    made = await stub.GenerateKey(auth_pb2.GenerateKeyRequest(caller=admin, settings=settings), timeout=5)
    key = made.key
    assert key.startswith("sk-") and made.info.key_hash == keys.hash_key(key)
    p = (await _auth(stub, key)).principal
    assert p.key_hash == made.info.key_hash and p.has_budget and list(p.models) == ["gpt-4o"]
    assert list(p.guardrails) == ["pii_masking"] and not p.is_admin
    # Only the hash is stored.
    import asyncpg

    conn = await asyncpg.connect(pg_dsn)
    try:
        stored = await conn.fetch("SELECT key_hash, key_name FROM auth.keys")
    finally:
        await conn.close()
    assert all(key not in (r["key_hash"], r["key_name"]) for r in stored)
    # A key can read itself, not create keys.
    info = await stub.GetKey(auth_pb2.GetKeyRequest(caller=p, key=key), timeout=5)
    assert info.info.settings.key_alias == "ci"
    denied = await stub.GenerateKey(auth_pb2.GenerateKeyRequest(caller=p), timeout=5)
    assert denied.error.http_status == 403
    deleted = await stub.DeleteKeys(auth_pb2.DeleteKeysRequest(caller=admin, keys=[key]), timeout=5)
    assert list(deleted.deleted_key_hashes) == [made.info.key_hash]
    assert (await _auth(stub, key)).error.http_status == 401
    assert stub.producer.backlog == 2, "create and delete each produced an identity event"  # type: ignore[attr-defined]


async def test_expiry_and_validation(stub: auth_pb2_grpc.AuthServiceStub) -> None:
    admin = (await _auth(stub, MASTER)).principal
    short = await stub.GenerateKey(
        auth_pb2.GenerateKeyRequest(caller=admin, settings=auth_pb2.KeySettings(duration="1s")), timeout=5
    )
    assert short.info.expires_at >= int(time.time())
    await asyncio.sleep(2.1)
    assert "expired" in (await _auth(stub, short.key)).error.message
    for bad in (
        auth_pb2.KeySettings(duration="soon"),
        auth_pb2.KeySettings(max_budget="-1"),
        auth_pb2.KeySettings(budget_duration="1y"),
        auth_pb2.KeySettings(duration="99999999999d"),  # past the calendar
        auth_pb2.KeySettings(max_budget="1e300"),  # past what the ledger can hold
    ):
        resp = await stub.GenerateKey(auth_pb2.GenerateKeyRequest(caller=admin, settings=bad), timeout=5)
        assert resp.error.http_status == 400 and resp.error.param
    byok = await stub.GenerateKey(auth_pb2.GenerateKeyRequest(caller=admin, key="not-sk"), timeout=5)
    assert byok.error.param == "key"


def test_durations() -> None:
    assert keys.parse_duration("30s", "d") == 30
    assert keys.parse_duration("2h", "d") == 7200
    assert keys.parse_duration("1mo", "d") == 30 * 86400
    with pytest.raises(keys.KeyError_):
        keys.parse_duration("1y", "d")
    assert keys.parse_duration("1200mo", "d") == 1200 * 30 * 86400
    with pytest.raises(keys.KeyError_, match="100 years"):
        keys.parse_duration("1300mo", "d")
    with pytest.raises(keys.KeyError_, match="'budget_duration' must be longer than zero"):
        keys.parse_duration("0d", "budget_duration")
