"""Runtime deployments in PostgreSQL (schema ``router``), and the change feed that keeps every
replica current: each change bumps ``registry_version`` and NOTIFYs ``switchyard_router_models``
in the same transaction; replicas LISTEN for it and also poll the version every second in case
a notification is lost (connection dropped, replica starting)."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg

from switchyard_common.db import create_pool

log = logging.getLogger(__name__)

SCHEMA = "router"
CHANNEL = "switchyard_router_models"


# What a store that does not answer raises (the call fails with UNAVAILABLE).
STORE_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)


class DuplicateModel(Exception):
    pass


@dataclass(frozen=True)
class ModelRow:
    id: str
    model_name: str
    litellm_params: dict[str, Any]
    model_info: dict[str, Any]
    sealed: dict[str, bytes]
    created_at: float
    updated_at: float
    created_by: str
    updated_by: str


def _row(r: asyncpg.Record) -> ModelRow:
    sealed = {k: base64.b64decode(v) for k, v in (r["sealed_credentials"] or {}).items()}
    return ModelRow(
        id=r["id"],
        model_name=r["model_name"],
        litellm_params=dict(r["litellm_params"] or {}),
        model_info=dict(r["model_info"] or {}),
        sealed=sealed,
        created_at=r["created_at"].timestamp(),
        updated_at=r["updated_at"].timestamp(),
        created_by=r["created_by"],
        updated_by=r["updated_by"],
    )


def _sealed_json(sealed: Mapping[str, bytes]) -> dict[str, str]:
    return {k: base64.b64encode(v).decode() for k, v in sealed.items()}


class ModelStore:
    def __init__(self, pool: asyncpg.Pool, dsn: str) -> None:
        self._pool = pool
        self._dsn = dsn
        self._listener: asyncpg.Connection | None = None

    @classmethod
    async def connect(cls, dsn: str, *, max_size: int = 5) -> ModelStore:
        pool = await create_pool(dsn, schema=SCHEMA, max_size=max_size)
        return cls(pool, dsn)

    async def close(self) -> None:
        if self._listener is not None and not self._listener.is_closed():
            await self._listener.close()
        await self._pool.close()

    async def version(self) -> int:
        v = await self._pool.fetchval("SELECT version FROM registry_version")
        return int(v)

    async def load(self) -> tuple[int, list[ModelRow]]:
        async with self._pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            v = await conn.fetchval("SELECT version FROM registry_version")
            rows = await conn.fetch("SELECT * FROM deployments ORDER BY created_at, id")
        return int(v), [_row(r) for r in rows]

    async def get(self, model_id: str) -> ModelRow | None:
        r = await self._pool.fetchrow("SELECT * FROM deployments WHERE id = $1", model_id)
        return _row(r) if r is not None else None

    @staticmethod
    async def _bump(conn: Any) -> None:
        v = await conn.fetchval("UPDATE registry_version SET version = version + 1 RETURNING version")
        await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, str(v))

    async def insert(self, row: ModelRow) -> ModelRow:
        async with self._pool.acquire() as conn, conn.transaction():
            try:
                r = await conn.fetchrow(
                    "INSERT INTO deployments (id, model_name, litellm_params, model_info, sealed_credentials,"
                    " created_by, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING *",
                    row.id,
                    row.model_name,
                    row.litellm_params,
                    row.model_info,
                    _sealed_json(row.sealed),
                    row.created_by,
                )
            except asyncpg.UniqueViolationError:
                raise DuplicateModel(row.id) from None
            await self._bump(conn)
        assert r is not None
        return _row(r)

    async def update(
        self, model_id: str, change: Callable[[ModelRow], Awaitable[ModelRow] | ModelRow]
    ) -> ModelRow | None:
        """Read-modify-write of one deployment under a row lock."""
        async with self._pool.acquire() as conn, conn.transaction():
            r = await conn.fetchrow("SELECT * FROM deployments WHERE id = $1 FOR UPDATE", model_id)
            if r is None:
                return None
            new = change(_row(r))
            if asyncio.iscoroutine(new):
                new = await new
            assert isinstance(new, ModelRow)
            r = await conn.fetchrow(
                "UPDATE deployments SET model_name = $2, litellm_params = $3, model_info = $4,"
                " sealed_credentials = $5, updated_at = now(), updated_by = $6 WHERE id = $1 RETURNING *",
                model_id,
                new.model_name,
                new.litellm_params,
                new.model_info,
                _sealed_json(new.sealed),
                new.updated_by,
            )
            await self._bump(conn)
        assert r is not None
        return _row(r)

    async def delete(self, model_id: str) -> ModelRow | None:
        async with self._pool.acquire() as conn, conn.transaction():
            r = await conn.fetchrow("DELETE FROM deployments WHERE id = $1 RETURNING *", model_id)
            if r is None:
                return None
            await self._bump(conn)
        return _row(r)

    async def listen(self, on_change: Callable[[], None]) -> None:
        """Call ``on_change`` on every NOTIFY; reconnects until cancelled."""
        while True:
            try:
                conn = await asyncpg.connect(self._dsn, timeout=5.0)
            except (OSError, asyncpg.PostgresError, TimeoutError):
                await asyncio.sleep(1.0)
                continue
            self._listener = conn
            lost = asyncio.Event()
            conn.add_termination_listener(lambda _c, ev=lost: ev.set())
            try:
                await conn.add_listener(CHANNEL, lambda *_: on_change())
                on_change()  # changes made while we were not listening
                while not lost.is_set():
                    try:
                        async with asyncio.timeout(10.0):
                            await lost.wait()
                    except TimeoutError:
                        # A connection that died silently only shows itself when used.
                        await conn.fetchval("SELECT 1", timeout=2.0)
            except (OSError, asyncpg.PostgresError, TimeoutError):
                pass
            finally:
                if not conn.is_closed():
                    await conn.close()
            await asyncio.sleep(0.5)
