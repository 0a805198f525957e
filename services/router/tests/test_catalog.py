"""Runtime models in a real PostgreSQL: validation, storage, and every replica seeing changes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import grpc
import orjson
import pytest

from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard.router.v1 import router_pb2, router_pb2_grpc
from switchyard_common.db import migrate
from switchyard_common.grpc_server import GrpcService
from switchyard_llm.model_config import parse_config
from switchyard_llm.sealing import (
    credential_binding,
    generate_keypair,
    load_private_key,
    load_public_key,
    open_sealed,
    seal,
)
from switchyard_router.catalog import Catalog, CatalogError
from switchyard_router.clients.store import SCHEMA, ModelRow, ModelStore
from switchyard_router.domain.policy import load_policy
from switchyard_router.handlers.router import RouterServicer
from switchyard_router.server import MIGRATIONS

CONFIG = parse_config(
    {
        "model_list": [
            {
                "model_name": "cfg",
                "litellm_params": {"model": "openai/cfg", "api_key": "sk-in-config"},
                "model_info": {"id": "cfg-1"},
            }
        ]
    }
)


@pytest.fixture(scope="module")
def dsn(pg_dsn: str) -> str:
    asyncio.run(migrate(pg_dsn, schema=SCHEMA, migrations_dir=MIGRATIONS))
    return pg_dsn


@pytest.fixture
async def catalogs(dsn: str) -> AsyncIterator[tuple[Catalog, Catalog]]:
    stores = [await ModelStore.connect(dsn) for _ in range(2)]
    policy = load_policy(CONFIG)
    cats = [Catalog(CONFIG, policy, s) for s in stores]
    tasks = []
    for s, c in zip(stores, cats, strict=True):
        await c.reload(force=True)
        tasks += [asyncio.create_task(c.follow(1.0)), asyncio.create_task(s.listen(c.notify))]
    await asyncio.sleep(0.2)
    yield cats[0], cats[1]
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for s in stores:
        await s.close()


# The binding of entry()'s deployment (switchyard_llm.sealing.credential_binding).
BOUND = credential_binding("openai", "rt", "http://x/v1", b"")


def entry(model_id: str, name: str = "rt", **params: object) -> router_pb2.ModelEntry:
    return router_pb2.ModelEntry(
        id=model_id,
        model_name=name,
        litellm_params_json=orjson.dumps({"model": "openai/rt", "api_base": "http://x/v1", **params}),
        model_info_json=orjson.dumps({"description": "runtime"}),
    )


async def wait_for(cond, timeout: float = 1.0) -> float:  # type: ignore[no-untyped-def]
    t0 = time.monotonic()
    while not cond():
        assert time.monotonic() - t0 < timeout, "not visible in time"
        await asyncio.sleep(0.01)
    return time.monotonic() - t0


async def test_add_is_visible_on_the_other_replica_within_a_second(catalogs: tuple[Catalog, Catalog]) -> None:
    a, b = catalogs
    private, public = generate_keypair()
    e = entry("m-1", rpm=5)
    e.sealed_credentials["api_key"] = seal(load_public_key(public), "m-1", "api_key", "sk-upstream", binding=BOUND)
    stored = await a.add(e, "admin")
    assert stored.db_model and stored.config.rpm == 5 and "m-1" in a.registry.by_id
    took = await wait_for(lambda: "m-1" in b.registry.by_id)
    assert took < 1.0
    cand = b.registry.groups["rt"].candidates[0]
    # The plan carries the sealed key; only the private key opens it.
    sealed = cand.proto.sealed_credentials["api_key"]
    assert open_sealed(load_private_key(private), "m-1", "api_key", sealed, binding=BOUND) == "sk-upstream"
    info = orjson.loads(a.entry(stored, cand).model_info_json)
    assert info["id"] == "m-1" and info["db_model"] is True and info["description"] == "runtime"
    assert b"sk-upstream" not in a.entry(stored, cand).SerializeToString()


async def test_update_that_moves_kept_credentials_is_refused(catalogs: tuple[Catalog, Catalog]) -> None:
    """Credentials are sealed to the deployment's definition: an update that changes where they
    would go must carry them again, or it is refused (they would no longer open)."""
    a, _ = catalogs
    _, public = generate_keypair()
    e = entry("m-11")
    e.sealed_credentials["api_key"] = seal(load_public_key(public), "m-11", "api_key", "sk-upstream", binding=BOUND)
    await a.add(e, "admin")
    moved = router_pb2.ModelEntry(id="m-11", litellm_params_json=orjson.dumps({"api_base": "https://elsewhere/v1"}))
    with pytest.raises(CatalogError) as exc:
        await a.update(router_pb2.UpdateModelRequest(model=moved, caller="ops"))
    assert exc.value.error.kind == ErrorKind.ERROR_KIND_BAD_REQUEST and "send api_key again" in exc.value.error.message
    assert a.registry.by_id["m-11"].config.api_base == "http://x/v1"
    # Tuning what is no part of the binding needs no credential; moving with a new one is fine.
    tuned = router_pb2.ModelEntry(id="m-11", litellm_params_json=orjson.dumps({"temperature": 0.3, "rpm": 9}))
    assert (await a.update(router_pb2.UpdateModelRequest(model=tuned))).config.rpm == 9
    moved.sealed_credentials["api_key"] = b"sealed for the new definition"
    assert (await a.update(router_pb2.UpdateModelRequest(model=moved))).config.api_base == "https://elsewhere/v1"
    await a.delete("m-11")


async def test_update_merges_and_delete_removes_everywhere(catalogs: tuple[Catalog, Catalog]) -> None:
    a, b = catalogs
    await a.add(entry("m-2", temperature=0.1), "admin")
    patch = router_pb2.ModelEntry(id="m-2", litellm_params_json=orjson.dumps({"rpm": 7, "temperature": None}))
    updated = await b.update(router_pb2.UpdateModelRequest(model=patch, caller="ops"))
    assert updated.config.rpm == 7 and "temperature" not in updated.config.litellm_params
    assert updated.updated_by == "ops" and updated.created_by == "admin"
    await wait_for(lambda: a.registry.by_id.get("m-2") is not None and a.registry.by_id["m-2"].config.rpm == 7)
    await a.delete("m-2")
    await wait_for(lambda: "m-2" not in b.registry.by_id)


@pytest.mark.parametrize(
    ("make", "kind", "fragment"),
    [
        (lambda: entry("cfg-1"), ErrorKind.ERROR_KIND_BAD_REQUEST, "config.yaml"),
        (lambda: entry("m-3", api_key="plain"), ErrorKind.ERROR_KIND_BAD_REQUEST, "sealed"),
        (lambda: entry("m-4", rpm="lots"), ErrorKind.ERROR_KIND_BAD_REQUEST, "rpm"),
        (lambda: entry("m-7", timeout="slow"), ErrorKind.ERROR_KIND_BAD_REQUEST, "'slow'"),
        (lambda: entry("m-8", weight=-1), ErrorKind.ERROR_KIND_BAD_REQUEST, "non-negative"),
        (lambda: entry("m-9", rpm=1e40), ErrorKind.ERROR_KIND_BAD_REQUEST, "rpm must be between"),
        (
            lambda: router_pb2.ModelEntry(id="m-5", model_name="x", litellm_params_json=b"[1]"),
            ErrorKind.ERROR_KIND_BAD_REQUEST,
            "object",
        ),
        (
            lambda: router_pb2.ModelEntry(id="m-6", model_name="x", litellm_params_json=b'{"model": "mystery"}'),
            ErrorKind.ERROR_KIND_BAD_REQUEST,
            "provider",
        ),
    ],
)
async def test_bad_models_are_refused_with_a_reason(catalogs: tuple[Catalog, Catalog], make, kind, fragment) -> None:  # type: ignore[no-untyped-def]
    a, _ = catalogs
    with pytest.raises(CatalogError) as exc:
        await a.add(make(), "admin")
    assert exc.value.error.kind == kind and fragment in exc.value.error.message


async def test_duplicates_config_models_and_unknown_ids(catalogs: tuple[Catalog, Catalog]) -> None:
    a, _ = catalogs
    await a.add(entry("dup"), "admin")
    with pytest.raises(CatalogError, match="already exists"):
        await a.add(entry("dup"), "admin")
    with pytest.raises(CatalogError, match=r"config\.yaml"):
        await a.delete("cfg-1")
    with pytest.raises(CatalogError) as exc:
        await a.delete("never-was")
    assert exc.value.error.kind == ErrorKind.ERROR_KIND_NOT_FOUND
    with pytest.raises(CatalogError) as exc:
        await a.update(router_pb2.UpdateModelRequest(model=router_pb2.ModelEntry(id="never-was")))
    assert exc.value.error.kind == ErrorKind.ERROR_KIND_NOT_FOUND


async def test_config_model_info_never_shows_credentials(catalogs: tuple[Catalog, Catalog]) -> None:
    a, _ = catalogs
    model = a.registry.by_id["cfg-1"]
    e = a.entry(model, a.registry.groups["cfg"].candidates[0])
    assert b"sk-in-config" not in e.SerializeToString() and list(e.credential_params) == ["api_key"]


async def test_a_refused_model_is_not_stored_and_an_invalid_stored_row_is_skipped(
    catalogs: tuple[Catalog, Catalog],
) -> None:
    a, b = catalogs
    with pytest.raises(CatalogError):
        await a.add(entry("m-bad", timeout="slow"), "admin")
    await a.reload(force=True)
    assert "m-bad" not in a.registry.by_id
    # A row no current validation would accept (written by hand or by an older version): the
    # replicas skip it and keep serving and managing every other model.
    row = ModelRow("m-poison", "rt", {"model": "openai/rt", "timeout": "slow"}, {}, {}, 0, 0, "dba", "dba")
    await a._require_store().insert(row)
    await a.add(entry("m-10"), "admin")
    await wait_for(lambda: "m-10" in b.registry.by_id)
    assert "m-poison" not in a.registry.by_id and "m-poison" not in b.registry.by_id
    assert await a.delete("m-poison") is None  # deletable, though it cannot be shown
    await a.delete("m-10")


@pytest.mark.parametrize("spins", range(5))
async def test_follow_stops_when_cancelled_as_a_change_arrives(spins: int) -> None:
    # Shutdown cancels the follower; a change notification landing in the same loop iteration
    # must not swallow that cancellation (the router's stop() would wait for ever).
    catalog = Catalog(CONFIG, load_policy(CONFIG), None)
    task = asyncio.create_task(catalog.follow(30.0))
    await asyncio.sleep(0.01)
    catalog.notify()
    for _ in range(spins):
        await asyncio.sleep(0)
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=2.0)
    assert task in done and task.cancelled()


@pytest.mark.parametrize("store", ["none", "closed"])
async def test_management_without_a_store_fails_the_call(dsn: str, store: str) -> None:
    """switchyard/llm/v1/error.proto: a router without a database is not set up for runtime models
    (FAILED_PRECONDITION, saying why); one whose database does not answer is UNAVAILABLE. Neither
    is an answer in the response, nor an UNKNOWN status."""
    model_store = None
    if store == "closed":
        model_store = await ModelStore.connect(dsn)
        await model_store.close()
    catalog = Catalog(CONFIG, load_policy(CONFIG), model_store)
    servicer = RouterServicer(None, catalog, None, None, created=0)  # type: ignore[arg-type]
    service = GrpcService(
        host="127.0.0.1",
        port=0,
        service_names=[],
        register=lambda s: router_pb2_grpc.add_RouterServiceServicer_to_server(servicer, s),
    )
    await service.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{service.bound_port}")
    stub = router_pb2_grpc.RouterServiceStub(channel)
    calls = [
        stub.AddModel(router_pb2.AddModelRequest(model=entry("rt-down")), timeout=5),
        stub.UpdateModel(router_pb2.UpdateModelRequest(model=entry("rt-down")), timeout=5),
        stub.DeleteModel(router_pb2.DeleteModelRequest(id="rt-down"), timeout=5),
    ]
    want = grpc.StatusCode.FAILED_PRECONDITION if store == "none" else grpc.StatusCode.UNAVAILABLE
    try:
        for call in calls:
            with pytest.raises(grpc.aio.AioRpcError) as exc:
                await call
            assert exc.value.code() == want
            assert store == "closed" or "DATABASE_URL" in (exc.value.details() or "")
    finally:
        await channel.close()
        await service.stop()
