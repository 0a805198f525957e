"""The contract between the chart and the code: which environment variables each service reads.

A service reads exactly the fields of its ``Settings`` class (pydantic-settings, names
upper-cased), plus the standard ``OTEL_*`` variables the OpenTelemetry SDK reads itself. A name
the chart sets that no one reads is a typo waiting to bite (pydantic ignores unknown names), and
a required field the chart does not set stops the service at start.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from chart.policy import Obj, pod_labels, pod_spec
from devstack.stack import SERVICES

# Inputs of OTEL_RESOURCE_ATTRIBUTES through $(VAR) expansion (the downward API), read by no one
# else.
DOWNWARD_API = {"K8S_POD_NAME", "K8S_NAMESPACE_NAME", "K8S_NODE_NAME"}


def service_of(obj: Obj) -> str:
    """The service a workload runs: its component label, or the service a migration Job migrates."""
    component = str(pod_labels(obj).get("app.kubernetes.io/component", ""))
    service = component.removeprefix("migrate-")
    if service not in SERVICES:
        raise KeyError(f"{obj['kind']}/{obj['metadata']['name']} runs no known service ({component!r})")
    return service


def settings_class(service: str) -> type:
    module = importlib.import_module(f"{SERVICES[service][0]}.config")
    settings: type = module.Settings
    return settings


def read_names(service: str) -> set[str]:
    return {name.upper() for name in settings_class(service).model_fields}  # type: ignore[attr-defined]


def required_names(service: str) -> set[str]:
    fields = settings_class(service).model_fields  # type: ignore[attr-defined]
    return {name.upper() for name, f in fields.items() if f.is_required()}


def rendered_names(obj: Obj) -> list[str]:
    containers = pod_spec(obj)["containers"]
    return [e["name"] for c in containers for e in c.get("env") or []]


def unread(service: str, names: Iterable[str]) -> list[str]:
    """Names the chart sets for ``service`` that its code does not read (and that are not
    standard OpenTelemetry variables, downward-API inputs or provisioned ahead)."""
    known = read_names(service) | DOWNWARD_API
    return sorted(n for n in names if n not in known and not n.startswith("OTEL_"))


def missing(service: str, names: Iterable[str]) -> list[str]:
    """Required settings of ``service`` the chart does not set."""
    return sorted(required_names(service) - set(names))
