"""Runs the edge: the HTTP API (uvicorn) and the gRPC Gateway API in one event loop, with the
Kafka producer, the identity-event reader, the outcome reporter and the stored responses beside
them."""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path
from typing import Any

import uvicorn
from google.protobuf.message import DecodeError

from switchyard.events.v1.identity_pb2 import IdentityEvent
from switchyard.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from switchyard_common.aio import BackgroundTasks
from switchyard_common.db import migrate
from switchyard_common.grpc_server import GrpcService
from switchyard_common.kafka import EventConsumer, EventProducer
from switchyard_common.redis_client import create_redis
from switchyard_common.tracing import traced_servicer
from switchyard_edge.app import Edge, create_app
from switchyard_edge.clients.adapter import AdapterClient
from switchyard_edge.clients.budget_leases import BudgetLeases
from switchyard_edge.clients.events import OutcomeReporter, UsagePublisher
from switchyard_edge.clients.guardrail import GuardrailClient
from switchyard_edge.clients.identity import IdentityClient
from switchyard_edge.clients.key_limits import KeyLimiter
from switchyard_edge.clients.model_registry import ModelRegistry
from switchyard_edge.clients.peers import Peers
from switchyard_edge.clients.principals import Principals
from switchyard_edge.clients.responses_store import MIGRATIONS, SCHEMA, ResponseStore
from switchyard_edge.clients.router import RouterClient
from switchyard_edge.clients.routing_watch import RoutingWatch
from switchyard_edge.clients.sessions import SessionsClient
from switchyard_edge.clients.spend import SpendClient
from switchyard_edge.config import Settings
from switchyard_edge.domain.plan_cache import PlanCache
from switchyard_edge.gateway import Gateway
from switchyard_edge.handlers.grpc_gateway import GatewayServicer

log = logging.getLogger(__name__)

SERVICE_NAME = gateway_pb2.DESCRIPTOR.services_by_name["GatewayService"].full_name
PEER_WAIT_SECONDS = 10.0


async def run_migrations(settings: Settings) -> None:
    await migrate(settings.database_url.get_secret_value(), schema=SCHEMA, migrations_dir=MIGRATIONS)


async def serve(settings: Settings) -> None:
    peers = Peers.connect(settings)
    kafka = settings.kafka()
    usage_topic, identity_topic = kafka.topic("usage"), kafka.topic("identity")
    producer = EventProducer(
        kafka,
        client_id="edge",
        topics=[usage_topic],
        spool_dir=Path(settings.event_spool_dir) / "edge",
        spool_instance=socket.gethostname(),
    )
    principals = Principals(
        peers, timeout=settings.auth_timeout_seconds, negative_ttl=settings.negative_auth_cache_seconds
    )
    outcomes = OutcomeReporter(peers)
    background = BackgroundTasks()
    plans = PlanCache()
    routing = RoutingWatch(peers, plans)
    leases = BudgetLeases(peers, background, timeout=settings.budget_timeout_seconds)
    redis = create_redis(
        settings.redis_url.get_secret_value(),
        socket_timeout=settings.redis_socket_timeout_seconds,
        connect_timeout=settings.redis_socket_timeout_seconds,
        max_connections=settings.redis_max_connections,
    )
    key_limits = KeyLimiter(redis, background)

    async def on_identity(record: Any) -> None:
        await principals.on_identity_event(record)
        try:
            event = IdentityEvent.FromString(record.value or b"")
        except DecodeError:
            return
        if event.key_hash:
            leases.retire_for_key(event.key_id or event.key_hash)

    identity = EventConsumer(kafka, group_id=None, topics=[identity_topic], handler=on_identity, client_id="edge")

    gateway = Gateway(
        settings,
        principals,
        RouterClient(peers, settings, plans, routing, outcomes),
        GuardrailClient(peers, settings),
        AdapterClient(peers.adapter),
        UsagePublisher(producer, usage_topic),
        leases,
        key_limits,
    )
    responses = ResponseStore(
        settings.database_url.get_secret_value(),
        retention_seconds=settings.responses_retention_seconds(),
        timeout=settings.responses_store_timeout_seconds,
        pool_max_size=settings.database_pool_max_size,
        sweep_seconds=settings.responses_sweep_seconds,
        migrate_on_start=settings.migrate_on_start,
    )
    edge = Edge(
        settings,
        gateway,
        IdentityClient(peers, principals),
        SpendClient(peers),
        ModelRegistry(peers),
        responses,
        SessionsClient(peers, principals),
    )
    started = asyncio.Event()
    app = create_app(edge, ready=started.is_set)
    grpc_service = GrpcService(
        host=settings.bind_host,
        port=settings.grpc_port,
        register=lambda server: gateway_pb2_grpc.add_GatewayServiceServicer_to_server(
            traced_servicer(GatewayServicer(gateway)), server
        ),
        service_names=[SERVICE_NAME],
        grace_seconds=settings.shutdown_grace_seconds,
    )
    config = uvicorn.Config(
        app,
        host=settings.bind_host,
        port=settings.http_port,
        loop="none",
        http="httptools",
        lifespan="off",
        access_log=False,
        log_config=None,
        # Client addresses are not used; X-Forwarded-* rewriting would only cost time.
        proxy_headers=False,
        server_header=False,
        timeout_keep_alive=75,
        backlog=4096,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
    )
    http = uvicorn.Server(config)
    await producer.start()
    await responses.start()
    await identity.start()
    await outcomes.start()
    await routing.start()
    await grpc_service.start()

    async def mark_ready() -> None:
        while not http.started:
            await asyncio.sleep(0.02)
        # Ready once every peer has been reached (so the first requests do not meet a channel
        # still backing off from a peer that started after the edge), or after PEER_WAIT_SECONDS
        # all the same: from then on an unreachable peer is a clear 503 per request.
        try:
            async with asyncio.timeout(PEER_WAIT_SECONDS):
                await asyncio.gather(*(c.channel_ready() for c in peers.channels))
        except TimeoutError:
            log.warning("edge starting without every peer reachable", extra={"waited_seconds": PEER_WAIT_SECONDS})
        started.set()
        log.info("edge ready", extra={"http_port": settings.http_port, "grpc_port": grpc_service.bound_port})

    ready_task = asyncio.get_running_loop().create_task(mark_ready())
    try:
        await http.serve()  # returns on SIGTERM/SIGINT after draining HTTP connections
    finally:
        ready_task.cancel()
        started.clear()
        await grpc_service.stop()
        leases.retire_all()  # unspent lease amounts go back to the budgets
        await background.drain(5.0)
        await routing.stop()
        await outcomes.stop()
        await identity.stop()
        await producer.stop(timeout=settings.shutdown_grace_seconds)
        await responses.stop()
        await peers.close()
        await redis.aclose()
