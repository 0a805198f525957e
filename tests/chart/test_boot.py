"""Boot test: the stack starts from exactly the environment the chart renders.

The production example (ci/production-values.yaml, plus tests/chart/boot-values.yaml pointing the
one model at the local fake upstream) is rendered; each workload's container environment is
resolved the way the kubelet would (Secrets supplied here, ConfigMaps and volumes materialised)
and moved to loopback mechanically (cluster addresses, container ports, mount paths; BIND_HOST
is the one addition). Then, on real PostgreSQL, Redis and Kafka: the migration hook Jobs' command
runs with the Jobs' environment, the six services start with nothing else in their environment,
and a first virtual key and a chat completion go through the edge as NOTES.txt describes.
A name the chart misspells, a required setting it forgets, a Secret key or mount path that does
not line up with the code, each fails here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
import yaml
from chart import contract, localenv, policy, render, schemas

from devstack import certs, infra, stack
from switchyard.auth.v1 import auth_pb2, auth_pb2_grpc

HERE = Path(__file__).parent
BOOT_VALUES = [render.CHART / "ci" / "production-values.yaml", HERE / "boot-values.yaml"]
MASTER_KEY = "sk-chart-boot-master-key-not-secret"
PROVIDER_KEY = "sk-chart-boot-provider-key-not-secret"
# 266xx: apart from `make up`, the e2e suite and the benchmark, and below the kernel's ephemeral
# range (32768+), where a busy machine's outgoing connections could already hold a port.
CFG = stack.StackConfig(
    state_dir=stack.REPO / ".stack" / "chart-boot",
    http_port=26600,
    grpc_base=26650,
    metrics_base=26700,
    fake_port=26610,
    pg_port=26620,
    redis_port=26630,
    kafka_port=26640,
    kafka_controller_port=26641,
    master_key=MASTER_KEY,
)
# A Service address of this release, or any in-cluster DNS name.
CLUSTER_ADDRESS = re.compile(r"\bsy-switchyard-[a-z-]+:\d+|\.svc\b|\.cluster\.local\b")


class OtlpSink:
    """A stand-in OTLP/HTTP collector on loopback: records what the services export."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, bytes]] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                sink.requests.append((self.path, body))
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> OtlpSink:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _values() -> dict[str, Any]:
    values: dict[str, Any] = yaml.safe_load((render.CHART / "values.yaml").read_text())
    for path in BOOT_VALUES:
        values = _merge(values, yaml.safe_load(path.read_text()) or {})
    # Each service entry is laid over serviceDefaults, as the chart does.
    values["services"] = {name: _merge(values["serviceDefaults"], svc) for name, svc in values["services"].items()}
    return values


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def _tail(name: str) -> str:
    path = stack.log_file(CFG, name)
    return "\n".join(path.read_text(errors="replace").splitlines()[-25:]) if path.exists() else "(no log)"


@dataclass
class Boot:
    release: render.Rendered
    values: dict[str, Any]
    envs: dict[str, dict[str, str]] = field(default_factory=dict)  # workload name -> environment
    pids: dict[str, int] = field(default_factory=dict)  # service -> pid
    sink: OtlpSink | None = None


