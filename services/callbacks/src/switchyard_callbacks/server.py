"""Wires the callbacks service: the config's callback routing, the receivers, the usage-topic
consumer (its own group, so a slow receiver never holds back the ledger) and a health-only gRPC
server for probes. Deliveries never touch the response path: they read what the edge already
published to Kafka."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import aiohttp

from switchyard_callbacks.clients.sinks import GenericApi, Langfuse, Sink
from switchyard_callbacks.config import Settings
from switchyard_callbacks.delivery import Delivery, transient
from switchyard_callbacks.domain.records import generic_headers, routing
from switchyard_common.grpc_server import GrpcService, run_until_signalled
from switchyard_common.kafka import EventConsumer, EventProducer
from switchyard_common.settings import ConfigError
from switchyard_llm.model_config import GatewayConfig, load_config, resolve_value

log = logging.getLogger(__name__)

# Reported SERVING by the health service once the consumer runs (the service has no RPCs).
SERVICE_NAME = "switchyard.callbacks"
GROUP = "callbacks.usage"


def build_sinks(
    settings: Settings, config: GatewayConfig, names: frozenset[str], session: aiohttp.ClientSession
) -> dict[str, Sink]:
    """The receivers ``names`` asks for; one named without its settings stops the start."""
    sinks: dict[str, Sink] = {}
    if "langfuse" in names:
        if settings.langfuse_public_key is None or settings.langfuse_secret_key is None:
            raise ConfigError("the langfuse callback needs LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY")
        sinks["langfuse"] = Langfuse(
            session,
            settings.langfuse_host,
            settings.langfuse_public_key.get_secret_value(),
            settings.langfuse_secret_key.get_secret_value(),
        )
    if "generic_api" in names:
        own = config.callback_settings.get("generic_api") or {}
        endpoint = str(resolve_value(own.get("endpoint") or settings.generic_logger_endpoint))
        if not endpoint:
            raise ConfigError("the generic_api callback needs GENERIC_LOGGER_ENDPOINT")
        configured = [(str(k), str(resolve_value(v))) for k, v in (own.get("headers") or {}).items()]
        headers = generic_headers(settings.generic_logger_headers.get_secret_value(), configured)
        sinks["generic_api"] = GenericApi(session, endpoint, headers)
    return sinks


async def serve(settings: Settings) -> None:
    config = load_config(settings.config_path) if settings.config_path else GatewayConfig()
    route, ignored = routing(config.litellm_settings)
    for line in ignored:
        log.warning(line)
    timeout = aiohttp.ClientTimeout(total=settings.callback_timeout_seconds)
    session = aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=32))
    sinks = build_sinks(settings, config, route.on_success | route.on_failure, session)
    log.info(
        "logging callbacks", extra={"on_success": sorted(route.on_success), "on_failure": sorted(route.on_failure)}
    )
    kafka = settings.kafka()
    dead_letters = EventProducer(
        kafka,
        client_id="callbacks",
        spool_dir=Path(settings.event_spool_dir) / "callbacks",
        spool_instance=socket.gethostname(),
    )
    consumer = EventConsumer(
        kafka,
        group_id=GROUP,
        topics=[kafka.topic("usage")],
        handler=Delivery(route, sinks),
        client_id="callbacks",
        dead_letters=dead_letters,
        transient=transient,
    )
    service = GrpcService(
        host=settings.bind_host,
        port=settings.grpc_port,
        register=lambda server: None,
        service_names=[SERVICE_NAME],
        grace_seconds=settings.shutdown_grace_seconds,
        tls=settings.grpc_tls(),
        health_port=settings.grpc_health_port,
    )

    async def start_background() -> None:
        if not route.any:
            return  # nothing to deliver: no consumer group is joined
        await dead_letters.start()
        await consumer.start()

    async def stop_background() -> None:
        if route.any:
            await consumer.stop()
            await dead_letters.stop(timeout=settings.shutdown_grace_seconds)
        await session.close()

    await run_until_signalled(service, on_start=[start_background], on_stop=[stop_background])
