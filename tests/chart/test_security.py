"""The chart's side of authenticated internal calls: each service's certificate (from existing
Secrets or cert-manager) mounted read-only where the code reads it, probes that need no client
certificate, mesh mode without in-app TLS, NetworkPolicies in every profile, per-service Redis and
Kafka credentials, and the edge's metrics on a port of their own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from chart import policy, render, schemas

V = schemas.KUBE_VERSIONS[-1]
SERVICES = ["auth", "callbacks", "copilot-budget", "edge", "guardrail", "provider-adapter", "router"]
INTERNAL = [s for s in SERVICES if s != "edge"]


def _container(release: render.Rendered, service: str) -> dict[str, Any]:
    container: dict[str, Any] = policy.pod_spec(release.get("Deployment", f"sy-switchyard-{service}"))["containers"][0]
    return container


def _env(release: render.Rendered, service: str) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in _container(release, service)["env"]}


def _volumes(release: render.Rendered, service: str) -> dict[str, dict[str, Any]]:
    spec = policy.pod_spec(release.get("Deployment", f"sy-switchyard-{service}"))
    return {v["name"]: v for v in spec["volumes"]}


def test_network_policies_in_every_profile(value_set: str) -> None:
    release = render.rendered(value_set, V)
    selected = {
        p["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] for p in release.of_kind("NetworkPolicy")
    }
    assert set(SERVICES) <= selected


def test_each_service_mounts_its_own_certificate_from_an_existing_secret() -> None:
    release = render.rendered("default", V)
    for service in SERVICES:
        env = _env(release, service)
        assert {k: env[k]["value"] for k in ("GRPC_TLS_CERT_FILE", "GRPC_TLS_KEY_FILE", "GRPC_TLS_CA_FILE")} == {
            "GRPC_TLS_CERT_FILE": "/etc/switchyard/grpc-tls/tls.crt",
            "GRPC_TLS_KEY_FILE": "/etc/switchyard/grpc-tls/tls.key",
            "GRPC_TLS_CA_FILE": "/etc/switchyard/grpc-tls/ca.crt",
        }
        volume = _volumes(release, service)["grpc-tls"]["secret"]
        assert volume["secretName"] == f"switchyard-grpc-tls-{service}"
        assert volume["defaultMode"] == 0o440
        mount = next(m for m in _container(release, service)["volumeMounts"] if m["name"] == "grpc-tls")
        # A whole-directory mount: Kubernetes updates it in place on renewal (a subPath never is).
        assert mount == {"name": "grpc-tls", "mountPath": "/etc/switchyard/grpc-tls", "readOnly": True}
    # Migration Jobs call no peer: no certificate.
    for job in release.of_kind("Job"):
        assert "grpc-tls" not in {v["name"] for v in policy.pod_spec(job)["volumes"]}
    assert not release.of_kind("Certificate")


def test_probes_use_the_plaintext_health_port_while_the_grpc_port_wants_a_certificate() -> None:
    release = render.rendered("default", V)
    for service in INTERNAL:
        c = _container(release, service)
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        assert ports["grpc-health"] == 50060
        assert _env(release, service)["GRPC_HEALTH_PORT"]["value"] == "50060"
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert c[probe]["grpc"]["port"] == 50060
        service_ports = {p["name"]: p for p in release.get("Service", f"sy-switchyard-{service}")["spec"]["ports"]}
        assert "grpc-health" not in service_ports and "appProtocol" not in service_ports["grpc"]
    for p in release.of_kind("NetworkPolicy"):
        for rule in p["spec"].get("ingress") or []:
            assert all(port["port"] not in ("grpc-health", 50060) for port in rule.get("ports") or [])
    # The edge's gRPC port is its public Gateway API (API keys), probed over HTTP.
    assert "GRPC_HEALTH_PORT" not in _env(release, "edge")
    assert "GRPC_TLS_CERT_FILE" in _env(release, "edge")  # it calls its peers with its certificate


def test_cert_manager_issues_one_certificate_per_service() -> None:
    release = render.rendered("production-values", V)
    certs = {c["spec"]["secretName"]: c["spec"] for c in release.of_kind("Certificate")}
    assert set(certs) == {f"switchyard-grpc-tls-{s}" for s in SERVICES}
    auth = certs["switchyard-grpc-tls-auth"]
    assert auth["uris"] == ["spiffe://switchyard/auth"]
    assert auth["dnsNames"] == [
        "sy-switchyard-auth",
        "sy-switchyard-auth.switchyard.svc",
        "sy-switchyard-auth.switchyard.svc.cluster.local",
    ]
    assert set(auth["usages"]) == {"server auth", "client auth", "digital signature"}
    assert auth["issuerRef"] == {"name": "internal-ca", "kind": "ClusterIssuer", "group": "cert-manager.io"}
    assert auth["privateKey"]["rotationPolicy"] == "Always"
    assert not release.of_kind("Issuer")
    # The Secrets cert-manager writes are the ones the pods mount.
    for service in SERVICES:
        assert _volumes(release, service)["grpc-tls"]["secret"]["secretName"] in certs


def test_cert_manager_can_bootstrap_a_private_ca() -> None:
    release = render.rendered("minimal-values", V)
    issuers = {i["metadata"]["name"]: i["spec"] for i in release.of_kind("Issuer")}
    assert issuers == {
        "sy-switchyard-grpc-selfsigned": {"selfSigned": {}},
        "sy-switchyard-grpc-ca": {"ca": {"secretName": "sy-switchyard-grpc-ca"}},
    }
    ca = release.get("Certificate", "sy-switchyard-grpc-ca")["spec"]
    assert ca["isCA"] is True and ca["issuerRef"]["name"] == "sy-switchyard-grpc-selfsigned"
    leaf = release.get("Certificate", "sy-switchyard-edge-grpc")["spec"]
    assert leaf["issuerRef"] == {"name": "sy-switchyard-grpc-ca", "kind": "Issuer", "group": "cert-manager.io"}


def test_service_mesh_mode_leaves_tls_to_the_sidecars() -> None:
    release = render.rendered("service-mesh-values", V)
    assert not release.of_kind("Certificate")
    for service in SERVICES:
        env = _env(release, service)
        assert not {k for k in env if k.startswith(("GRPC_TLS_", "GRPC_HEALTH"))}
        assert "grpc-tls" not in _volumes(release, service)
        labels = release.get("Deployment", f"sy-switchyard-{service}")["spec"]["template"]["metadata"]["labels"]
        assert labels["sidecar.istio.io/inject"] == "true"
    for service in INTERNAL:
        c = _container(release, service)
        assert c["readinessProbe"]["grpc"]["port"] == c["ports"][0]["containerPort"]
        grpc_port = release.get("Service", f"sy-switchyard-{service}")["spec"]["ports"][0]
        assert grpc_port["appProtocol"] == "kubernetes.io/h2c"  # plaintext to the sidecar
    assert release.of_kind("NetworkPolicy")


def test_per_service_redis_and_kafka_credentials() -> None:
    release = render.rendered("external-managed-values", V)

    def secret(service: str, name: str) -> str:
        ref: str = _env(release, service)[name]["valueFrom"]["secretKeyRef"]["name"]
        return ref

    assert secret("edge", "REDIS_URL") == "switchyard-elasticache-edge"
    assert secret("router", "REDIS_URL") == "switchyard-elasticache-router"
    assert secret("copilot-budget", "REDIS_URL") == "switchyard-elasticache-budget"
    assert _env(release, "edge")["KAFKA_SASL_USERNAME"]["value"] == "switchyard-edge"
    assert secret("edge", "KAFKA_SASL_PASSWORD") == "switchyard-msk-edge"
    # Without an entry of its own, a service uses the shared user.
    assert _env(release, "auth")["KAFKA_SASL_USERNAME"]["value"] == "switchyard"
    assert secret("auth", "KAFKA_SASL_PASSWORD") == "switchyard-msk-scram"


def test_edge_metrics_have_their_own_port() -> None:
    release = render.rendered("production-values", V)
    edge = _container(release, "edge")
    assert {p["name"]: p["containerPort"] for p in edge["ports"]} == {"grpc": 50050, "http": 4000, "metrics": 9090}
    assert _env(release, "edge")["METRICS_PORT"]["value"] == "9090"
    assert "SERVE_OPENAPI" not in _env(release, "edge")
    policy_rules = release.get("NetworkPolicy", "sy-switchyard-edge")["spec"]["ingress"]
    scrape = [r for r in policy_rules if any(p["port"] == "metrics" for p in r["ports"])]
    assert len(scrape) == 1 and [p["port"] for p in scrape[0]["ports"]] == ["metrics"]
    assert scrape[0]["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]
    clients = [r for r in policy_rules if any(p["port"] == "http" for p in r["ports"])]
    assert all(r["from"] != scrape[0]["from"] for r in clients), "the scraper must not reach the API port"
    monitor = release.get("ServiceMonitor", "sy-switchyard-edge")
    assert monitor["spec"]["endpoints"][0]["port"] == "metrics"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"grpcTls": {"certManager": {"enabled": True}}}, "grpcTls.certManager needs issuerRef.name"),
        (
            {"services": {"edge": {"credentials": {"kafka": {"username": "edge"}}}}},
            "services.edge.credentials.kafka needs kafka.sasl.mechanism",
        ),
        ({"services": {"auth": {"env": {"GRPC_TLS_CA_FILE": "/x"}}}}, "services.auth.env.GRPC_TLS_CA_FILE is set by"),
    ],
)
def test_security_misconfiguration_fails_with_a_clear_message(
    values: dict[str, Any], message: str, tmp_path: Path
) -> None:
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(values))
    with pytest.raises(render.HelmError) as err:
        render.template([path], kube_version=V)
    assert message in str(err.value)
