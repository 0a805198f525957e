"""Wires the auth service: migrations, pool, Kafka producer, gRPC server."""

from __future__ import annotations

import socket
from pathlib import Path

from switchyard.auth.v1 import auth_pb2, auth_pb2_grpc
from switchyard_auth.clients.repository import Repository
from switchyard_auth.config import Settings
from switchyard_auth.handlers.auth import AuthServicer
from switchyard_common.db import create_pool, migrate
from switchyard_common.grpc_server import GrpcService, run_until_signalled
from switchyard_common.kafka import EventProducer
from switchyard_common.tracing import traced_servicer

SERVICE_NAME = auth_pb2.DESCRIPTOR.services_by_name["AuthService"].full_name
SCHEMA = "auth"
MIGRATIONS = Path(__file__).parent / "migrations"


async def run_migrations(settings: Settings) -> None:
    await migrate(settings.database_url.get_secret_value(), schema=SCHEMA, migrations_dir=MIGRATIONS)


async def serve(settings: Settings) -> None:
    master = settings.master_key.get_secret_value()
    if not master.startswith("sk-"):
        raise SystemExit("auth: MASTER_KEY must start with 'sk-'")
    if settings.migrate_on_start:
        await run_migrations(settings)
    dsn = settings.database_url.get_secret_value()
    pool = await create_pool(dsn, schema=SCHEMA, max_size=settings.database_pool_max_size)
    repo = Repository(pool)
    await repo.ensure_account(settings.default_account_id)
    kafka = settings.kafka()
    topic = kafka.topic("identity")
    producer = EventProducer(
        kafka,
        client_id="auth",
        topics=[topic],
        spool_dir=Path(settings.event_spool_dir) / "auth",
        spool_instance=socket.gethostname(),
    )
    servicer = AuthServicer(
        repo,
        producer,
        master_key=master,
        default_account=settings.default_account_id,
        cache_ttl=settings.principal_cache_ttl_seconds,
        identity_topic=topic,
    )
    service = GrpcService(
        host=settings.bind_host,
        port=settings.grpc_port,
        register=lambda server: auth_pb2_grpc.add_AuthServiceServicer_to_server(traced_servicer(servicer), server),
        service_names=[SERVICE_NAME],
        grace_seconds=settings.shutdown_grace_seconds,
        tls=settings.grpc_tls(),
        health_port=settings.grpc_health_port,
    )
    await run_until_signalled(service, on_start=[producer.start], on_stop=[producer.stop, pool.close])
