"""Internal calls are authenticated: a pod that reaches a service's gRPC port cannot mint keys,
read the spend of every account or add models without the certificate of a service allowed to
call that RPC; and the edge's public port serves the API only (metrics on their own port)."""

from __future__ import annotations

import concurrent.futures
import socket
import ssl
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from devstack import certs as stack_certs
from devstack import stack
from switchyard.auth.v1 import (
    accounts_pb2,
    accounts_pb2_grpc,
    auth_pb2,
    auth_pb2_grpc,
    keys_pb2,
    keys_pb2_grpc,
    teams_pb2,
    teams_pb2_grpc,
)
from switchyard.budget.v1 import budget_pb2, budget_pb2_grpc
from switchyard.router.v1 import router_pb2, router_pb2_grpc

# What an attacker inside the cluster would send: a forged super-admin caller.
ADMIN = auth_pb2.Principal(account_id="default", is_admin=True)


def _attacks(cfg: stack.StackConfig) -> dict[str, tuple[str, Callable[[grpc.Channel], Any]]]:
    model = router_pb2.ModelEntry(model_name="exfiltrate", litellm_params_json=b'{"model": "openai/x"}')
    return {
        "auth.GenerateKey": (
            cfg.addr("auth"),
            lambda ch: auth_pb2_grpc.AuthServiceStub(ch).GenerateKey(
                auth_pb2.GenerateKeyRequest(caller=ADMIN), timeout=5
            ),
        ),
        "auth.CreateAccount": (
            cfg.addr("auth"),
            lambda ch: accounts_pb2_grpc.AccountServiceStub(ch).CreateAccount(
                accounts_pb2.CreateAccountRequest(
                    caller=ADMIN, settings=accounts_pb2.AccountSettings(account_name=f"evil-{uuid.uuid4().hex[:8]}")
                ),
                timeout=5,
            ),
        ),
        "auth.CreateKey": (
            cfg.addr("auth"),
            lambda ch: keys_pb2_grpc.KeyServiceStub(ch).CreateKey(
                keys_pb2.CreateKeyRequest(caller=ADMIN, account_id="default"), timeout=5
            ),
        ),
        "auth.ListTeams": (
            cfg.addr("auth"),
            lambda ch: teams_pb2_grpc.TeamServiceStub(ch).ListTeams(
                teams_pb2.ListTeamsRequest(caller=ADMIN), timeout=5
            ),
        ),
        "budget.ListSpendLogs": (
            cfg.addr("copilot-budget"),
            lambda ch: budget_pb2_grpc.BudgetServiceStub(ch).ListSpendLogs(
                budget_pb2.ListSpendLogsRequest(all_accounts=True), timeout=5
            ),
        ),
        "router.AddModel": (
            cfg.addr("router"),
            lambda ch: router_pb2_grpc.RouterServiceStub(ch).AddModel(
                router_pb2.AddModelRequest(model=model, caller="attacker"), timeout=5
            ),
        ),
        "router.DeleteModel": (
            cfg.addr("router"),
            lambda ch: router_pb2_grpc.RouterServiceStub(ch).DeleteModel(
                router_pb2.DeleteModelRequest(id="no-such-deployment"), timeout=5
            ),
        ),
    }


def _code(call: Callable[[grpc.Channel], Any], ch: grpc.Channel) -> grpc.StatusCode:
    try:
        call(ch)
    except grpc.RpcError as exc:
        return exc.code()  # type: ignore[attr-defined, no-any-return]
    return grpc.StatusCode.OK


def _secure(addr: str, files: stack.TlsFiles | None, *, ca: bytes) -> grpc.Channel:
    if files is None:
        return grpc.secure_channel(addr, grpc.ssl_channel_credentials(root_certificates=ca))
    creds = grpc.ssl_channel_credentials(
        root_certificates=ca, private_key=files.key_file.read_bytes(), certificate_chain=files.cert_file.read_bytes()
    )
    return grpc.secure_channel(addr, creds)


@pytest.fixture(scope="module")
def certs(stack_cfg: stack.StackConfig) -> Iterator[dict[str, stack.TlsFiles]]:
    yield stack.certificates(stack_cfg)


@pytest.mark.parametrize(
    "rpc",
    [
        "auth.GenerateKey",
        "auth.CreateAccount",
        "auth.CreateKey",
        "auth.ListTeams",
        "budget.ListSpendLogs",
        "router.AddModel",
        "router.DeleteModel",
    ],
)
def test_no_internal_rpc_without_a_client_certificate(
    stack_cfg: stack.StackConfig, certs: dict[str, stack.TlsFiles], rpc: str
) -> None:
    addr, call = _attacks(stack_cfg)[rpc]
    ca = certs["edge"].ca_file.read_bytes()
    with grpc.insecure_channel(addr) as plaintext, _secure(addr, None, ca=ca) as server_tls_only:
        codes = {"plaintext": _code(call, plaintext), "TLS without a client certificate": _code(call, server_tls_only)}
    # The handshake itself fails: nothing reaches a handler.
    assert codes == dict.fromkeys(codes, grpc.StatusCode.UNAVAILABLE)