@pytest.fixture(scope="module")
def boot() -> Iterator[Boot]:
    stack.down(CFG)
    shutil.rmtree(CFG.state_dir, ignore_errors=True)
    release = render.template(BOOT_VALUES, kube_version=schemas.KUBE_VERSIONS[-1])
    values = _values()
    result = Boot(release=release, values=values)
    with OtlpSink() as sink:
        result.sink = sink
        try:
            t0 = time.monotonic()
            infra.start(CFG.infra)
            urls = infra.urls(CFG.infra)
            # The Secrets an operator would create, under the names and keys the values name.
            secrets = {
                values["masterKey"]["existingSecret"]: {values["masterKey"]["key"]: MASTER_KEY},
                values["postgresql"]["existingSecret"]: {values["postgresql"]["urlKey"]: urls["DATABASE_URL"]},
                values["redis"]["existingSecret"]: {values["redis"]["urlKey"]: urls["REDIS_URL"]},
                values["signIn"]["sessionKeys"]["existingSecret"]: {
                    values["signIn"]["sessionKeys"]["key"]: stack.session_signing_key(CFG)
                },
                values["signIn"]["oidc"]["existingSecret"]: {
                    values["signIn"]["oidc"]["clientSecretKey"]: "boot-client-secret",
                    values["signIn"]["oidc"]["introspectionClientSecretKey"]: "boot-introspection-secret",
                    values["signIn"]["oidc"]["actionsSigningKeyKey"]: "boot-actions-signing-key",
                },
                values["providerCredentials"]["existingSecret"]: {
                    "OPENAI_API_KEY": PROVIDER_KEY,
                    "BOOT_UPSTREAM_BASE": f"http://127.0.0.1:{CFG.fake_port}/v1",
                },
            }
            # The certificate Secrets cert-manager would write from the rendered Certificates,
            # signed by one CA: the identity and names the chart asks for are what the code gets.
            ca = certs.Authority.create()
            for cert in release.of_kind("Certificate"):
                spec = cert["spec"]
                trust_domain, service = spec["uris"][0].removeprefix("spiffe://").split("/")
                crt, key = ca.issue(service, dns_names=spec["dnsNames"], trust_domain=trust_domain)
                secrets[spec["secretName"]] = {
                    "tls.crt": crt.decode(),
                    "tls.key": key.decode(),
                    "ca.crt": ca.ca_pem.decode(),
                }
            addresses = {
                f"sy-switchyard-{name}:{values['services'][name]['ports']['grpc']}": CFG.addr(name)
                for name in stack.SERVICES
            }
            addresses[values["kafka"]["bootstrapServers"]] = urls["KAFKA_BOOTSTRAP_SERVERS"]
            addresses[values["telemetry"]["otlp"]["endpoint"]] = sink.url

            for obj in release.objects:
                if obj["kind"] not in ("Deployment", "Job"):
                    continue
                service = contract.service_of(obj)
                ports = {values["services"][service]["ports"]["grpc"]: CFG.grpc_port(service)}
                if values["services"][service]["ports"]["http"]:
                    ports[values["services"][service]["ports"]["http"]] = CFG.http_port
                if values["services"][service]["ports"]["metrics"]:
                    ports[values["services"][service]["ports"]["metrics"]] = (
                        CFG.metrics_base + stack.SERVICES[service][1]
                    )
                if not values["services"][service]["ports"]["http"]:
                    ports[values["grpcTls"]["healthPort"]] = CFG.health_port(service)
                local = localenv.to_local(
                    obj,
                    release.objects,
                    secrets,
                    root=CFG.state_dir / "pods" / obj["metadata"]["name"],
                    addresses=addresses,
                    ports=ports,
                    pod_name=f"{obj['metadata']['name']}-0",
                )
                # A pod binds all interfaces of its own network namespace; here that is loopback.
                local.env["BIND_HOST"] = "127.0.0.1"
                result.envs[obj["metadata"]["name"]] = local.env
                print(f"{obj['kind']}/{obj['metadata']['name']}: {len(local.env)} variables; moved to loopback:")
                for line in local.rewrites:
                    print(f"    {line}")

            stack.start_service(CFG, "fake-upstream")
            for job in release.of_kind("Job"):
                service = contract.service_of(job)
                args = localenv.container(job).get("args") or []
                proc = subprocess.run(
                    [sys.executable, "-m", stack.SERVICES[service][0], *args],
                    env={"PATH": os.environ.get("PATH", ""), **result.envs[job["metadata"]["name"]]},
                    cwd=stack.REPO,
                    capture_output=True,
                    text=True,
                    timeout=120,
                    check=False,
                )
                assert proc.returncode == 0, f"{job['metadata']['name']} failed:\n{proc.stdout}{proc.stderr}"

            for d in release.of_kind("Deployment"):
                service = contract.service_of(d)
                c = localenv.container(d)
                assert not c.get("command") and not c.get("args"), "the image entrypoint runs the service"
                result.pids[service] = stack.start_service_with_env(CFG, service, result.envs[d["metadata"]["name"]])
            deadline = time.monotonic() + 90
            pending = set(result.pids)
            while pending:
                for service in sorted(pending):
                    if stack.ready(CFG, service):
                        pending.discard(service)
                    elif not _alive(result.pids[service]):
                        pytest.fail(f"{service} exited at start with the chart's environment:\n{_tail(service)}")
                if pending and time.monotonic() > deadline:
                    pytest.fail(f"not ready after 90 s: {sorted(pending)}\n" + "\n".join(_tail(s) for s in pending))
                time.sleep(0.2)
            print(f"stack up from the chart's environment in {time.monotonic() - t0:.1f}s")
            yield result
        finally:
            stack.down(CFG)


def test_environment_needed_only_loopback_rewrites(boot: Boot) -> None:
    leftovers = {name: {k: v for k, v in env.items() if CLUSTER_ADDRESS.search(v)} for name, env in boot.envs.items()}
    assert {k: v for k, v in leftovers.items() if v} == {}
    for name, env in boot.envs.items():
        has_provider_key = "OPENAI_API_KEY" in env
        assert has_provider_key == name.endswith("provider-adapter"), f"{name}: provider credentials misplaced"


