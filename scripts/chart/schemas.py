"""Offline schema validation of rendered objects.

Built-in kinds: the strict JSON schemas (unknown fields rejected) that the ``kubernetes-validate``
package ships for each Kubernetes minor version. CRD kinds (ServiceMonitor, HTTPRoute,
cert-manager's Certificate and Issuer): the ``openAPIV3Schema`` of the CRD as its project
publishes it, taken from that project's Go module (fetched once through the Go module proxy into
.cache/), made strict the way the API server's strict field validation is: unknown fields are
errors unless the schema preserves them.
CEL rules (``x-kubernetes-validations``) are not evaluated here.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import kubernetes_validate  # type: ignore[import-untyped]
import yaml
from referencing import Registry, Resource

REPO = Path(__file__).resolve().parents[2]

# Two supported minors: the newest the validator ships and the oldest still maintained upstream.
KUBE_VERSIONS = ("1.35.0", "1.37.0")

# apiVersion/kind -> (Go module@version, path of the CRD inside it)
CRDS: dict[tuple[str, str], tuple[str, str]] = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): (
        "github.com/prometheus-operator/prometheus-operator@v0.85.0",
        "example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml",
    ),
    ("gateway.networking.k8s.io/v1", "HTTPRoute"): (
        "sigs.k8s.io/gateway-api@v1.6.3",
        "config/crd/standard/gateway.networking.k8s.io_httproutes.yaml",
    ),
    # cert-manager's CRD files carry Helm directives in comments and quoted labels only.
    ("cert-manager.io/v1", "Certificate"): (
        "github.com/cert-manager/cert-manager@v1.18.2",
        "deploy/crds/crd-certificates.yaml",
    ),
    ("cert-manager.io/v1", "Issuer"): (
        "github.com/cert-manager/cert-manager@v1.18.2",
        "deploy/crds/crd-issuers.yaml",
    ),
}
MODULE_CACHE = REPO / ".cache" / "go-crds"

Obj = dict[str, Any]


class SchemaUnavailable(RuntimeError):
    pass


def _schema_dir(version: str) -> Path:
    base = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    minor = ".".join(version.split(".")[:2])
    path = base / f"v{minor}.0-local-strict"
    if not path.is_dir():
        shipped = sorted(p.name for p in base.iterdir() if p.name.endswith("-local-strict"))
        raise SchemaUnavailable(f"kubernetes-validate ships no schemas for {minor} (it has {shipped})")
    return path


@functools.cache
def _registry(version: str) -> Registry:
    defs = json.loads((_schema_dir(version) / "_definitions.json").read_text())
    return Resource.from_contents(defs) @ Registry()


@functools.cache
def _builtin_validator(version: str, api_version: str, kind: str) -> jsonschema.protocols.Validator:
    # The package's file names: "v1" for the core group, "<group's first label>-<version>" else.
    group, _, ver = api_version.rpartition("/")
    slug = f"{group.split('.')[0]}-{ver}" if group else ver
    path = _schema_dir(version) / f"{kind.lower()}-{slug}.json"
    if not path.exists():
        raise SchemaUnavailable(f"no schema for {api_version} {kind} in Kubernetes {version}")
    schema = json.loads(path.read_text())
    return jsonschema.Draft202012Validator(schema, registry=_registry(version))


def _module_dir(module: str) -> Path:
    """Download a Go module (cached) and return its directory."""
    MODULE_CACHE.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GOMODCACHE": str(MODULE_CACHE), "GOFLAGS": "-modcacherw"}
    proc = subprocess.run(
        ["go", "mod", "download", "-json", module],
        capture_output=True,
        text=True,
        env=env,
        cwd=MODULE_CACHE,
        timeout=300,
        check=False,
    )
    try:
        info = json.loads(proc.stdout)
    except json.JSONDecodeError:
        info = {}
    if proc.returncode != 0 or "Dir" not in info:
        raise SchemaUnavailable(f"cannot fetch {module}: {info.get('Error') or proc.stderr.strip()}")
    return Path(info["Dir"])


def _strict(node: Any) -> Any:
    """OpenAPI v3 (Kubernetes structural schema) → JSON Schema with unknown fields rejected."""
    if isinstance(node, list):
        return [_strict(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _strict(v) for k, v in node.items() if not k.startswith("x-kubernetes-")}
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if node.get("nullable"):
        t = out.get("type")
        if isinstance(t, str):
            out["type"] = [t, "null"]
    out.pop("nullable", None)
    if (
        "properties" in node
        and "additionalProperties" not in node
        and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


@functools.cache
def _crd_validator(version: str, api_version: str, kind: str) -> jsonschema.protocols.Validator:
    module, rel = CRDS[(api_version, kind)]
    crd = yaml.safe_load((_module_dir(module) / rel).read_text())
    group, ver = api_version.split("/")
    if crd["spec"]["group"] != group or crd["spec"]["names"]["kind"] != kind:
        raise SchemaUnavailable(f"{rel} in {module} does not define {api_version} {kind}")
    for v in crd["spec"]["versions"]:
        if v["name"] == ver:
            if not v.get("served", False):
                raise SchemaUnavailable(f"{api_version} {kind} is not served by {module}")
            schema = _strict(copy.deepcopy(v["schema"]["openAPIV3Schema"]))
            break
    else:
        raise SchemaUnavailable(f"{module} has no version {ver} of {kind}")
    # The CRD leaves metadata to the API server: check it against the built-in ObjectMeta.
    schema["properties"]["metadata"] = {
        "$ref": "https://kubernetes.io/api/_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    }
    schema["required"] = sorted({*schema.get("required", []), "apiVersion", "kind", "metadata", "spec"})
    schema["properties"]["apiVersion"] = {"const": api_version}
    schema["properties"]["kind"] = {"const": kind}
    return jsonschema.Draft202012Validator(schema, registry=_registry(version))


def validator(version: str, obj: Obj) -> jsonschema.protocols.Validator:
    key = (str(obj["apiVersion"]), str(obj["kind"]))
    if key in CRDS:
        return _crd_validator(version, *key)
    return _builtin_validator(version, *key)


def is_crd(obj: Obj) -> bool:
    return (str(obj["apiVersion"]), str(obj["kind"])) in CRDS


def errors(version: str, obj: Obj) -> Iterator[str]:
    """Every schema violation of one object, as readable lines."""
    name = f"{obj['kind']}/{obj.get('metadata', {}).get('name', '?')}"
    try:
        v = validator(version, obj)
    except SchemaUnavailable as exc:
        yield f"{name}: {exc}"
        return
    for err in sorted(v.iter_errors(obj), key=lambda e: list(e.absolute_path)):
        path = ".".join(str(p) for p in err.absolute_path) or "(root)"
        yield f"{name} (Kubernetes {version}): {path}: {err.message[:300]}"
