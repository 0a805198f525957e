"""Every variable the chart sets is one the service reads, and every setting a service requires is
set, for every values set. (The boot test then proves the values work, not just the names.)"""

from __future__ import annotations

import pytest
from chart import contract, policy, render, schemas


def _workloads(value_set: str) -> list[policy.Obj]:
    release = render.rendered(value_set, schemas.KUBE_VERSIONS[-1])
    # The helm-test Pod runs a one-line probe, not a service.
    return [o for o in release.objects if o["kind"] in ("Deployment", "Job")]


def test_chart_sets_only_variables_the_code_reads(value_set: str) -> None:
    problems = {}
    for obj in _workloads(value_set):
        service = contract.service_of(obj)
        unread = contract.unread(service, contract.rendered_names(obj))
        if unread:
            problems[obj["metadata"]["name"]] = unread
    assert problems == {}


def test_chart_sets_every_required_setting(value_set: str) -> None:
    problems = {}
    for obj in _workloads(value_set):
        service = contract.service_of(obj)
        missing = contract.missing(service, contract.rendered_names(obj))
        if missing:
            problems[obj["metadata"]["name"]] = missing
    assert problems == {}


def test_every_service_is_rendered_once() -> None:
    deployments = [o for o in _workloads("default") if o["kind"] == "Deployment"]
    assert sorted(contract.service_of(d) for d in deployments) == sorted(
        ["edge", "router", "provider-adapter", "auth", "copilot-budget", "guardrail", "callbacks"]
    )


@pytest.mark.parametrize(
    ("service", "names", "unread", "missing"),
    [
        ("edge", ["AUTH_ADR", "KAFKA_BOOTSTRAP_SERVERS"], ["AUTH_ADR"], ["DATABASE_URL", "REDIS_URL"]),
        ("auth", ["DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"], [], ["MASTER_KEY"]),
        ("guardrail", ["OTEL_EXPORTER_OTLP_ENDPOINT", "K8S_POD_NAME", "CONFIG_PATH"], ["CONFIG_PATH"], []),
    ],
)
def test_the_contract_check_catches_typos_and_omissions(
    service: str, names: list[str], unread: list[str], missing: list[str]
) -> None:
    assert contract.unread(service, names) == unread
    assert contract.missing(service, names) == missing
