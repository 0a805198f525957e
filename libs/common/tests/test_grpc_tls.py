"""Mutual TLS between services: who gets through the handshake, which identity may call which
RPC, and certificates replaced on disk while servers and channels keep running."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from grpc_health.v1 import health_pb2, health_pb2_grpc

from devstack.certs import Authority
from switchyard.auth.v1 import auth_pb2, auth_pb2_grpc
from switchyard.provider.v1 import provider_pb2, provider_pb2_grpc
from switchyard_common.grpc_client import channel
from switchyard_common.grpc_server import GrpcService
from switchyard_common.grpc_tls import ReloadingChannel, TlsFiles
from switchyard_common.settings import CommonSettings

AUTH = auth_pb2.DESCRIPTOR.services_by_name["AuthService"].full_name
PROVIDER = provider_pb2.DESCRIPTOR.services_by_name["ProviderService"].full_name


@dataclass
class Seen:
    """What the servers saw: the client certificate (PEM) of each call that ran."""

    certs: list[bytes] = field(default_factory=list)
    gate: asyncio.Event | None = None
    entered: asyncio.Event = field(default_factory=asyncio.Event)

    def record(self, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        self.certs.append(context.auth_context()["x509_pem_cert"][0])


class Auth(auth_pb2_grpc.AuthServiceServicer):
    def __init__(self, seen: Seen) -> None:
        self.seen = seen

    async def GenerateKey(self, request: Any, context: Any) -> auth_pb2.GenerateKeyResponse:
        self.seen.record(context)
        if self.seen.gate is not None:
            self.seen.entered.set()
            await self.seen.gate.wait()
        return auth_pb2.GenerateKeyResponse()


class Provider(provider_pb2_grpc.ProviderServiceServicer):
    def __init__(self, seen: Seen) -> None:
        self.seen = seen

    async def Chat(self, request: Any, context: Any) -> provider_pb2.ChatResponse:
        self.seen.record(context)
        return provider_pb2.ChatResponse()

    async def ChatStream(self, request: Any, context: Any) -> AsyncIterator[provider_pb2.ChatStreamResponse]:
        self.seen.record(context)
        yield provider_pb2.ChatStreamResponse()


@pytest.fixture
def ca() -> Authority:
    return Authority.create()


@pytest.fixture
async def server(ca: Authority, tmp_path: Path) -> AsyncIterator[tuple[GrpcService, Seen, TlsFiles]]:
    seen = Seen()
    files = ca.write("auth", tmp_path / "server")

    def register(s: grpc.aio.Server) -> None:
        auth_pb2_grpc.add_AuthServiceServicer_to_server(Auth(seen), s)
        provider_pb2_grpc.add_ProviderServiceServicer_to_server(Provider(seen), s)

    service = GrpcService(
        host="127.0.0.1",
        port=0,
        register=register,
        service_names=[AUTH, PROVIDER],
        grace_seconds=1,
        tls=files,
        health_port=0,
    )
    await service.start()
    yield service, seen, files
    if seen.gate is not None:
        seen.gate.set()
    await service.stop()


def _addr(service: GrpcService) -> str:
    return f"127.0.0.1:{service.bound_port}"


async def _generate_key(ch: grpc.aio.Channel) -> grpc.StatusCode:
    try:
        await auth_pb2_grpc.AuthServiceStub(ch).GenerateKey(auth_pb2.GenerateKeyRequest(), timeout=5)
    except grpc.aio.AioRpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK


def _der(pem: bytes) -> bytes:
    return x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)


async def test_only_the_allowed_service_identity_may_call(
    server: tuple[GrpcService, Seen, TlsFiles], ca: Authority, tmp_path: Path
) -> None:
    service, seen, _ = server
    edge = channel(_addr(service), ca.write("edge", tmp_path / "edge"))
    router = channel(_addr(service), ca.write("router", tmp_path / "router"))
    try:
        assert await _generate_key(edge) == grpc.StatusCode.OK
        # The router holds a valid certificate of the same CA, but auth's RPCs are the edge's.
        assert await _generate_key(router) == grpc.StatusCode.PERMISSION_DENIED
        # Per method: the router may health-check deployments (Chat), not stream or run sessions.
        provider = provider_pb2_grpc.ProviderServiceStub(router)
        await provider.Chat(provider_pb2.ChatRequest(), timeout=5)
        with pytest.raises(grpc.aio.AioRpcError) as err:
            async for _ in provider.ChatStream(provider_pb2.ChatStreamRequest(), timeout=5):
                pass
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "service 'router' may not call /switchyard.provider.v1.ProviderService/ChatStream" in str(
            err.value.details()
        )
        # Health: any peer of the CA.
        resp = await health_pb2_grpc.HealthStub(router).Check(health_pb2.HealthCheckRequest(service=AUTH), timeout=5)
        assert resp.status == health_pb2.HealthCheckResponse.SERVING
        # The refused calls never reached the servicers.
        assert len(seen.certs) == 2
    finally:
        await edge.close()
        await router.close()


async def test_a_client_without_a_valid_certificate_cannot_connect(
    server: tuple[GrpcService, Seen, TlsFiles], ca: Authority, tmp_path: Path
) -> None:
    service, seen, files = server
    ca_pem = files.ca_file.read_bytes()
    other = Authority.create("someone else's CA")
    forged = other.write("edge", tmp_path / "forged")  # the right name, signed by the wrong CA
    wrong_domain = ca.write("edge", tmp_path / "wrong", trust_domain="elsewhere")
    attempts = {
        "plaintext": grpc.aio.insecure_channel(_addr(service)),
        "no client certificate": grpc.aio.secure_channel(
            _addr(service), grpc.ssl_channel_credentials(root_certificates=ca_pem)
        ),
        "certificate of another CA": grpc.aio.secure_channel(
            _addr(service),
            grpc.ssl_channel_credentials(
                root_certificates=ca_pem,
                private_key=forged.key_file.read_bytes(),
                certificate_chain=forged.cert_file.read_bytes(),
            ),
        ),
    }
    try:
        codes = {name: await _generate_key(ch) for name, ch in attempts.items()}
        assert codes == dict.fromkeys(attempts, grpc.StatusCode.UNAVAILABLE)
        assert seen.certs == []
    finally:
        for ch in attempts.values():
            await ch.close()
    # A certificate of the CA whose identity is of another trust domain names no caller.
    ch = channel(_addr(service), wrong_domain)
    try:
        assert await _generate_key(ch) == grpc.StatusCode.PERMISSION_DENIED
    finally:
        await ch.close()


def _server_certificate(port: int, client: TlsFiles) -> bytes:
    """The certificate a new TLS connection to the server is shown (DER)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile=client.ca_file)
    ctx.load_cert_chain(client.cert_file, client.key_file)
    ctx.set_alpn_protocols(["h2"])
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        ctx.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return der


