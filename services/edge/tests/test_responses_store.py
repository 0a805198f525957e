"""Stored responses on a real PostgreSQL: chains per account (another account's id is not found,
whatever it asks), retention, and a sweep that one replica runs at a time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from switchyard_edge.clients.responses_store import _SWEEP_LOCK, ResponseStore, StoreUnavailable


def _store(dsn: str, retention: int = 3600) -> ResponseStore:
    return ResponseStore(
        dsn, retention_seconds=retention, timeout=5, pool_max_size=4, sweep_seconds=3600, migrate_on_start=True
    )


async def _ready(store: ResponseStore) -> ResponseStore:
    await store.start()
    # The migrations run in the background at start; the first write waits until they are in.
    async with asyncio.timeout(30):
        while True:
            try:
                await store.get("probe", "probe")
                return store
            except StoreUnavailable:
                await asyncio.sleep(0.05)


@pytest.fixture
async def store(pg_dsn: str) -> AsyncIterator[ResponseStore]:
    s = await _ready(_store(pg_dsn))
    yield s
    await s.stop()


def _response(rid: str, text: str) -> dict[str, Any]:
    return {"id": rid, "object": "response", "output": [{"type": "message", "id": f"out-{rid}", "text": text}]}


async def _save(store: ResponseStore, account: str, rid: str, previous: str | None = None) -> None:
    await store.save(
        account,
        rid,
        key_hash="k",
        previous_response_id=previous,
        input_items=[{"type": "message", "id": f"in-{rid}"}],
        response=_response(rid, rid),
    )


async def test_a_chain_comes_back_oldest_first_and_only_in_its_account(store: ResponseStore) -> None:
    await _save(store, "acct-a", "r1")
    await _save(store, "acct-a", "r2", previous="r1")
    await _save(store, "acct-a", "r3", previous="r2")
    chain = await store.chain("acct-a", "r3", max_depth=100)
    assert [resp["id"] for _, resp in chain] == ["r1", "r2", "r3"]
    assert [items[0]["id"] for items, _ in chain] == ["in-r1", "in-r2", "in-r3"]
    assert [resp["id"] for _, resp in await store.chain("acct-a", "r3", max_depth=1)] == ["r2", "r3"]
    # Another account neither sees the response nor reaches into the chain, nor deletes it.
    assert await store.get("acct-b", "r3") is None
    assert await store.chain("acct-b", "r3", max_depth=100) == []
    assert not await store.delete("acct-b", "r3")
    await _save(store, "acct-b", "r4", previous="r3")
    assert [resp["id"] for _, resp in await store.chain("acct-b", "r4", max_depth=100)] == ["r4"]
    stored = await store.get("acct-a", "r3")
    assert stored is not None and stored[1]["output"][0]["text"] == "r3"


async def test_a_deleted_response_ends_the_chain_there(store: ResponseStore) -> None:
    await _save(store, "acct-d", "d1")
    await _save(store, "acct-d", "d2", previous="d1")
    assert await store.delete("acct-d", "d1")
    assert not await store.delete("acct-d", "d1")
    assert [resp["id"] for _, resp in await store.chain("acct-d", "d2", max_depth=100)] == ["d2"]


async def test_expired_responses_are_gone_at_once_and_swept_by_one_replica(pg_dsn: str, store: ResponseStore) -> None:
    short = await _ready(_store(pg_dsn, retention=1))
    other = await _ready(_store(pg_dsn, retention=1))
    try:
        await _save(short, "acct-e", "e1")
        await _save(store, "acct-e", "kept")
        assert await short.get("acct-e", "e1") is not None
        async with asyncio.timeout(10):
            while await short.get("acct-e", "e1") is not None:
                await asyncio.sleep(0.05)
        assert await store.chain("acct-e", "e1", max_depth=10) == []
        # Expired rows stay until a sweep; while one replica sweeps (holds the lock), others skip.
        conn = await asyncpg.connect(pg_dsn)
        try:
            count = "SELECT count(*) FROM responses.stored_responses WHERE account_id = 'acct-e'"
            assert await conn.fetchval(count) == 2
            await conn.execute("SELECT pg_advisory_lock($1)", _SWEEP_LOCK)
            assert await asyncio.gather(short.sweep(), other.sweep()) == [0, 0]
            assert await conn.fetchval(count) == 2
            await conn.execute("SELECT pg_advisory_unlock($1)", _SWEEP_LOCK)
            assert sorted(await asyncio.gather(short.sweep(), other.sweep())) == [0, 1]
            assert await conn.fetchval(count) == 1
        finally:
            await conn.close()
        assert await store.get("acct-e", "kept") is not None
    finally:
        await short.stop()
        await other.stop()


async def test_a_database_that_is_down_fails_only_the_stored_response_calls() -> None:
    down = _store("postgresql://nobody:nothing@127.0.0.1:1/none")
    await down.start()  # the edge starts (and serves everything else) all the same
    try:
        with pytest.raises(StoreUnavailable):
            await down.get("acct", "r")
    finally:
        await down.stop()
