"""The chart lints strictly, renders for every values set, and every rendered object is valid for
two Kubernetes versions and passes the policy assertions. The checkers are themselves shown to
catch what they claim to catch."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from chart import contract, policy, render, schemas


def test_helm_lint_strict(value_set: str, kube_version: str) -> None:
    report = render.lint(render.value_sets()[value_set], kube_version=kube_version)
    assert "0 chart(s) failed" in report, report


def test_every_object_matches_the_kubernetes_schemas(value_set: str, kube_version: str) -> None:
    release = render.rendered(value_set, kube_version)
    errors = [e for obj in release.objects for e in schemas.errors(kube_version, obj)]
    kinds: dict[str, int] = {}
    for obj in release.objects:
        kinds[obj["kind"]] = kinds.get(obj["kind"], 0) + 1
    print(f"{value_set} on Kubernetes {kube_version}: {len(release.objects)} objects {kinds}, {len(errors)} errors")
    assert release.objects
    assert errors == []


def test_policy(value_set: str) -> None:
    release = render.rendered(value_set, schemas.KUBE_VERSIONS[-1])
    assert policy.violations(release.objects) == []


def test_examples_cover_what_platform_teams_need() -> None:
    """ci/ keeps its promises: the production example has autoscaling, disruption budgets,
    NetworkPolicies, an Ingress and ServiceMonitors; the managed-services one TLS and SASL; the
    minimal one NetworkPolicies all the same."""
    v = schemas.KUBE_VERSIONS[-1]
    prod = render.rendered("production-values", v)
    kinds = {o["kind"] for o in prod.objects}
    assert {"HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy", "Ingress", "ServiceMonitor"} <= kinds
    assert all("replicas" not in d["spec"] for d in prod.of_kind("Deployment")), "HPA-managed replicas"

    ext = render.rendered("external-managed-values", v)
    auth = ext.get("Deployment", "sy-switchyard-auth")
    env = {e["name"]: e for e in policy.pod_spec(auth)["containers"][0]["env"]}
    assert env["KAFKA_SECURITY_PROTOCOL"]["value"] == "SASL_SSL"
    assert env["KAFKA_SASL_MECHANISM"]["value"] == "SCRAM-SHA-512"
    assert env["KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "switchyard-msk-scram"
    assert env["KAFKA_SSL_CAFILE"]["value"] == "/etc/switchyard/tls/kafka/ca.crt"
    mounts = {m["mountPath"] for m in policy.pod_spec(auth)["containers"][0]["volumeMounts"]}
    assert {"/etc/switchyard/tls/postgresql", "/etc/switchyard/tls/kafka"} <= mounts
    assert ext.of_kind("HTTPRoute") and not ext.of_kind("ConfigMap"), "existing ConfigMap used, none rendered"

    minimal = render.rendered("minimal-values", v)
    assert minimal.of_kind("NetworkPolicy") and not minimal.of_kind("Job")
    assert all(d["spec"]["replicas"] == 1 for d in minimal.of_kind("Deployment"))


def test_migrations_run_in_a_hook_and_services_then_skip_them() -> None:
    release = render.rendered("default", schemas.KUBE_VERSIONS[-1])
    jobs = {j["metadata"]["name"]: j for j in release.of_kind("Job")}
    assert set(jobs) == {
        "sy-switchyard-migrate-auth",
        "sy-switchyard-migrate-copilot-budget",
        "sy-switchyard-migrate-edge",
        "sy-switchyard-migrate-router",
    }
    for job in jobs.values():
        assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
        assert policy.pod_spec(job)["containers"][0]["args"] == ["migrate"]
    migrate_on_start = {
        d["metadata"]["name"]: e["value"]
        for d in release.of_kind("Deployment")
        for e in policy.pod_spec(d)["containers"][0]["env"]
        if e["name"] == "MIGRATE_ON_START"
    }
    # The hook migrates every service that owns a schema, so none of them migrates at start.
    assert migrate_on_start == {
        "sy-switchyard-auth": "false",
        "sy-switchyard-copilot-budget": "false",
        "sy-switchyard-edge": "false",
        "sy-switchyard-router": "false",
    }
    minimal = render.rendered("minimal-values", schemas.KUBE_VERSIONS[-1])
    assert {
        e["value"]
        for d in minimal.of_kind("Deployment")
        for e in policy.pod_spec(d)["containers"][0]["env"]
        if e["name"] == "MIGRATE_ON_START"
    } == {"true"}


def test_network_policies_allow_exactly_the_architecture_flows() -> None:
    """Derived from the rendered policies: who may reach whose gRPC port, and who may leave for
    which backend. ARCHITECTURE.md: edge -> the five services; edge (its stored responses), auth,
    copilot-budget, router -> PostgreSQL; copilot-budget, router -> Redis; edge, auth,
    copilot-budget -> Kafka; provider-adapter -> providers; auth -> the OIDC identity provider
    (sign-in is configured in production-values); and router -> provider-adapter for deployment
    health checks."""
    release = render.rendered("production-values", schemas.KUBE_VERSIONS[-1])
    by_component = {
        p["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/component"]: p
        for p in release.of_kind("NetworkPolicy")
    }
    callers = {}
    for name, p in by_component.items():
        for rule in p["spec"].get("ingress") or []:
            for peer in rule.get("from") or []:
                labels = peer.get("podSelector", {}).get("matchLabels", {})
                if "namespaceSelector" not in peer and labels.get("app.kubernetes.io/instance") == "sy":
                    callers.setdefault(name, set()).add(labels["app.kubernetes.io/component"])
    assert callers == {
        "auth": {"edge"},
        "copilot-budget": {"edge"},
        "guardrail": {"edge"},
        "router": {"edge"},
        "provider-adapter": {"edge", "router"},  # the router health-checks deployments through it
        "edge": {"test"},
    }

    def egress_ports(component: str) -> set[int]:
        rules = by_component[component]["spec"]["egress"]
        return {port["port"] for r in rules for port in r.get("ports") or [] if isinstance(port["port"], int)}

    assert egress_ports("edge") == {53, 5432, 6379, 9092, 4318, 50051, 50052, 50053, 50054, 50055}
    assert egress_ports("auth") == {53, 5432, 9092, 4318, 443}
    assert egress_ports("copilot-budget") == {53, 5432, 6379, 9092, 4318}
    assert egress_ports("router") == {53, 5432, 6379, 4318, 50052}
    assert egress_ports("provider-adapter") == {53, 443, 4318}
    assert egress_ports("guardrail") == {53, 4318}
    assert egress_ports("migrate-auth") == {53, 5432}


def test_notes_tell_how_to_reach_the_api_and_create_the_first_key(value_set: str) -> None:
    notes = render.notes(render.value_sets()[value_set], kube_version=schemas.KUBE_VERSIONS[-1])
    assert "/key/generate" in notes and "Authorization: Bearer $MASTER_KEY" in notes
    assert "kubectl -n switchyard get secret switchyard-master-key" in notes
    assert "/v1/chat/completions" in notes
    assert re.search(r"export SWITCHYARD_URL=https?://\S+", notes), notes


# --- the values schema -----------------------------------------------------------------------


def _walk(node: Any, path: str = "$") -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        if node.get("type") == "object" or "properties" in node:
            out.append((path, node))
        for key, value in node.items():
            out += _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _walk(value, f"{path}[{i}]")
    return out


def test_values_schema_rejects_unknown_keys_everywhere() -> None:
    schema = json.loads((render.CHART / "values.schema.json").read_text())
    open_objects = [
        path
        for path, node in _walk(schema)
        if node.get("additionalProperties") is not False
        and not isinstance(node.get("additionalProperties"), dict)  # typed maps (labels, env)
        and path != "$.properties.global"  # Helm's parent-chart convention, unused here
    ]
    assert open_objects == []


@pytest.mark.parametrize(
    ("key", "unknown"),
    [
        ("replicaCount", "replicaCount"),
        ("services.edge.replicaz", "replicaz"),
        ("services.gateway.replicas", "gateway"),
        ("networkPolicy.egress.postgres.to", "postgres"),
        ("kafka.sasl.mechanizm", "mechanizm"),
        # What is each service's own has no default.
        ("serviceDefaults.grpcHealthService", "grpcHealthService"),
        ("serviceDefaults.image.repository", "repository"),
        ("serviceDefaults.ports.grpc", "grpc"),
    ],
)
def test_unknown_values_are_rejected(key: str, unknown: str) -> None:
    with pytest.raises(render.HelmError) as err:
        render.template(set_values={key: "1"}, kube_version=schemas.KUBE_VERSIONS[-1])
    assert "additional properties" in str(err.value).lower()
    assert f"'{unknown}'" in str(err.value)  # quoted: helm's own words, not the --set echoed back


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"postgresql": {"existingSecret": ""}}, "set postgresql.existingSecret"),
        ({"kafka": {"securityProtocol": "SASL_SSL"}}, "needs kafka.sasl.mechanism"),
        ({"kafka": {"sasl": {"mechanism": "PLAIN"}}}, "needs kafka.securityProtocol SASL_PLAINTEXT or SASL_SSL"),
        (
            {"services": {"edge": {"env": {"AUTH_ADDR": "elsewhere:1"}}}},
            "services.edge.env.AUTH_ADDR is set by the chart",
        ),
        ({"securityContext": {"runAsUser": 0}}, "runAsUser"),
        ({"httpRoute": {"enabled": True}}, "needs httpRoute.parentRefs"),
        ({"modelConfig": {"inline": "model_list: [unclosed"}}, "modelConfig.inline is not valid YAML"),
        ({"masterKey": {"existingSecret": ""}}, "/masterKey/existingSecret"),
    ],
)
def test_misconfiguration_fails_with_a_clear_message(values: dict[str, Any], message: str, tmp_path: Path) -> None:
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(values))
    with pytest.raises(render.HelmError) as err:
        render.template([path], kube_version=schemas.KUBE_VERSIONS[-1])
    assert message in str(err.value)


def test_service_defaults_reach_every_service_and_a_service_entry_wins(tmp_path: Path) -> None:
    path = tmp_path / "values.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "serviceDefaults": {
                    "replicas": 3,
                    "env": {"SHARED_SETTING": "all"},
                    "podLabels": {"team": "llm"},
                    "resources": {"requests": {"cpu": "300m", "memory": "300Mi"}, "limits": {"memory": "600Mi"}},
                },
                "services": {
                    "router": {
                        "replicas": 1,
                        "env": {"OWN_SETTING": "router"},
                        "podDisruptionBudget": {"enabled": False},
                        "autoscaling": {"enabled": True},
                    },
                },
            }
        )
    )
    out = render.template([path], kube_version=schemas.KUBE_VERSIONS[-1])
    deployments = {contract.service_of(d): d for d in out.of_kind("Deployment")}
    assert len(deployments) == 7
    for name, d in deployments.items():
        pod = policy.pod_spec(d)
        env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
        assert env["SHARED_SETTING"] == "all", name
        assert d["spec"]["template"]["metadata"]["labels"]["team"] == "llm", name
        # The edge and the provider adapter size themselves; the others take the default size.
        requests = pod["containers"][0]["resources"]["requests"]
        assert requests["cpu"] == ("250m" if name in ("edge", "provider-adapter") else "300m"), name
    router = policy.pod_spec(deployments["router"])
    assert {e["name"]: e.get("value") for e in router["containers"][0]["env"]}["OWN_SETTING"] == "router"
    assert deployments["guardrail"]["spec"]["replicas"] == 3
    # An entry overrides single values (false and 0 included) and merges maps key by key.
    assert "replicas" not in deployments["router"]["spec"]  # autoscaled
    [hpa] = out.of_kind("HorizontalPodAutoscaler")
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 6)
    budgets = {p["metadata"]["labels"]["app.kubernetes.io/component"] for p in out.of_kind("PodDisruptionBudget")}
    assert budgets == set(deployments) - {"router"}


SECRET_LOOKING = re.compile(r"^(sk-[A-Za-z0-9]|[a-z]+://[^/\s:@]+:[^/\s@]+@)")


def test_default_values_hold_no_secret_values() -> None:
    """Secrets are referenced by Secret name only: no key-shaped or credential-bearing strings."""
    values = yaml.safe_load((render.CHART / "values.yaml").read_text())
    leaks: list[str] = []

    def visit(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                visit(v, f"{path}.{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                visit(v, f"{path}[{i}]")
        elif isinstance(node, str):
            leaf = path.rsplit(".", 1)[-1].lower()
            if SECRET_LOOKING.search(node.strip()):
                leaks.append(path)
            names_a_secret_key = leaf.endswith("key") and leaf not in ("apikey", "api_key")  # e.g. passwordKey
            if any(w in leaf for w in ("password", "token", "apikey", "api_key")) and node and not names_a_secret_key:
                leaks.append(path)

    visit(values, "values")
    assert leaks == []


# --- the checkers catch what they claim ------------------------------------------------------


def _deployment(release: render.Rendered, name: str = "sy-switchyard-edge") -> dict[str, Any]:
    return copy.deepcopy(release.get("Deployment", name))


MUTATIONS = {
    "runAsNonRoot is not true": lambda c, s: (
        c["securityContext"].update(runAsNonRoot=False) or s["securityContext"].update(runAsNonRoot=False)
    ),
    "root filesystem is writable": lambda c, s: c["securityContext"].update(readOnlyRootFilesystem=False),
    "allowPrivilegeEscalation is not false": lambda c, s: c["securityContext"].pop("allowPrivilegeEscalation"),
    "capabilities do not drop ALL": lambda c, s: c["securityContext"]["capabilities"].update(drop=["NET_RAW"]),
    "no memory limit": lambda c, s: c["resources"].pop("limits"),
    "no cpu request": lambda c, s: c["resources"]["requests"].pop("cpu"),
    "uses the latest tag": lambda c, s: c.update(image="registry.example.com/switchyard-edge:latest"),
    "has no tag or digest": lambda c, s: c.update(image="switchyard-edge"),
    "no readinessProbe": lambda c, s: c.pop("readinessProbe"),
    "DATABASE_URL is not taken from a Secret": lambda c, s: c["env"].append(
        {"name": "DATABASE_URL", "value": "postgresql://u:p@db/x"}
    ),
    "envFrom a Secret outside the provider adapter": lambda c, s: c.update(
        envFrom=[{"secretRef": {"name": "switchyard-provider-credentials"}}]
    ),
    "environment variables set twice": lambda c, s: c["env"].append({"name": "LOG_LEVEL", "value": "DEBUG"}),
    "automountServiceAccountToken is not false": lambda c, s: s.pop("automountServiceAccountToken"),
    "hostPath volume": lambda c, s: s["volumes"].append({"name": "host", "hostPath": {"path": "/"}}),
    "terminationGracePeriodSeconds": lambda c, s: s.update(terminationGracePeriodSeconds=10),
}


@pytest.mark.parametrize("expected", list(MUTATIONS))
def test_policy_catches_an_insecure_or_broken_deployment(expected: str) -> None:
    release = render.rendered("production-values", schemas.KUBE_VERSIONS[-1])
    bad = _deployment(release)
    spec = bad["spec"]["template"]["spec"]
    MUTATIONS[expected](spec["containers"][0], spec)
    objects = [bad if o is release.get("Deployment", "sy-switchyard-edge") else o for o in release.objects]
    found = policy.violations(objects)
    assert any(expected in v for v in found), found


def test_policy_catches_dangling_references() -> None:
    release = render.rendered("production-values", schemas.KUBE_VERSIONS[-1])
    objects = copy.deepcopy(release.objects)
    service = next(o for o in objects if o["kind"] == "Service" and o["metadata"]["name"] == "sy-switchyard-router")
    service["spec"]["selector"]["app.kubernetes.io/component"] = "routr"
    netpol = next(o for o in objects if o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == "sy-switchyard-edge")
    netpol["spec"]["egress"][1]["to"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] = "gone"
    hpa = next(o for o in objects if o["kind"] == "HorizontalPodAutoscaler")
    hpa["spec"]["scaleTargetRef"]["name"] = "nothing"
    job_sa = next(o for o in objects if o["kind"] == "ServiceAccount" and o["metadata"]["name"].endswith("-migrate"))
    del job_sa["metadata"]["annotations"]["helm.sh/hook"]
    found = "\n".join(policy.violations(objects))
    assert "Service/sy-switchyard-router: selects no Deployment" in found
    assert "NetworkPolicy/sy-switchyard-edge: egress peer" in found
    assert "scale target" in found
    assert "needs ServiceAccount/sy-switchyard-migrate, which is not a" in found


def test_schema_validation_catches_unknown_and_mistyped_fields() -> None:
    v = schemas.KUBE_VERSIONS[0]
    prod = render.rendered("production-values", v)
    deployment = copy.deepcopy(prod.get("Deployment", "sy-switchyard-auth"))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["grpc"]["sevice"] = "x"
    monitor = copy.deepcopy(prod.of_kind("ServiceMonitor")[0])
    monitor["spec"]["endpoints"][0]["intervall"] = "15s"
    route = copy.deepcopy(render.rendered("external-managed-values", v).of_kind("HTTPRoute")[0])
    route["spec"]["rules"][0]["backendRefs"][0]["port"] = "http"
    assert any("'sevice' was unexpected" in e for e in schemas.errors(v, deployment))
    assert any("'intervall' was unexpected" in e for e in schemas.errors(v, monitor))
    assert any("is not of type 'integer'" in e for e in schemas.errors(v, route))


def test_the_event_spool_can_live_on_a_claim_that_outlives_the_pod(tmp_path: Path) -> None:
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump({"kafka": {"spool": {"existingClaim": "switchyard-spool"}}}))
    out = render.template([path], kube_version=schemas.KUBE_VERSIONS[-1])
    producers = 0
    for d in out.of_kind("Deployment"):
        pod = policy.pod_spec(d)
        env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
        if "EVENT_SPOOL_DIR" not in env:
            continue
        producers += 1
        [volume] = [v for v in pod["volumes"] if v["name"] == "event-spool"]
        assert volume == {"name": "event-spool", "persistentVolumeClaim": {"claimName": "switchyard-spool"}}
        mounts = {m["name"]: m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
        assert mounts["event-spool"] == env["EVENT_SPOOL_DIR"]
    assert producers == 4, "edge, auth and copilot-budget spool events, callbacks its dead letters"
    default = render.rendered("minimal-values", schemas.KUBE_VERSIONS[-1])
    edge = default.get("Deployment", "sy-switchyard-edge")
    [volume] = [v for v in policy.pod_spec(edge)["volumes"] if v["name"] == "event-spool"]
    assert "emptyDir" in volume


def test_autoscaling_bounds_given_with_set_are_checked_as_numbers() -> None:
    """--set gives integers, values files floats: the bounds check must take either."""
    on = {"services.edge.autoscaling.enabled": "true"}
    rendered = render.template(
        kube_version=schemas.KUBE_VERSIONS[-1], set_values={**on, "services.edge.autoscaling.maxReplicas": "7"}
    )
    hpa = [o for o in rendered.objects if o["kind"] == "HorizontalPodAutoscaler"]
    assert [o["spec"]["maxReplicas"] for o in hpa] == [7]
    with pytest.raises(render.HelmError) as err:
        render.template(
            kube_version=schemas.KUBE_VERSIONS[-1],
            set_values={
                **on,
                "services.edge.autoscaling.maxReplicas": "1",
                "services.edge.autoscaling.minReplicas": "3",
            },
        )
    assert "maxReplicas < minReplicas" in str(err.value)