async def test_server_certificate_rotation_without_restart(
    server: tuple[GrpcService, Seen, TlsFiles], ca: Authority, tmp_path: Path
) -> None:
    service, seen, files = server
    client = ca.write("edge", tmp_path / "edge")
    before = await asyncio.to_thread(_server_certificate, service.bound_port, client)
    assert before == _der(files.cert_file.read_bytes())

    # A call in flight on a connection made with the old certificate ...
    seen.gate = asyncio.Event()
    ch = channel(_addr(service), client)
    in_flight = asyncio.ensure_future(_generate_key(ch))
    await asyncio.wait_for(seen.entered.wait(), 5)

    # ... while cert-manager writes a renewed certificate into the mounted Secret.
    ca.write("auth", files.cert_file.parent)
    after = await asyncio.to_thread(_server_certificate, service.bound_port, client)
    assert after == _der(files.cert_file.read_bytes()) != before

    seen.gate.set()
    assert await in_flight == grpc.StatusCode.OK
    other = channel(_addr(service), client)
    try:
        assert await _generate_key(other) == grpc.StatusCode.OK
    finally:
        await ch.close()
        await other.close()


async def test_server_keeps_its_certificate_while_a_rotation_is_half_written(
    server: tuple[GrpcService, Seen, TlsFiles], ca: Authority, tmp_path: Path
) -> None:
    service, _, files = server
    client = ca.write("edge", tmp_path / "edge")
    before = await asyncio.to_thread(_server_certificate, service.bound_port, client)
    fresh_cert, _ = ca.issue("auth")
    files.cert_file.write_bytes(fresh_cert)  # the key file still holds the old key
    assert await asyncio.to_thread(_server_certificate, service.bound_port, client) == before


