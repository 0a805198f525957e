"""pytest plugin: real PostgreSQL, Redis and Kafka for tests that need them, started once per
session on ports of their own (``.stack/unit``) and only when a test asks for one.

Fixtures: ``infra_cfg``, ``pg_dsn`` (a fresh database per test module), ``redis_url``,
``kafka_bootstrap``."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from devstack import infra

_started: set[str] = set()


@pytest.fixture(scope="session")
def infra_cfg() -> Iterator[infra.InfraConfig]:
    cfg = infra.InfraConfig(
        state_dir=infra.REPO_ROOT / ".stack" / "unit",
        cache_dir=infra.DEFAULT_CACHE_DIR,
        pg_port=25632,
        redis_port=26579,
        kafka_port=29292,
        kafka_controller_port=29293,
    )
    yield cfg
    if _started:
        infra.stop(cfg, [c for c in ("kafka", "redis", "postgres") if c in _started])


_seen: set[str] = set()


def _need(cfg: infra.InfraConfig, component: str) -> None:
    if component not in _seen:
        _seen.add(component)
        if not infra.status(cfg).get(component):
            infra.start(cfg, [component])
            _started.add(component)  # stopped at the end of the session; others' instances are left alone


@pytest.fixture(scope="module")
def pg_dsn(infra_cfg: infra.InfraConfig) -> Iterator[str]:
    """A new, empty database for the test module (dropped afterwards)."""
    import asyncio

    import asyncpg

    _need(infra_cfg, "postgres")
    base = infra.urls(infra_cfg)["DATABASE_URL"]
    name = f"t_{uuid.uuid4().hex[:12]}"

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(base)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    yield base.rsplit("/", 1)[0] + f"/{name}"
    asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def redis_url(infra_cfg: infra.InfraConfig) -> str:
    _need(infra_cfg, "redis")
    return infra.urls(infra_cfg)["REDIS_URL"]


@pytest.fixture(scope="session")
def kafka_bootstrap(infra_cfg: infra.InfraConfig) -> str:
    _need(infra_cfg, "kafka")
    return infra.urls(infra_cfg)["KAFKA_BOOTSTRAP_SERVERS"]
