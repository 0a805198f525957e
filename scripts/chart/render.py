"""Run helm against the chart: lint and render to Kubernetes objects."""

from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "deploy" / "helm" / "switchyard"
RELEASE = "sy"
NAMESPACE = "switchyard"

Obj = dict[str, Any]


class HelmError(RuntimeError):
    """helm exited non-zero; the message carries its output."""


def helm_binary() -> str:
    """The helm built by ``scripts/tools.sh helm`` (preferred: pinned), else one on PATH."""
    local = REPO / ".cache" / "bin" / "helm"
    if local.exists():
        return str(local)
    found = shutil.which("helm")
    if found is None:
        raise HelmError("helm not found: run scripts/tools.sh helm (make chart-check does)")
    return found


def ci_values_files() -> list[Path]:
    """The example values files under ci/, each rendered and checked."""
    return sorted((CHART / "ci").glob("*.yaml"))


def value_sets() -> dict[str, list[Path]]:
    """ "default" is values.yaml alone; each ci/*.yaml is layered over it, as `helm install -f` does."""
    return {"default": [], **{p.stem: [p] for p in ci_values_files()}}


def _run(args: Sequence[str], *, timeout: float = 120.0) -> str:
    proc = subprocess.run(
        [helm_binary(), *args], capture_output=True, text=True, timeout=timeout, check=False, cwd=REPO
    )
    if proc.returncode != 0:
        raise HelmError(f"helm {' '.join(args)} failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def _value_args(values_files: Iterable[Path], set_values: Mapping[str, str] | None) -> list[str]:
    args: list[str] = []
    for path in values_files:
        args += ["--values", str(path)]
    for key, value in (set_values or {}).items():
        args += ["--set", f"{key}={value}"]
    return args


def lint(values_files: Iterable[Path] = (), *, kube_version: str) -> str:
    """``helm lint --strict`` (warnings fail) for one Kubernetes version; returns helm's report."""
    return _run(["lint", "--strict", str(CHART), "--kube-version", kube_version, *_value_args(values_files, None)])


@dataclass(frozen=True)
class Rendered:
    objects: list[Obj]

    def of_kind(self, kind: str) -> list[Obj]:
        return [o for o in self.objects if o["kind"] == kind]

    def get(self, kind: str, name: str) -> Obj:
        for o in self.objects:
            if o["kind"] == kind and o["metadata"]["name"] == name:
                return o
        raise KeyError(f"{kind}/{name} not rendered")


def template(
    values_files: Iterable[Path] = (),
    *,
    kube_version: str,
    set_values: Mapping[str, str] | None = None,
    release: str = RELEASE,
    namespace: str = NAMESPACE,
) -> Rendered:
    """``helm template`` for one Kubernetes version; hooks and test hooks included (they are
    objects the cluster receives too)."""
    args = [
        "template",
        release,
        str(CHART),
        "--namespace",
        namespace,
        "--kube-version",
        kube_version,
        "--render-subchart-notes",
        *_value_args(values_files, set_values),
    ]
    out = _run(args)
    objects = [doc for doc in yaml.safe_load_all(out) if doc]
    for obj in objects:
        if not isinstance(obj, dict) or "kind" not in obj or "apiVersion" not in obj:
            raise HelmError(f"rendered a document that is not a Kubernetes object: {str(obj)[:200]}")
    return Rendered(objects)


def notes(values_files: Iterable[Path] = (), *, kube_version: str) -> str:
    """The rendered NOTES.txt (what `helm install` prints). `helm template` never renders NOTES and
    a dry-run install needs a cluster, so a scratch copy of the chart wraps it in a ConfigMap."""
    with tempfile.TemporaryDirectory() as tmp:
        chart = Path(tmp) / CHART.name
        shutil.copytree(CHART, chart)
        body = (chart / "templates" / "NOTES.txt").read_text()
        (chart / "templates" / "_notes_probe.tpl").write_text(
            '{{- define "switchyard.notesProbe" -}}\n' + body + "\n{{- end -}}\n"
        )
        (chart / "templates" / "notes-probe.yaml").write_text(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: notes-probe}\n"
            'data:\n  notes: {{ include "switchyard.notesProbe" . | quote }}\n'
        )
        out = _run(
            [
                "template",
                RELEASE,
                str(chart),
                "--namespace",
                NAMESPACE,
                "--kube-version",
                kube_version,
                "--show-only",
                "templates/notes-probe.yaml",
                *_value_args(values_files, None),
            ]
        )
    doc = yaml.safe_load(out)
    return str(doc["data"]["notes"])


@functools.cache
def rendered(value_set: str, kube_version: str) -> Rendered:
    """One of ``value_sets()`` rendered (once per process) for one Kubernetes version."""
    return template(value_sets()[value_set], kube_version=kube_version)