async def test_client_certificate_rotation_without_restart(
    server: tuple[GrpcService, Seen, TlsFiles], ca: Authority, tmp_path: Path
) -> None:
    service, seen, _ = server
    client_dir = tmp_path / "edge"
    files = ca.write("edge", client_dir)
    first = files.cert_file.read_bytes()
    ch = ReloadingChannel(f"dns:///{_addr(service)}", files, [], check_seconds=0, retire_grace=30)
    try:
        stub = auth_pb2_grpc.AuthServiceStub(ch)
        await stub.GenerateKey(auth_pb2.GenerateKeyRequest(), timeout=5)
        assert seen.certs == [first]

        # A call in flight when the certificate is replaced finishes on the old connection.
        hold = seen.gate = asyncio.Event()
        in_flight = asyncio.ensure_future(stub.GenerateKey(auth_pb2.GenerateKeyRequest(), timeout=10))
        await asyncio.wait_for(seen.entered.wait(), 5)
        ca.write("edge", client_dir)
        second = files.cert_file.read_bytes()
        seen.gate = None
        # The next call, on the same stub, comes over a new connection with the new certificate.
        await stub.GenerateKey(auth_pb2.GenerateKeyRequest(), timeout=5)
        assert seen.certs[-1] == second != first
        hold.set()
        await asyncio.wait_for(in_flight, 5)
        assert seen.certs == [first, first, second]
    finally:
        await ch.close()


def test_settings_take_the_three_files_together(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRPC_TLS_CERT_FILE", "/etc/switchyard/grpc-tls/tls.crt")
    with pytest.raises(ValueError, match="go together"):
        CommonSettings()
    monkeypatch.setenv("GRPC_TLS_KEY_FILE", "/etc/switchyard/grpc-tls/tls.key")
    monkeypatch.setenv("GRPC_TLS_CA_FILE", "/etc/switchyard/grpc-tls/ca.crt")
    tls = CommonSettings().grpc_tls()
    assert tls is not None and tls.trust_domain == "switchyard"
    monkeypatch.delenv("GRPC_TLS_CERT_FILE")
    monkeypatch.delenv("GRPC_TLS_KEY_FILE")
    monkeypatch.delenv("GRPC_TLS_CA_FILE")
    assert CommonSettings().grpc_tls() is None


async def test_probe_port_serves_health_only_in_plaintext(ca: Authority, tmp_path: Path) -> None:
    seen = Seen()
    service = GrpcService(
        host="127.0.0.1",
        port=0,
        register=lambda s: auth_pb2_grpc.add_AuthServiceServicer_to_server(Auth(seen), s),
        service_names=[AUTH],
        grace_seconds=1,
        tls=ca.write("auth", tmp_path / "auth"),
        health_port=_free_port(),
    )
    await service.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{service.bound_health_port}") as ch:
            resp = await health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(service=AUTH), timeout=5)
            assert resp.status == health_pb2.HealthCheckResponse.SERVING
            assert await _generate_key(ch) == grpc.StatusCode.UNIMPLEMENTED
    finally:
        await service.stop()
    assert seen.certs == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port
