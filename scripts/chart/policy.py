"""Policy assertions over a rendered release: what a careful reviewer checks by eye, as code.

``violations(objects)`` returns one readable line per broken rule (empty = compliant):
- every container non-root, read-only root filesystem, no privilege escalation, ALL
  capabilities dropped, seccomp RuntimeDefault; no host namespaces or hostPath volumes;
- every container has CPU and memory requests and a memory limit; long-running ones have
  startup, readiness and liveness probes on ports they expose;
- images pinned by tag or digest, never ``latest``;
- ServiceAccount tokens not mounted; every referenced ServiceAccount rendered;
- secrets only by reference (secretKeyRef / envFrom), provider credentials only in the
  provider adapter; no duplicate environment variables;
- every Service selects a Deployment and targets ports it exposes; every HPA, PDB, Ingress,
  HTTPRoute and ServiceMonitor points at something rendered; a PDB never forbids all evictions;
- with NetworkPolicies on, every workload is selected by one and every in-namespace peer exists;
- hook objects a hook Job depends on are hooks of the same phase with a lower weight;
- the termination grace period covers the preStop sleep plus the service's drain time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

Obj = dict[str, Any]

WORKLOAD_KINDS = ("Deployment", "Job", "Pod")
# Environment variables that carry secrets and so must come from a Secret.
SECRET_ENV = {
    "MASTER_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "KAFKA_SASL_PASSWORD",
    "OTEL_EXPORTER_OTLP_HEADERS",
}
SECRET_ENV_SUFFIXES = ("_API_KEY", "_SECRET", "_PASSWORD", "_TOKEN")
PROVIDER_COMPONENT = "provider-adapter"


def _name(obj: Obj) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


def pod_spec(obj: Obj) -> Obj:
    if obj["kind"] == "Pod":
        return dict(obj["spec"])
    return dict(obj["spec"]["template"]["spec"])


def pod_labels(obj: Obj) -> Mapping[str, str]:
    if obj["kind"] == "Pod":
        return dict(obj["metadata"].get("labels") or {})
    return dict(obj["spec"]["template"]["metadata"].get("labels") or {})


def _containers(spec: Obj) -> list[Obj]:
    return [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]


def _selects(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """LabelSelector semantics (matchLabels and matchExpressions); an empty selector matches all."""
    if not selector:
        return True
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if (op == "In" and labels.get(key) not in values) or (op == "NotIn" and labels.get(key) in values):
            return False
        if (op == "Exists" and key not in labels) or (op == "DoesNotExist" and key in labels):
            return False
    return True


def _hook(obj: Obj) -> tuple[set[str], int] | None:
    ann = obj["metadata"].get("annotations") or {}
    if "helm.sh/hook" not in ann:
        return None
    return set(ann["helm.sh/hook"].split(",")), int(ann.get("helm.sh/hook-weight", "0"))


def _component(obj: Obj) -> str:
    return str(pod_labels(obj).get("app.kubernetes.io/component", ""))


def _image_violations(where: str, image: str) -> Iterator[str]:
    if "@sha256:" in image:
        return
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        yield f"{where}: image {image!r} has no tag or digest"
    elif last.rsplit(":", 1)[1] in ("latest", ""):
        yield f"{where}: image {image!r} uses the latest tag"


def _container_violations(obj: Obj, spec: Obj, c: Obj) -> Iterator[str]:
    where = f"{_name(obj)} container {c['name']}"
    pod_sc = spec.get("securityContext") or {}
    sc = c.get("securityContext") or {}
    run_as_non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot"))
    run_as_user = sc.get("runAsUser", pod_sc.get("runAsUser"))
    if run_as_non_root is not True:
        yield f"{where}: runAsNonRoot is not true"
    if run_as_user is None or int(run_as_user) == 0:
        yield f"{where}: no fixed non-root runAsUser"
    if sc.get("readOnlyRootFilesystem") is not True:
        yield f"{where}: root filesystem is writable"
    if sc.get("allowPrivilegeEscalation") is not False:
        yield f"{where}: allowPrivilegeEscalation is not false"
    if sc.get("privileged"):
        yield f"{where}: privileged"
    caps = sc.get("capabilities") or {}
    if "ALL" not in (caps.get("drop") or []):
        yield f"{where}: capabilities do not drop ALL"
    if caps.get("add"):
        yield f"{where}: adds capabilities {caps['add']}"
    seccomp = (sc.get("seccompProfile") or pod_sc.get("seccompProfile") or {}).get("type")
    if seccomp not in ("RuntimeDefault", "Localhost"):
        yield f"{where}: seccomp profile is {seccomp!r}, not RuntimeDefault"
    res = c.get("resources") or {}
    for key in ("cpu", "memory"):
        if key not in (res.get("requests") or {}):
            yield f"{where}: no {key} request"
    if "memory" not in (res.get("limits") or {}):
        yield f"{where}: no memory limit"
    yield from _image_violations(where, str(c.get("image", "")))
    names = [e["name"] for e in c.get("env") or []]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        yield f"{where}: environment variables set twice: {dupes}"
    for e in c.get("env") or []:
        secretish = e["name"] in SECRET_ENV or e["name"].endswith(SECRET_ENV_SUFFIXES)
        if secretish and "secretKeyRef" not in (e.get("valueFrom") or {}):
            yield f"{where}: {e['name']} is not taken from a Secret"
    if any("secretRef" in src for src in c.get("envFrom") or []) and _component(obj) != PROVIDER_COMPONENT:
        yield f"{where}: envFrom a Secret outside the provider adapter"
    if obj["kind"] == "Deployment":
        ports = {p.get("name"): p["containerPort"] for p in c.get("ports") or []}
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            p = c.get(probe)
            if not p:
                yield f"{where}: no {probe}"
                continue
            port = (p.get("grpc") or p.get("httpGet") or p.get("tcpSocket") or {}).get("port")
            if port is None:
                yield f"{where}: {probe} has no port"
            elif isinstance(port, str) and port not in ports:
                yield f"{where}: {probe} uses port {port!r}, which the container does not name"
            elif isinstance(port, int) and port not in ports.values():
                yield f"{where}: {probe} uses port {port}, which the container does not expose"
        grace = spec.get("terminationGracePeriodSeconds", 30)
        sleep = ((c.get("lifecycle") or {}).get("preStop") or {}).get("sleep", {}).get("seconds", 0)
        drain = next((float(e["value"]) for e in c.get("env") or [] if e["name"] == "SHUTDOWN_GRACE_SECONDS"), 0.0)
        if grace <= sleep + drain:
            yield f"{where}: terminationGracePeriodSeconds {grace} <= preStop sleep {sleep} + drain {drain}"


def _workload_violations(obj: Obj, accounts: set[str]) -> Iterator[str]:
    spec = pod_spec(obj)
    where = _name(obj)
    if spec.get("automountServiceAccountToken") is not False:
        yield f"{where}: automountServiceAccountToken is not false"
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(key):
            yield f"{where}: {key}"
    for vol in spec.get("volumes") or []:
        if "hostPath" in vol:
            yield f"{where}: hostPath volume {vol['name']}"
    sa = spec.get("serviceAccountName")
    if sa and sa not in accounts:
        yield f"{where}: ServiceAccount {sa} is not rendered"
    pod_sc = spec.get("securityContext") or {}
    if pod_sc.get("runAsNonRoot") is not True:
        yield f"{where}: pod runAsNonRoot is not true"
    for c in _containers(spec):
        yield from _container_violations(obj, spec, c)


def _network_violations(objects: list[Obj], workloads: list[Obj]) -> Iterator[str]:
    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    if not policies:
        return
    for w in workloads:
        if not any(_selects(p["spec"].get("podSelector"), pod_labels(w)) for p in policies):
            yield f"{_name(w)}: no NetworkPolicy selects its pods"
    for p in policies:
        where = _name(p)
        selected = [w for w in workloads if _selects(p["spec"].get("podSelector"), pod_labels(w))]
        if not selected:
            yield f"{where}: its podSelector matches no rendered workload"
        for direction, key in (("ingress", "from"), ("egress", "to")):
            for rule in p["spec"].get(direction) or []:
                for peer in rule.get(key) or []:
                    in_namespace = "podSelector" in peer and "namespaceSelector" not in peer
                    if in_namespace and not any(_selects(peer["podSelector"], pod_labels(w)) for w in workloads):
                        yield f"{where}: {direction} peer {peer['podSelector']} matches no rendered workload"
                if direction == "ingress":
                    for port in rule.get("ports") or []:
                        named = port.get("port")
                        if isinstance(named, str):
                            for w in selected:
                                names = {
                                    cp.get("name") for c in _containers(pod_spec(w)) for cp in c.get("ports") or []
                                }
                                if named not in names:
                                    yield f"{where}: ingress port {named!r} is not a port of {_name(w)}"


def _service_violations(objects: list[Obj], deployments: list[Obj]) -> Iterator[str]:
    services = [o for o in objects if o["kind"] == "Service"]
    for svc in services:
        where = _name(svc)
        selector = svc["spec"].get("selector") or {}
        if not selector:
            yield f"{where}: no selector"
            continue
        targets = [d for d in deployments if _selects({"matchLabels": selector}, pod_labels(d))]
        if not targets:
            yield f"{where}: selects no Deployment"
        for port in svc["spec"].get("ports") or []:
            target = port.get("targetPort", port["port"])
            for d in targets:
                exposed = [cp for c in _containers(pod_spec(d)) for cp in c.get("ports") or []]
                if not any(cp.get("name") == target or cp["containerPort"] == target for cp in exposed):
                    yield f"{where}: targetPort {target!r} is not exposed by {_name(d)}"
    by_name = {s["metadata"]["name"]: s for s in services}
    for ing in (o for o in objects if o["kind"] == "Ingress"):
        for rule in ing["spec"].get("rules") or []:
            for path in rule.get("http", {}).get("paths") or []:
                backend = path["backend"]["service"]
                target = by_name.get(backend["name"])
                port_names = {p.get("name") for p in target["spec"]["ports"]} if target else set()
                if target is None or backend["port"].get("name", "") not in port_names | {""}:
                    yield f"{_name(ing)}: backend {backend} is not a rendered Service port"
    for route in (o for o in objects if o["kind"] == "HTTPRoute"):
        for rule in route["spec"].get("rules") or []:
            for ref in rule.get("backendRefs") or []:
                target = by_name.get(ref["name"])
                if target is None or ref.get("port") not in {p["port"] for p in target["spec"]["ports"]}:
                    yield f"{_name(route)}: backendRef {ref} is not a rendered Service port"
    for sm in (o for o in objects if o["kind"] == "ServiceMonitor"):
        matched = [s for s in services if _selects(sm["spec"]["selector"], s["metadata"].get("labels") or {})]
        if not matched:
            yield f"{_name(sm)}: selects no Service"
        for ep in sm["spec"].get("endpoints") or []:
            for s in matched:
                if ep.get("port") not in {p.get("name") for p in s["spec"]["ports"]}:
                    yield f"{_name(sm)}: {_name(s)} has no port {ep.get('port')!r}"


def _scaling_violations(objects: list[Obj], deployments: list[Obj]) -> Iterator[str]:
    by_name = {d["metadata"]["name"]: d for d in deployments}
    for hpa in (o for o in objects if o["kind"] == "HorizontalPodAutoscaler"):
        ref = hpa["spec"]["scaleTargetRef"]
        target = by_name.get(ref["name"]) if ref["kind"] == "Deployment" else None
        if target is None:
            yield f"{_name(hpa)}: scale target {ref} is not rendered"
        elif "replicas" in target["spec"]:
            yield f"{_name(target)}: sets replicas although {_name(hpa)} scales it (upgrades would fight the HPA)"
    for pdb in (o for o in objects if o["kind"] == "PodDisruptionBudget"):
        targets = [d for d in deployments if _selects(pdb["spec"]["selector"], pod_labels(d))]
        if not targets:
            yield f"{_name(pdb)}: selects no Deployment"
        max_unavailable = pdb["spec"].get("maxUnavailable")
        min_available = pdb["spec"].get("minAvailable")
        if max_unavailable in (0, "0", "0%"):
            yield f"{_name(pdb)}: maxUnavailable 0 forbids every eviction (node drains hang)"
        if isinstance(min_available, int):
            for d in targets:
                if min_available >= d["spec"].get("replicas", 1):
                    yield f"{_name(pdb)}: minAvailable {min_available} >= replicas of {_name(d)}"


def _hook_violations(objects: list[Obj]) -> Iterator[str]:
    """A hook runs before the release's ordinary objects exist: what it needs must be a hook too."""
    by_kind_name = {(o["kind"], o["metadata"]["name"]): o for o in objects}
    for obj in objects:
        if obj["kind"] not in ("Job", "Pod"):
            continue
        hook = _hook(obj)
        if hook is None:
            continue
        phases, weight = hook
        spec = pod_spec(obj)
        needs: list[Obj] = []
        sa = spec.get("serviceAccountName")
        if sa:
            needs.append(by_kind_name.get(("ServiceAccount", sa), {"kind": "ServiceAccount", "metadata": {"name": sa}}))
        needs += [
            p
            for p in objects
            if p["kind"] == "NetworkPolicy" and _selects(p["spec"].get("podSelector"), pod_labels(obj))
        ]
        for dep in needs:
            dep_hook = _hook(dep)
            if "test" in phases:
                continue  # tests run after install: ordinary objects exist by then
            if dep_hook is None or not phases <= dep_hook[0] or dep_hook[1] >= weight:
                yield f"{_name(obj)}: needs {_name(dep)}, which is not a {sorted(phases)} hook of lower weight"


def _label_violations(objects: Iterable[Obj]) -> Iterator[str]:
    for obj in objects:
        labels = obj["metadata"].get("labels") or {}
        for key in ("app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/managed-by"):
            if key not in labels:
                yield f"{_name(obj)}: no {key} label"


def violations(objects: list[Obj]) -> list[str]:
    workloads = [o for o in objects if o["kind"] in WORKLOAD_KINDS]
    deployments = [o for o in workloads if o["kind"] == "Deployment"]
    accounts = {o["metadata"]["name"] for o in objects if o["kind"] == "ServiceAccount"}
    out: list[str] = []
    for sa in (o for o in objects if o["kind"] == "ServiceAccount"):
        if sa.get("automountServiceAccountToken") is not False:
            out.append(f"{_name(sa)}: automountServiceAccountToken is not false")
    for w in workloads:
        out += _workload_violations(w, accounts)
    out += _network_violations(objects, workloads)
    out += _service_violations(objects, deployments)
    out += _scaling_violations(objects, deployments)
    out += _hook_violations(objects)
    out += _label_violations(objects)
    return out
