"""Wires copilot-budget: migrations, pool, Redis, consumers, reservation sweeper, gRPC server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from pathlib import Path

import asyncpg
from redis.exceptions import RedisError

from switchyard.budget.v1 import budget_pb2, budget_pb2_grpc
from switchyard_common.db import create_pool, migrate, transient_error
from switchyard_common.grpc_server import GrpcService, run_until_signalled
from switchyard_common.kafka import EventConsumer, EventProducer
from switchyard_common.redis_client import create_redis
from switchyard_common.tracing import traced_servicer
from switchyard_copilot_budget.clients.ledger import Ledger
from switchyard_copilot_budget.clients.reservations import Reservations
from switchyard_copilot_budget.config import Settings
from switchyard_copilot_budget.consumers import IdentityHandler, UsageHandler
from switchyard_copilot_budget.handlers.budget import BudgetServicer

log = logging.getLogger(__name__)

SERVICE_NAME = budget_pb2.DESCRIPTOR.services_by_name["BudgetService"].full_name
SCHEMA = "budget"
MIGRATIONS = Path(__file__).parent / "migrations"


async def run_migrations(settings: Settings) -> None:
    await migrate(settings.database_url.get_secret_value(), schema=SCHEMA, migrations_dir=MIGRATIONS)


async def _sweep(reservations: Reservations, reset_every: float) -> None:
    """Release reservations whose settlement never came (every second) and start new budget
    windows (every ``reset_every`` seconds)."""
    loop = asyncio.get_running_loop()
    next_reset = loop.time()
    while True:
        try:
            await reservations.expire_due()
        except (RedisError, OSError, TimeoutError):
            log.debug("reservation sweep skipped: Redis unreachable")
        except Exception:
            log.exception("reservation sweep failed; retried next round")
        if loop.time() >= next_reset:
            next_reset = loop.time() + reset_every
            try:
                await reservations.reset_windows()
            except (RedisError, asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError):
                log.warning("budget window reset skipped: store unreachable; retried next round", exc_info=True)
            except Exception:
                log.exception("budget window reset failed; retried next round")
        await asyncio.sleep(1.0)


async def serve(settings: Settings) -> None:
    if settings.migrate_on_start:
        await run_migrations(settings)
    pool = await create_pool(
        settings.database_url.get_secret_value(), schema=SCHEMA, max_size=settings.database_pool_max_size
    )
    redis = create_redis(
        settings.redis_url.get_secret_value(),
        socket_timeout=settings.redis_socket_timeout_seconds,
        max_connections=settings.redis_max_connections,
    )
    ledger = Ledger(pool)
    reservations = Reservations(
        redis,
        ledger,
        scope_ttl=settings.scope_cache_seconds,
        lease_fraction=settings.lease_fraction,
    )
    kafka = settings.kafka()
    # Carries the dead letters of events the consumers cannot apply.
    dead_letters = EventProducer(
        kafka,
        client_id="copilot-budget",
        spool_dir=Path(settings.event_spool_dir) / "copilot-budget",
        spool_instance=socket.gethostname(),
    )
    usage = EventConsumer(
        kafka,
        group_id="copilot-budget.usage",
        topics=[kafka.topic("usage")],
        batch_handler=UsageHandler(ledger, reservations),
        client_id="copilot-budget",
        dead_letters=dead_letters,
        transient=transient_error,
    )
    identity_topic = kafka.topic("identity")
    identity = EventConsumer(
        kafka,
        group_id="copilot-budget.identity",
        topics=[identity_topic],
        handler=IdentityHandler(ledger, reservations, identity_topic),
        client_id="copilot-budget",
        dead_letters=dead_letters,
        transient=transient_error,
    )
    servicer = BudgetServicer(ledger, reservations, max_ttl=settings.max_reservation_ttl_seconds)
    service = GrpcService(
        host=settings.bind_host,
        port=settings.grpc_port,
        register=lambda server: budget_pb2_grpc.add_BudgetServiceServicer_to_server(traced_servicer(servicer), server),
        service_names=[SERVICE_NAME],
        grace_seconds=settings.shutdown_grace_seconds,
        tls=settings.grpc_tls(),
        health_port=settings.grpc_health_port,
    )
    sweeper: asyncio.Task[None] | None = None

    async def start_background() -> None:
        nonlocal sweeper
        await dead_letters.start()
        await usage.start()
        await identity.start()
        sweeper = asyncio.get_running_loop().create_task(_sweep(reservations, settings.budget_reset_check_seconds))

    async def stop_background() -> None:
        if sweeper:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
        await usage.stop()
        await identity.stop()
        await dead_letters.stop(timeout=settings.shutdown_grace_seconds)
        await redis.aclose()
        await pool.close()

    await run_until_signalled(service, on_start=[start_background], on_stop=[stop_background])
