"""grpc.aio server bootstrap: standard health service, graceful shutdown and, when certificates
are given, mutual TLS with per-RPC caller checks (tracing of calls: ``switchyard_common.tracing``)."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from typing import cast

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from switchyard_common.callers import GuardedServer
from switchyard_common.grpc_tls import ServerCertificates, TlsFiles

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 64 * 1024 * 1024

Register = Callable[[grpc.aio.Server], None]
Hook = Callable[[], Awaitable[None]]


class GrpcService:
    """One gRPC server with the health service. ``register`` adds the service's servicers;
    ``service_names`` are the fully-qualified names reported SERVING once started.

    With ``tls``, the port takes only callers presenting a certificate of the CA, and each RPC
    only the callers ``switchyard_common.callers`` allows. ``health_port`` then serves the health
    service alone, in plaintext, for the kubelet's gRPC probes (which present no certificate)."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        register: Register,
        service_names: Sequence[str],
        grace_seconds: float = 10.0,
        max_concurrent_rpcs: int | None = None,
        tls: TlsFiles | None = None,
        health_port: int = 0,
    ) -> None:
        self.host = host
        self.port = port
        self._tls = tls
        self._health_port = health_port
        # Read now, so that missing or mismatched certificate files stop the process at start.
        self._certificates = ServerCertificates(tls) if tls else None
        self._probe: grpc.aio.Server | None = None
        self.bound_health_port = 0
        self._register = register
        self._names = list(service_names)
        self._grace = grace_seconds
        self._health = health.aio.HealthServicer()
        self._server = grpc.aio.server(
            options=[
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                ("grpc.keepalive_permit_without_calls", 1),
                ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
                ("grpc.so_reuseport", 0),
                # Clients reconnect (and re-resolve DNS) every few minutes, so replicas added by
                # scaling receive calls without waiting for a peer to restart. Calls already on the
                # old connection may finish: the grace outlasts the longest request (600 s by
                # default) and the edge's session streams, which it rotates every minute. A short
                # grace cut live sessions and failed their calls (seen in a 20-minute soak).
                ("grpc.max_connection_age_ms", 300_000),
                ("grpc.max_connection_age_grace_ms", 900_000),
            ],
            maximum_concurrent_rpcs=max_concurrent_rpcs,
        )
        self.bound_port = 0

    async def start(self) -> None:
        address = f"{self.host}:{self.port}"
        if self._tls and self._certificates:
            # Stands in for the server while the servicers register (both paths gRPC uses).
            guarded = cast(grpc.aio.Server, GuardedServer(self._server, self._tls.trust_domain))
            self._register(guarded)
            health_pb2_grpc.add_HealthServicer_to_server(self._health, guarded)
            self.bound_port = self._server.add_secure_port(address, self._certificates.credentials())
        else:
            self._register(self._server)
            health_pb2_grpc.add_HealthServicer_to_server(self._health, self._server)
            self.bound_port = self._server.add_insecure_port(address)
        if not self.bound_port:
            raise RuntimeError(f"cannot bind gRPC port {address}")
        if self._health_port:
            self._probe = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
            health_pb2_grpc.add_HealthServicer_to_server(self._health, self._probe)
            self.bound_health_port = self._probe.add_insecure_port(f"{self.host}:{self._health_port}")
            if not self.bound_health_port:
                raise RuntimeError(f"cannot bind gRPC health port {self.host}:{self._health_port}")
            await self._probe.start()
        await self._server.start()
        await self.set_serving(True)
        log.info(
            "gRPC server listening",
            extra={"port": self.bound_port, "services": self._names, "mutual_tls": self._tls is not None},
        )

    async def set_serving(self, serving: bool) -> None:
        status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        for name in ["", *self._names]:
            await self._health.set(name, status)

    async def stop(self) -> None:
        """Stop accepting calls, let in-flight ones finish within the grace period."""
        await self.set_serving(False)
        await self._server.stop(self._grace)
        if self._probe is not None:
            await self._probe.stop(0)

    async def wait(self) -> None:
        await self._server.wait_for_termination()


async def wait_for_shutdown_signal() -> None:
    """Return on SIGTERM or SIGINT."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.remove_signal_handler(sig)


async def run_until_signalled(
    service: GrpcService, *, on_start: Sequence[Hook] = (), on_stop: Sequence[Hook] = ()
) -> None:
    """Run start hooks, serve until SIGTERM/SIGINT, then drain and run stop hooks in order."""
    for hook in on_start:
        await hook()
    await service.start()
    await wait_for_shutdown_signal()
    log.info("shutting down")
    await service.stop()
    for hook in on_stop:
        try:
            await hook()
        except Exception:
            log.exception("shutdown hook failed")
