"""Wires the provider adapter: config, credentials, HTTP pool, gRPC server."""

from __future__ import annotations

import logging

from switchyard.provider.v1 import provider_pb2, provider_pb2_grpc
from switchyard_common.grpc_server import GrpcService, run_until_signalled
from switchyard_common.tracing import traced_servicer
from switchyard_llm.model_config import load_config
from switchyard_llm.pricing import PriceBook
from switchyard_provider_adapter.clients.aws_sts import RoleCredentials
from switchyard_provider_adapter.clients.credentials import CredentialStore
from switchyard_provider_adapter.clients.entra import EntraTokens
from switchyard_provider_adapter.clients.google_auth import GoogleTokenSource
from switchyard_provider_adapter.clients.http import HttpPool
from switchyard_provider_adapter.clients.sealed import SealedCredentials
from switchyard_provider_adapter.config import Settings
from switchyard_provider_adapter.domain.allowlists import Allowlists
from switchyard_provider_adapter.domain.providers import build_registry
from switchyard_provider_adapter.executor import Executor
from switchyard_provider_adapter.handlers.provider import ProviderServicer

log = logging.getLogger(__name__)

SERVICE_NAME = provider_pb2.DESCRIPTOR.services_by_name["ProviderService"].full_name


def sealed_credentials(settings: Settings) -> SealedCredentials:
    key = settings.provider_credentials_private_key
    return SealedCredentials(key.get_secret_value() if key else None)


def allowlists(settings: Settings) -> Allowlists:
    return Allowlists.build(
        aws_sts_endpoints=settings.allowed_aws_sts_endpoints,
        web_identity_token_files=[*settings.allowed_web_identity_token_files, settings.aws_web_identity_token_file],
        credential_files=settings.allowed_credential_files,
        s3_buckets=settings.allowed_s3_buckets,
        gcs_buckets=settings.allowed_gcs_buckets,
    )


def build(settings: Settings) -> tuple[GrpcService, HttpPool]:
    config = load_config(settings.config_path)
    for warning in config.warnings:
        log.warning("config: %s", warning)
    registry = build_registry(
        aws_roles=RoleCredentials(), google_tokens=GoogleTokenSource(), entra_tokens=EntraTokens()
    )
    unknown = sorted({d.provider for d in config.deployments if d.provider not in registry})
    if unknown:
        log.warning("config names providers this adapter does not support", extra={"providers": unknown})
    http = HttpPool(
        max_per_host=settings.upstream_max_connections_per_host,
        keepalive=settings.upstream_keepalive_seconds,
        connect_timeout=settings.upstream_connect_timeout_seconds,
    )
    allowed = allowlists(settings)
    credentials = CredentialStore(config, sealed_credentials(settings), allowed)
    executor = Executor(settings, registry, credentials, http, PriceBook(), allowed)
    servicer = ProviderServicer(executor)
    service = GrpcService(
        host=settings.bind_host,
        port=settings.grpc_port,
        register=lambda server: provider_pb2_grpc.add_ProviderServiceServicer_to_server(
            traced_servicer(servicer), server
        ),
        service_names=[SERVICE_NAME],
        grace_seconds=settings.shutdown_grace_seconds,
        tls=settings.grpc_tls(),
        health_port=settings.grpc_health_port,
    )
    return service, http


async def serve(settings: Settings) -> None:
    service, http = build(settings)
    await run_until_signalled(service, on_stop=[http.close])
