"""PostgreSQL: an asyncpg pool bound to the service's own schema, and a migration runner.

Each service owns one schema; its migrations are ``NNN_name.sql`` files applied in order, each
in its own transaction, recorded in ``<schema>.schema_migrations``. A PostgreSQL advisory lock
makes concurrent runners (replicas, the Helm hook Job) apply each file exactly once."""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path

import asyncpg
import orjson

log = logging.getLogger(__name__)

_SCHEMA_RE = re.compile(r"^[a-z_][a-z0-9_]*$")


def _check_schema(schema: str) -> str:
    if not _SCHEMA_RE.match(schema):
        raise ValueError(f"invalid schema name {schema!r}")
    return schema


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typ in ("json", "jsonb"):
        await conn.set_type_codec(
            typ, schema="pg_catalog", encoder=lambda v: orjson.dumps(v).decode(), decoder=orjson.loads, format="text"
        )


async def create_pool(
    dsn: str,
    *,
    schema: str,
    min_size: int = 1,
    max_size: int = 10,
    command_timeout: float = 5.0,
    connect_timeout: float = 5.0,
) -> asyncpg.Pool:
    """A bounded pool whose connections see the service's schema first on the search path."""
    _check_schema(schema)
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        command_timeout=command_timeout,
        timeout=connect_timeout,
        max_inactive_connection_lifetime=300,
        server_settings={"search_path": f"{schema},public", "application_name": f"switchyard-{schema}"},
        init=_init_connection,
    )
    assert pool is not None
    return pool


def _lock_id(schema: str) -> int:
    return int.from_bytes(hashlib.sha256(f"switchyard-migrate:{schema}".encode()).digest()[:8], "big", signed=True)


async def migrate(dsn: str, *, schema: str, migrations_dir: Path, timeout: float = 60.0) -> list[str]:
    """Apply pending migrations; returns the versions applied now."""
    _check_schema(schema)
    files = sorted(p for p in migrations_dir.glob("*.sql") if re.match(r"^\d+_", p.name))
    conn: asyncpg.Connection = await asyncpg.connect(dsn, timeout=timeout)
    applied_now: list[str] = []
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", _lock_id(schema))
        try:
            await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            await conn.execute(
                f'CREATE TABLE IF NOT EXISTS "{schema}".schema_migrations ('
                " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r["version"] for r in await conn.fetch(f'SELECT version FROM "{schema}".schema_migrations')}
            for path in files:
                version = path.stem
                if version in done:
                    continue
                sql = path.read_text()
                async with conn.transaction():
                    await conn.execute(f'SET LOCAL search_path TO "{schema}", public')
                    await conn.execute(sql)
                    await conn.execute(f'INSERT INTO "{schema}".schema_migrations (version) VALUES ($1)', version)
                applied_now.append(version)
                log.info("migration applied", extra={"schema": schema, "version": version})
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _lock_id(schema))
    finally:
        await conn.close()
    return applied_now


def transient_error(exc: Exception) -> bool:
    """Whether a failure lies with the database rather than with the values sent to it: lost or
    refused connections, timeouts, lack of resources, conflicts, shutdowns, and also our own
    statements failing (a schema not migrated yet), which a fix or a rollout ends. Only data
    exceptions (SQLSTATE class 22, e.g. a NUL character in text) and integrity violations (23)
    are the values' fault. A Kafka consumer retries the former for as long as they last and sets
    a record that causes the latter aside."""
    if isinstance(exc, asyncpg.PostgresError):
        return (exc.sqlstate or "")[:2] not in ("22", "23")
    return isinstance(exc, OSError | asyncpg.InterfaceError)