def test_the_routers_certificate_cannot_call_auth_or_the_budget(
    stack_cfg: stack.StackConfig, certs: dict[str, stack.TlsFiles], http: httpx.Client
) -> None:
    ca = certs["router"].ca_file.read_bytes()
    attacks = _attacks(stack_cfg)
    codes = {}
    for rpc in ("auth.GenerateKey", "auth.CreateAccount", "auth.CreateKey", "auth.ListTeams", "budget.ListSpendLogs"):
        addr, call = attacks[rpc]
        with _secure(addr, certs["router"], ca=ca) as ch:
            codes[rpc] = _code(call, ch)
    assert codes == dict.fromkeys(codes, grpc.StatusCode.PERMISSION_DENIED)
    # The management plane's services are the edge's to call.
    addr, call = attacks["auth.ListTeams"]
    with _secure(addr, certs["edge"], ca=ca) as ch:
        assert _code(call, ch) == grpc.StatusCode.OK
    # The edge, whose certificate auth accepts, still mints keys for a caller with the master key.
    resp = http.post("/key/generate", json={"models": ["fake-chat"]})
    assert resp.status_code == 200, resp.text


def test_edge_metrics_and_api_description_are_not_on_the_public_port(
    stack_cfg: stack.StackConfig, base_url: str, http: httpx.Client
) -> None:
    http.get("/v1/models").raise_for_status()
    assert httpx.get(f"{base_url}/metrics", timeout=5).status_code == 404
    assert httpx.get(f"{base_url}/openapi.json", timeout=5).status_code == 404
    metrics = httpx.get(f"http://127.0.0.1:{stack_cfg.metrics_base + stack.SERVICES['edge'][1]}/metrics", timeout=5)
    assert metrics.status_code == 200
    assert "switchyard_edge_requests_total" in metrics.text


def _certificate_shown(port: int, client: stack.TlsFiles) -> bytes:
    """The certificate (DER) a new TLS connection to ``port`` is shown."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile=client.ca_file)
    ctx.load_cert_chain(client.cert_file, client.key_file)
    ctx.set_alpn_protocols(["h2"])
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        ctx.wrap_socket(raw, server_hostname="localhost") as conn,
    ):
        der = conn.getpeercert(binary_form=True)
    assert der is not None
    return der


def _der(path: stack.TlsFiles) -> bytes:
    return x509.load_pem_x509_certificate(path.cert_file.read_bytes()).public_bytes(serialization.Encoding.DER)


def test_certificates_rotate_without_a_restart_and_calls_in_flight_finish(
    stack_cfg: stack.StackConfig, certs: dict[str, stack.TlsFiles], http: httpx.Client, fake: httpx.Client
) -> None:
    ca = stack_certs.Authority.load(stack_cfg.state_dir / "tls" / "ca")
    adapter_port = stack_cfg.grpc_port("provider-adapter")
    pids = {name: stack._pid(stack_cfg, name) for name in ("edge", "provider-adapter")}
    edge_log = stack.log_file(stack_cfg, "edge")
    reloads_before = edge_log.read_text().count("client certificate reloaded")

    def chat(marker: str) -> httpx.Response:
        return http.post(
            "/v1/chat/completions", json={"model": "fake-chat", "messages": [{"role": "user", "content": marker}]}
        )

    def upstream_saw(marker: str) -> bool:
        return any(marker in str(r.get("body")) for r in fake.get("/__log").json())

    # A completion in flight, on the edge's connection to the adapter, while both renew.
    fake.post("/__script", json={"model": "fake-chat", "responses": [{"delay_ms": 1500}]}).raise_for_status()
    marker = f"rotation-{uuid.uuid4().hex}"
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        in_flight = pool.submit(chat, marker)
        deadline = time.monotonic() + 10
        while not upstream_saw(marker):
            assert time.monotonic() < deadline, "the request never reached the upstream"
            time.sleep(0.05)
        for name in ("edge", "provider-adapter"):
            ca.write(name, certs[name].cert_file.parent)
        resp = in_flight.result(timeout=30)
    assert resp.status_code == 200, resp.text

    # New connections to the adapter are shown its new certificate.
    assert _certificate_shown(adapter_port, certs["edge"]) == _der(certs["provider-adapter"])
    # The edge reopens its channels with its new certificate within its check interval (10 s);
    # requests keep succeeding meanwhile.
    deadline = time.monotonic() + 30
    while edge_log.read_text().count("client certificate reloaded") == reloads_before:
        assert time.monotonic() < deadline, "the edge did not pick up its new certificate"
        assert chat("after rotation").status_code == 200
        time.sleep(0.5)
    assert chat("with the new certificates").status_code == 200
    assert {name: stack._pid(stack_cfg, name) for name in pids} == pids