def test_hook_jobs_migrated_so_services_skip_migrations(boot: Boot) -> None:
    assert boot.envs["sy-switchyard-auth"]["MIGRATE_ON_START"] == "false"
    assert boot.envs["sy-switchyard-copilot-budget"]["MIGRATE_ON_START"] == "false"
    assert boot.envs["sy-switchyard-edge"]["MIGRATE_ON_START"] == "false"


def test_all_six_services_report_ready(boot: Boot) -> None:
    assert {name: stack.ready(CFG, name) for name in stack.SERVICES} == dict.fromkeys(stack.SERVICES, True)


def test_first_key_and_chat_completion_through_the_edge(boot: Boot) -> None:
    base = f"http://127.0.0.1:{CFG.http_port}"
    with httpx.Client(base_url=base, timeout=30) as client:
        # NOTES.txt step 3: the master key mints the first virtual key ...
        resp = client.post(
            "/key/generate",
            headers={"Authorization": f"Bearer {MASTER_KEY}"},
            json={"models": ["boot-check"], "max_budget": 10},
        )
        assert resp.status_code == 200, resp.text
        key = resp.json()["key"]
        # ... which calls the model, through router, budget, guardrail and the provider adapter.
        resp = client.post(
            "/v1/chat/completions",
            headers={"Authorization": f"Bearer {key}"},
            json={"model": "boot-check", "messages": [{"role": "user", "content": "Hello from the chart"}]},
        )
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["choices"][0]["message"]["content"]
        assert body["usage"]["total_tokens"] > 0
        upstream = httpx.get(f"http://127.0.0.1:{CFG.fake_port}/__log", timeout=10).json()
    chats = [r for r in upstream if r["path"].endswith("/chat/completions")]
    assert chats, upstream
    # The provider key travelled Secret -> envFrom -> os.environ/OPENAI_API_KEY -> upstream.
    assert chats[-1]["headers"].get("Authorization") == f"Bearer {PROVIDER_KEY}"


def test_metrics_are_served_where_the_chart_scrapes(boot: Boot) -> None:
    for name in stack.SERVICES:
        env = boot.envs[f"sy-switchyard-{name}"]
        resp = httpx.get(f"http://127.0.0.1:{env['METRICS_PORT']}/metrics", timeout=10)
        assert resp.status_code == 200 and "# HELP" in resp.text, name
    # Not on the edge's public API port.
    assert httpx.get(f"http://127.0.0.1:{CFG.http_port}/metrics", timeout=10).status_code == 404


def test_internal_ports_take_only_the_certificates_the_chart_mounts(boot: Boot) -> None:
    with grpc.insecure_channel(CFG.addr("auth")) as ch, pytest.raises(grpc.RpcError) as err:
        auth_pb2_grpc.AuthServiceStub(ch).GetKey(auth_pb2.GetKeyRequest(), timeout=5)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE  # type: ignore[attr-defined]


def test_traces_reach_the_configured_collector(boot: Boot) -> None:
    assert boot.sink is not None
    deadline = time.monotonic() + 20  # the batch span processor exports every 5 s
    while time.monotonic() < deadline:
        exported = [body for path, body in boot.sink.requests if path == "/v1/traces"]
        if any(b"k8s.pod.name" in body and b"sy-switchyard-edge-0" in body for body in exported):
            return
        time.sleep(0.5)
    pytest.fail(f"no trace export carrying the pod's resource attributes; got {len(boot.sink.requests)} requests")


def _bytes(quantity: str) -> int:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "K": 10**3, "M": 10**6, "G": 10**9}
    for suffix, factor in units.items():
        if quantity.endswith(suffix):
            return int(float(quantity[: -len(suffix)]) * factor)
    return int(quantity)


def test_resident_memory_fits_the_chart_limits(boot: Boot) -> None:
    """After serving a request, each service's RSS (process tree) stays well under its limit."""
    report = {}
    for d in boot.release.of_kind("Deployment"):
        service = contract.service_of(d)
        limit = _bytes(policy.pod_spec(d)["containers"][0]["resources"]["limits"]["memory"])
        status = Path(f"/proc/{boot.pids[service]}/status").read_text()
        rss = int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1]) * 1024
        report[service] = (rss // 2**20, limit // 2**20)
    print("RSS MiB / limit MiB:", report)
    assert all(rss < limit * 0.75 for rss, limit in report.values()), report
