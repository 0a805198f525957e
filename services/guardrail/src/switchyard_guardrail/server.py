"""Wires the guardrail service."""

from __future__ import annotations

from switchyard.guardrail.v1 import guardrail_pb2, guardrail_pb2_grpc
from switchyard_common.grpc_server import GrpcService, run_until_signalled
from switchyard_common.tracing import traced_servicer
from switchyard_guardrail.config import Settings
from switchyard_guardrail.handlers.guardrail import GuardrailServicer

SERVICE_NAME = guardrail_pb2.DESCRIPTOR.services_by_name["GuardrailService"].full_name


async def serve(settings: Settings) -> None:
    servicer = GuardrailServicer(settings)
    service = GrpcService(
        host=settings.bind_host,
        port=settings.grpc_port,
        register=lambda server: guardrail_pb2_grpc.add_GuardrailServiceServicer_to_server(
            traced_servicer(servicer), server
        ),
        service_names=[SERVICE_NAME],
        grace_seconds=settings.shutdown_grace_seconds,
        tls=settings.grpc_tls(),
        health_port=settings.grpc_health_port,
    )
    try:
        await run_until_signalled(service)
    finally:
        servicer.close()
