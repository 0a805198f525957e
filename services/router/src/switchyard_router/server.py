"""Wires the router: config, registry, planner, gRPC server."""

from __future__ import annotations

import logging
import time

from switchyard.router.v1 import router_pb2, router_pb2_grpc
from switchyard_common.grpc_server import GrpcService, run_until_signalled
from switchyard_common.model_config import load_config
from switchyard_router.config import Settings
from switchyard_router.domain.cooldown import Cooldowns
from switchyard_router.domain.planner import Planner
from switchyard_router.domain.registry import Registry
from switchyard_router.handlers.router import RouterServicer

log = logging.getLogger(__name__)

SERVICE_NAME = router_pb2.DESCRIPTOR.services_by_name["RouterService"].full_name


def build(settings: Settings) -> GrpcService:
    config = load_config(settings.config_path)
    for warning in config.warnings:
        log.warning("config: %s", warning)
    rs = config.router_settings
    cooldowns = Cooldowns(
        cooldown_seconds=float(rs.get("cooldown_time", 5)), allowed_fails=int(rs.get("allowed_fails", 3))
    )
    planner = Planner(config, Registry(config), cooldowns)
    servicer = RouterServicer(planner, cooldowns, created=int(time.time()))
    log.info(
        "router ready", extra={"model_groups": len(planner.registry.groups), "deployments": len(config.deployments)}
    )
    return GrpcService(
        host=settings.bind_host,
        port=settings.grpc_port,
        register=lambda server: router_pb2_grpc.add_RouterServiceServicer_to_server(servicer, server),
        service_names=[SERVICE_NAME],
        grace_seconds=settings.shutdown_grace_seconds,
    )


async def serve(settings: Settings) -> None:
    await run_until_signalled(build(settings))
