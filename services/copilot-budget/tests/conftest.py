"""The ledger and reservations on a fresh PostgreSQL database and the test Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from switchyard_common.db import create_pool, migrate
from switchyard_common.redis_client import create_redis
from switchyard_copilot_budget.clients.ledger import Ledger
from switchyard_copilot_budget.clients.reservations import Reservations
from switchyard_copilot_budget.server import MIGRATIONS, SCHEMA


@pytest.fixture
async def parts(pg_dsn: str, redis_url: str) -> AsyncIterator[tuple[Ledger, Reservations]]:
    await migrate(pg_dsn, schema=SCHEMA, migrations_dir=MIGRATIONS)
    pool = await create_pool(pg_dsn, schema=SCHEMA)
    # Generous timeouts: the machine running tests may be busy; production keeps the short defaults.
    redis = create_redis(redis_url, socket_timeout=5, connect_timeout=5, pool_timeout=5)
    ledger = Ledger(pool)
    try:
        yield ledger, Reservations(redis, ledger, scope_ttl=300)
    finally:
        await redis.aclose()
        await pool.close()
