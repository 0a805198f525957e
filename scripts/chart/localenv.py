"""Turn a rendered workload's container environment into the environment of a local process.

What the kubelet would do, done by hand: ``env`` and ``envFrom`` resolved against the rendered
ConfigMaps and the Secrets the test supplies, downward-API fields filled in, ``$(VAR)``
references expanded; volumes materialised as local directories (ConfigMap and Secret files
written, emptyDirs created). Then the only changes a pod-to-loopback move needs, applied
mechanically and reported: mount paths → those directories, cluster addresses → loopback
addresses, container ports → free local ports.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chart.policy import pod_spec

Obj = dict[str, Any]
Secrets = Mapping[str, Mapping[str, str]]

_REF = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)|\$\$")


class EnvError(RuntimeError):
    pass


@dataclass
class LocalEnv:
    env: dict[str, str]
    # What was changed to run on loopback, "NAME: before -> after", for the test's report.
    rewrites: list[str] = field(default_factory=list)


def _expand(value: str, defined: Mapping[str, str]) -> str:
    """Kubernetes' $(VAR) expansion: defined names are replaced, $$ escapes, others stay."""

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        return defined.get(m.group(1), m.group(0))

    return _REF.sub(sub, value)


def _field(path: str, obj: Obj, pod_name: str) -> str:
    values = {
        "metadata.name": pod_name,
        "metadata.namespace": obj["metadata"].get("namespace", "switchyard"),
        "spec.nodeName": "local-node",
        "status.podIP": "127.0.0.1",
    }
    if path not in values:
        raise EnvError(f"downward API field {path} is not simulated")
    return values[path]


def _configmaps(rendered: list[Obj]) -> dict[str, Mapping[str, str]]:
    return {o["metadata"]["name"]: o.get("data") or {} for o in rendered if o["kind"] == "ConfigMap"}


def _lookup(kind: str, source: Mapping[str, Mapping[str, str]], name: str, key: str | None) -> Any:
    if name not in source:
        raise EnvError(f"{kind} {name!r} is referenced but neither rendered nor supplied by the test")
    if key is None:
        return source[name]
    if key not in source[name]:
        raise EnvError(f"{kind} {name!r} has no key {key!r}")
    return source[name][key]


def container(obj: Obj, name: str | None = None) -> Obj:
    containers = pod_spec(obj)["containers"]
    if name is None:
        if len(containers) != 1:
            raise EnvError(f"{obj['metadata']['name']} has {len(containers)} containers; name one")
        return dict(containers[0])
    return dict(next(c for c in containers if c["name"] == name))


def resolve_env(obj: Obj, rendered: list[Obj], secrets: Secrets, *, pod_name: str = "local-pod") -> dict[str, str]:
    """The container's environment as the kubelet would build it (envFrom first, then env)."""
    c = container(obj)
    maps = _configmaps(rendered)
    env: dict[str, str] = {}
    for src in c.get("envFrom") or []:
        prefix = src.get("prefix", "")
        if "secretRef" in src:
            data = _lookup("Secret", secrets, src["secretRef"]["name"], None)
        else:
            data = _lookup("ConfigMap", maps, src["configMapRef"]["name"], None)
        env.update({prefix + k: str(v) for k, v in data.items()})
    for e in c.get("env") or []:
        if "value" in e:
            env[e["name"]] = _expand(str(e["value"]), env)
            continue
        ref = e.get("valueFrom") or {}
        if "secretKeyRef" in ref:
            env[e["name"]] = str(_lookup("Secret", secrets, ref["secretKeyRef"]["name"], ref["secretKeyRef"]["key"]))
        elif "configMapKeyRef" in ref:
            env[e["name"]] = str(
                _lookup("ConfigMap", maps, ref["configMapKeyRef"]["name"], ref["configMapKeyRef"]["key"])
            )
        elif "fieldRef" in ref:
            env[e["name"]] = _field(ref["fieldRef"]["fieldPath"], obj, pod_name)
        else:
            raise EnvError(f"{e['name']}: unsupported valueFrom {ref}")
    return env


def materialise_volumes(obj: Obj, rendered: list[Obj], secrets: Secrets, root: Path) -> dict[str, Path]:
    """Create a local directory per volume mount; returns mountPath → directory."""
    spec = pod_spec(obj)
    maps = _configmaps(rendered)
    volumes = {v["name"]: v for v in spec.get("volumes") or []}
    mounts: dict[str, Path] = {}
    for m in container(obj).get("volumeMounts") or []:
        vol = volumes[m["name"]]
        local = root / m["name"]
        local.mkdir(parents=True, exist_ok=True)
        if "configMap" in vol or "secret" in vol:
            if "configMap" in vol:
                data = _lookup("ConfigMap", maps, vol["configMap"]["name"], None)
                items = vol["configMap"].get("items")
            else:
                data = _lookup("Secret", secrets, vol["secret"]["secretName"], None)
                items = vol["secret"].get("items")
            for item in items or [{"key": k, "path": k} for k in data]:
                if item["key"] not in data:
                    raise EnvError(f"volume {m['name']}: key {item['key']!r} missing")
                (local / item["path"]).write_text(str(data[item["key"]]))
        elif "emptyDir" not in vol:
            raise EnvError(f"volume {m['name']}: only configMap, secret and emptyDir are simulated")
        mounts[m["mountPath"].rstrip("/")] = local
    return mounts


def to_local(
    obj: Obj,
    rendered: list[Obj],
    secrets: Secrets,
    *,
    root: Path,
    addresses: Mapping[str, str],
    ports: Mapping[int, int],
    pod_name: str = "local-pod",
) -> LocalEnv:
    """The rendered environment with mount paths, addresses and ports moved to this machine.

    ``addresses`` maps a cluster ``host:port`` (or URL prefix) to its loopback replacement;
    ``ports`` maps a container port to the local port the process should bind instead."""
    env = resolve_env(obj, rendered, secrets, pod_name=pod_name)
    mounts = materialise_volumes(obj, rendered, secrets, root)
    out = LocalEnv(env={})
    for name, value in env.items():
        new = value
        for mount_path, local in sorted(mounts.items(), key=lambda kv: -len(kv[0])):
            if new == mount_path or new.startswith(mount_path + "/"):
                new = str(local) + new[len(mount_path) :]
                break
        for cluster, loopback in addresses.items():
            new = new.replace(cluster, loopback)
        if new.isdigit() and int(new) in ports:
            new = str(ports[int(new)])
        if new != value:
            out.rewrites.append(f"{name}: {value} -> {new}")
        out.env[name] = new
    return out
