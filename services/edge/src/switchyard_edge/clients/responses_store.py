"""Stored responses (``/v1/responses`` with ``store``), in the edge's own PostgreSQL schema
``responses``: the one place that reads and writes them, and every statement names the account,
so a response id of another tenant is simply not found.

The store is off the path of every other request: its pool opens no connection until a stored
response is read or written, and a database that is down only fails those (503). Each replica
sweeps expired responses now and then; an advisory lock lets one sweep at a time, and reads
already skip what has expired, so a late sweep never shows an expired response."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from pathlib import Path
from typing import Any

import asyncpg
import orjson

from switchyard_common.db import create_pool, migrate

log = logging.getLogger(__name__)

SCHEMA = "responses"
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# Rows one sweep statement deletes, so a large backlog never holds long locks.
_SWEEP_BATCH = 1000
_SWEEP_SECONDS = 120.0
# Seconds between attempts to apply the migrations while the database is unreachable at start.
_MIGRATE_RETRY_SECONDS = 5.0
_SWEEP_LOCK = int.from_bytes(hashlib.sha256(b"switchyard-edge:responses-sweep").digest()[:8], "big", signed=True)

# A response and the input it was made from, as stored: (its own input items, the Response object).
Stored = tuple[list[dict[str, Any]], dict[str, Any]]

_FAILURES = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)


class StoreUnavailable(Exception):
    """The database did not answer (in time): the stored-response operation fails with a 503."""


class ResponseStore:
    def __init__(
        self,
        dsn: str,
        *,
        retention_seconds: int,
        timeout: float,
        pool_max_size: int,
        sweep_seconds: float,
        migrate_on_start: bool,
    ) -> None:
        self._dsn = dsn
        self._retention = retention_seconds
        self._timeout = timeout
        self._pool_max_size = pool_max_size
        self._sweep_seconds = sweep_seconds
        self._migrate_on_start = migrate_on_start
        self._pool: asyncpg.Pool | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        # min_size=0: no connection until the first stored response, so the edge starts (and
        # serves everything else) while PostgreSQL is unreachable.
        self._pool = await create_pool(
            self._dsn, schema=SCHEMA, min_size=0, max_size=self._pool_max_size, command_timeout=self._timeout
        )
        self._task = asyncio.get_running_loop().create_task(self._run(), name="responses-store")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._pool is not None:
            await self._pool.close()

    async def _run(self) -> None:
        if self._migrate_on_start:
            while True:
                try:
                    await migrate(self._dsn, schema=SCHEMA, migrations_dir=MIGRATIONS)
                    break
                except _FAILURES as exc:
                    log.warning("responses store: migrations not applied yet", extra={"error": repr(exc)})
                    await asyncio.sleep(_MIGRATE_RETRY_SECONDS)
        while True:
            try:
                deleted = await self.sweep()
                if deleted:
                    log.info("responses store: expired responses deleted", extra={"deleted": deleted})
            except StoreUnavailable as exc:
                log.warning("responses store: sweep failed", extra={"error": repr(exc.__cause__)})
            await asyncio.sleep(self._sweep_seconds)

    async def _do(self, fn: Any, timeout: float | None = None) -> Any:
        assert self._pool is not None, "start() first"
        try:
            async with asyncio.timeout(timeout or self._timeout):
                async with self._pool.acquire() as conn:
                    return await fn(conn)
        except _FAILURES as exc:
            raise StoreUnavailable(str(exc)) from exc

    # --- the account's responses ------------------------------------------------------------------
    async def save(
        self,
        account_id: str,
        rid: str,
        *,
        key_hash: str,
        previous_response_id: str | None,
        input_items: list[dict[str, Any]],
        response: dict[str, Any],
    ) -> None:
        async def run(conn: asyncpg.Connection) -> None:
            await conn.execute(
                "INSERT INTO stored_responses (account_id, id, key_hash, previous_response_id, expires_at,"
                " input_items, response) VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5), $6, $7)",
                account_id,
                rid,
                key_hash,
                previous_response_id,
                float(self._retention),
                orjson.dumps(input_items),
                orjson.dumps(response),
            )

        await self._do(run)

    async def get(self, account_id: str, rid: str) -> Stored | None:
        async def run(conn: asyncpg.Connection) -> Stored | None:
            row = await conn.fetchrow(
                "SELECT input_items, response FROM stored_responses"
                " WHERE account_id = $1 AND id = $2 AND expires_at > now()",
                account_id,
                rid,
            )
            return None if row is None else (orjson.loads(row["input_items"]), orjson.loads(row["response"]))

        result: Stored | None = await self._do(run)
        return result

    async def chain(self, account_id: str, rid: str, max_depth: int) -> list[Stored]:
        """The response ``rid`` and those it continues (its previous_response_id, and so on),
        oldest first; empty when ``rid`` is not stored. A response deleted or expired on the way
        ends the chain there: what it held is gone."""

        async def run(conn: asyncpg.Connection) -> list[Stored]:
            rows = await conn.fetch(
                "WITH RECURSIVE chain (id, previous_response_id, input_items, response, depth) AS ("
                " SELECT id, previous_response_id, input_items, response, 0 FROM stored_responses"
                "  WHERE account_id = $1 AND id = $2 AND expires_at > now()"
                " UNION ALL"
                " SELECT r.id, r.previous_response_id, r.input_items, r.response, c.depth + 1"
                "  FROM chain c JOIN stored_responses r ON r.account_id = $1 AND r.id = c.previous_response_id"
                "  WHERE r.expires_at > now() AND c.depth < $3)"
                " SELECT input_items, response FROM chain ORDER BY depth DESC",
                account_id,
                rid,
                max_depth,
            )
            return [(orjson.loads(r["input_items"]), orjson.loads(r["response"])) for r in rows]

        result: list[Stored] = await self._do(run)
        return result

    async def delete(self, account_id: str, rid: str) -> bool:
        async def run(conn: asyncpg.Connection) -> bool:
            status = await conn.execute(
                "DELETE FROM stored_responses WHERE account_id = $1 AND id = $2 AND expires_at > now()",
                account_id,
                rid,
            )
            return bool(status != "DELETE 0")

        result: bool = await self._do(run)
        return result

    # --- retention --------------------------------------------------------------------------------
    async def sweep(self) -> int:
        """Delete what has expired, unless another replica is sweeping now; how many rows."""

        async def run(conn: asyncpg.Connection) -> int:
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", _SWEEP_LOCK):
                return 0
            deleted = 0
            try:
                while True:
                    status = await conn.execute(
                        "DELETE FROM stored_responses WHERE ctid IN (SELECT ctid FROM stored_responses"
                        " WHERE expires_at <= now() LIMIT $1)",
                        _SWEEP_BATCH,
                    )
                    n = int(status.rsplit(" ", 1)[-1])
                    deleted += n
                    if n < _SWEEP_BATCH:
                        return deleted
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", _SWEEP_LOCK)

        # A backlog takes several statements, each within the pool's command timeout.
        result: int = await self._do(run, _SWEEP_SECONDS)
        return result
