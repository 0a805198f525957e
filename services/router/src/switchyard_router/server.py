"""Wires the router: config, runtime models (PostgreSQL), shared routing state (Redis),
planner, health checks and the gRPC server."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from switchyard.router.v1 import router_pb2, router_pb2_grpc
from switchyard_common.db import migrate
from switchyard_common.grpc_client import channel
from switchyard_common.grpc_server import GrpcService, run_until_signalled
from switchyard_common.redis_client import create_redis
from switchyard_common.tracing import traced_servicer
from switchyard_llm.model_config import load_config
from switchyard_router.catalog import Catalog
from switchyard_router.clients.health_check import HealthChecker
from switchyard_router.clients.state import SharedState
from switchyard_router.clients.store import SCHEMA, ModelStore
from switchyard_router.config import Settings
from switchyard_router.domain.cooldown import Cooldowns
from switchyard_router.domain.generation import Generation
from switchyard_router.domain.health import HealthBook
from switchyard_router.domain.planner import Planner
from switchyard_router.domain.policy import load_policy
from switchyard_router.domain.registry import Registry
from switchyard_router.domain.strategies import LatencySample
from switchyard_router.handlers.router import RouterServicer

log = logging.getLogger(__name__)

SERVICE_NAME = router_pb2.DESCRIPTOR.services_by_name["RouterService"].full_name
MIGRATIONS = Path(__file__).parent / "migrations"


async def run_migrations(settings: Settings) -> None:
    await migrate(settings.database_url.get_secret_value(), schema=SCHEMA, migrations_dir=MIGRATIONS)


@dataclass
class Router:
    """The router's parts, started and stopped together."""

    service: GrpcService
    servicer: RouterServicer
    planner: Planner
    state: SharedState
    catalog: Catalog
    start: Callable[[], Awaitable[None]]
    stop: Callable[[], Awaitable[None]]


async def build(settings: Settings) -> Router:
    config = load_config(settings.config_path)
    if config.warnings:
        log.warning("config: %d setting(s) not applied: %s", len(config.warnings), "; ".join(config.warnings))
    policy = load_policy(config)
    dsn = settings.database_url.get_secret_value()
    if settings.migrate_on_start:
        await run_migrations(settings)
    store = await ModelStore.connect(dsn, max_size=settings.database_pool_max_size)
    redis = create_redis(
        settings.redis_url.get_secret_value(),
        socket_timeout=settings.redis_socket_timeout_seconds,
        connect_timeout=settings.redis_socket_timeout_seconds,
        max_connections=settings.redis_max_connections,
    )
    generation = Generation()
    cooldowns, health = Cooldowns(on_start=generation.bump), HealthBook(on_flip=generation.bump)
    latency: dict[str, LatencySample] = {}
    state = SharedState(
        redis,
        prefix=settings.redis_key_prefix,
        cooldowns=cooldowns,
        health=health,
        latency=latency,
        call_timeout=settings.redis_socket_timeout_seconds + 0.05,
        open_seconds=settings.redis_retry_seconds,
        sync_seconds=settings.state_sync_seconds,
    )
    planner_ref: list[Planner] = []

    def on_registry(registry: Registry) -> None:
        planner_ref[0].registry = registry
        generation.bump()

    catalog = Catalog(config, policy, store, on_registry=on_registry)
    planner = Planner(
        policy, catalog.registry, cooldowns, health=health, latency=latency, plan_cache_ms=settings.plan_cache_ms
    )
    planner_ref.append(planner)
    await catalog.reload(force=True)
    provider = channel(settings.provider_adapter_addr, settings.grpc_tls())
    checker = HealthChecker(
        provider,
        state,
        lambda: planner.registry.all_candidates(),  # noqa: PLW0108 - the registry is swapped at runtime
        timeout=policy.health_check_timeout,
        interval=policy.health_check_interval,
    )
    servicer = RouterServicer(planner, catalog, state, checker, created=int(time.time()), generation=generation)
    service = GrpcService(
        host=settings.bind_host,
        port=settings.grpc_port,
        register=lambda server: router_pb2_grpc.add_RouterServiceServicer_to_server(traced_servicer(servicer), server),
        service_names=[SERVICE_NAME],
        grace_seconds=settings.shutdown_grace_seconds,
        tls=settings.grpc_tls(),
        health_port=settings.grpc_health_port,
    )
    tasks: list[asyncio.Task[None]] = []

    async def start() -> None:
        # One pool connection stays with the pub/sub listener.
        await state.warm_up(settings.redis_max_connections - 1)
        await state.sync()
        state.start()
        loop = asyncio.get_running_loop()
        tasks.append(loop.create_task(catalog.follow(settings.registry_poll_seconds), name="registry-follow"))
        tasks.append(loop.create_task(store.listen(catalog.notify), name="registry-listen"))
        if policy.background_health_checks:
            tasks.append(loop.create_task(checker.run(), name="health-checks"))
        log.info(
            "router ready",
            extra={
                "model_groups": len(planner.registry.groups),
                "deployments": len(planner.registry.by_id),
                "strategy": policy.strategy,
            },
        )

    async def stop() -> None:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await state.stop()
        await provider.close()
        await store.close()
        await redis.aclose()

    return Router(service, servicer, planner, state, catalog, start, stop)


async def serve(settings: Settings) -> None:
    router = await build(settings)
    await run_until_signalled(router.service, on_start=[router.start], on_stop=[router.stop])
