"""The service Dockerfiles. No Docker engine runs here, so the build stage's own instructions
(its COPY lines and `uv sync` commands) are replayed in a scratch directory, offline, against the
uv cache: what they install is checked, and the entrypoint module is imported from the result."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from devstack.stack import REPO, SERVICES

LOCK = tomllib.loads((REPO / "uv.lock").read_text())
WORKSPACE = {p["name"]: p["source"]["editable"] for p in LOCK["package"] if "editable" in p.get("source", {})}


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)


def parse(path: Path) -> tuple[dict[str, str], list[Stage]]:
    """ARGs before the first FROM, and the stages with their (instruction, arguments) lines."""
    text = re.sub(r"\\\n", " ", path.read_text())
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        op, _, rest = line.partition(" ")
        op = op.upper()
        if op == "ARG" and not stages:
            key, _, value = rest.partition("=")
            args[key] = value
        elif op == "FROM":
            parts = rest.split()
            base = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], parts[0])
            stages.append(Stage(name=parts[2] if len(parts) > 2 else "", base=base))
        else:
            stages[-1].instructions.append((op, rest))
    return args, stages


def member(service: str) -> str:
    return f"switchyard-{service}"


def workspace_closure(name: str) -> set[str]:
    """The workspace members ``name`` needs at run time (itself included), from uv.lock."""
    packages = {p["name"]: p for p in LOCK["package"]}
    seen: set[str] = set()
    todo = [name]
    while todo:
        n = todo.pop()
        if n in seen or n not in WORKSPACE:
            continue
        seen.add(n)
        todo += [d["name"] for d in packages[n].get("dependencies", [])]
    return seen


@pytest.mark.parametrize("service", list(SERVICES))
def test_dockerfile_shape(service: str) -> None:
    path = REPO / "services" / service / "Dockerfile"
    assert path.exists(), f"{path} is missing"
    _, stages = parse(path)
    final = stages[-1]
    for stage in stages:
        tag = stage.base.rsplit("/", 1)[-1]
        assert "@sha256:" in stage.base or re.search(r":\d+\.\d+(\.\d+)?", tag), f"unpinned base {stage.base}"
        assert not tag.endswith(":latest")
    ops = [op for stage in stages for op, _ in stage.instructions]
    assert "HEALTHCHECK" not in ops, "Kubernetes probes the service"
    assert final.base == next(s.base for s in stages if s.name == "build"), "same Python in both stages"
    # The final image: only the virtualenv from the build stage; no uv, pip cache or sources.
    copies = [rest for op, rest in final.instructions if op == "COPY"]
    assert copies == ["--from=build /app/.venv /app/.venv"]
    user = [rest for op, rest in final.instructions if op == "USER"]
    assert len(user) == 1 and re.fullmatch(r"[1-9]\d*:[1-9]\d*", user[0]), user
    entry = [rest for op, rest in final.instructions if op == "ENTRYPOINT"]
    module = SERVICES[service][0]
    assert entry == [f'["python", "-m", "{module}"]']
    assert (REPO / "services" / service / "src" / module / "__main__.py").exists()
    build_env = " ".join(rest for op, rest in stages[-2].instructions if op == "ENV")
    # Bytecode compiled at build time: Python cannot write __pycache__ on a read-only root.
    assert "UV_COMPILE_BYTECODE=1" in build_env and "UV_PYTHON_DOWNLOADS=never" in build_env
    syncs = [rest for stage in stages for op, rest in stage.instructions if op == "RUN" and "uv sync" in rest]
    assert syncs, "the build stage installs with uv sync"
    for cmd in syncs:
        words = cmd.split()
        assert {"--frozen", "--no-dev", "--no-editable"} <= set(words), cmd
        assert words.count("--package") == 1 and words[words.index("--package") + 1] == member(service), cmd


def _replay_build_stage(service: str, root: Path) -> Path:
    """Run the build stage's COPY and `uv sync` instructions under ``root`` (paths rebased)."""
    _, stages = parse(REPO / "services" / service / "Dockerfile")
    build = next(s for s in stages if s.name == "build")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "VIRTUAL_ENV"))}
    env["UV_OFFLINE"] = "1"  # everything the lockfile names is in the uv cache already
    workdir = root
    for op, rest in build.instructions:
        if op == "ENV":
            for key, value in (w.split("=", 1) for w in shlex.split(rest)):
                env[key] = str(root / value.lstrip("/")) if value.startswith("/") else value
        elif op == "WORKDIR":
            workdir = root / rest.lstrip("/")
            workdir.mkdir(parents=True, exist_ok=True)
        elif op == "COPY" and not rest.startswith("--from"):
            *sources, dest = rest.split()
            target = workdir / dest
            for src in sources:
                if (REPO / src).is_dir():
                    shutil.copytree(
                        REPO / src,
                        target,
                        dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "tests", ".venv"),
                    )
                else:
                    (target if dest.endswith("/") else target.parent).mkdir(parents=True, exist_ok=True)
                    shutil.copy2(REPO / src, target / Path(src).name if dest.endswith("/") else target)
        elif op == "RUN":
            # How files land (links, no bytecode) does not change what is installed; it saves time.
            env["UV_LINK_MODE"] = "hardlink"
            env["UV_COMPILE_BYTECODE"] = "0"
            words = [w for w in shlex.split(rest) if not w.startswith("--mount=")]
            assert words[:2] == ["uv", "sync"], f"unexpected RUN in the build stage: {rest}"
            proc = subprocess.run(words, cwd=workdir, env=env, capture_output=True, text=True, timeout=300, check=False)
            assert proc.returncode == 0, f"{' '.join(words)}:\n{proc.stdout}{proc.stderr}"
    return Path(env["UV_PROJECT_ENVIRONMENT"])


def _distributions(venv: Path) -> set[str]:
    site = next((venv / "lib").glob("python3*/site-packages"))
    return {re.sub(r"[-_.]+", "-", p.name.split("-")[0]).lower() for p in site.glob("*.dist-info")}


def _locked_closure(service: str) -> set[str]:
    """Third-party packages uv.lock resolves for the member (no workspace members, no dev group)."""
    out = subprocess.run(
        [
            "uv",
            "export",
            "--frozen",
            "--no-dev",
            "--no-hashes",
            "--no-emit-workspace",
            "--package",
            member(service),
            "--format",
            "requirements-txt",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    lines = [line.strip() for line in out.splitlines()]
    # A requirement whose marker does not hold on this Python (async-timeout is redis's only
    # below 3.11.3) is not installed, here or in the image (same Python minor version).
    return {
        canonicalize_name(req.name)
        for req in (Requirement(line) for line in lines if line and not line.startswith(("#", "-")))
        if req.marker is None or req.marker.evaluate()
    }


@pytest.mark.parametrize("service", list(SERVICES))
def test_build_stage_installs_exactly_its_member(service: str, tmp_path: Path) -> None:
    venv = _replay_build_stage(service, tmp_path)
    installed = _distributions(venv)
    members = workspace_closure(member(service))
    # Exactly the workspace members it needs, none of the other services, no dev tools.
    assert {d for d in installed if d.startswith("switchyard-")} == members
    assert not installed & {"pytest", "ruff", "mypy", "switchyard-fakes"}
    assert {d for d in installed if not d.startswith("switchyard-")} == _locked_closure(service)
    # Package data travels too (the SQL migrations of auth and copilot-budget, for instance).
    module = SERVICES[service][0]
    src = REPO / "services" / service / "src" / module
    site = next((venv / "lib").glob("python3*/site-packages"))
    tracked = subprocess.run(
        ["git", "ls-files", str(src)], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    missing = [f for f in tracked if not (site / (REPO / f).relative_to(src.parent)).exists()]
    assert missing == []
    # The image's entrypoint module imports from that virtualenv alone (no repository on the path).
    proc = subprocess.run(
        [str(venv / "bin" / "python"), "-c", f"import {module}.__main__, {module}.config"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr


def test_locked_dependencies_ship_linux_wheels() -> None:
    """The slim build stage has no compilers: every third-party package any service installs must
    come as a CPython 3.11 (or pure-Python / abi3) wheel for x86_64 and aarch64 Linux."""
    packages = {p["name"]: p for p in LOCK["package"]}
    needed: set[str] = set()
    for service in SERVICES:
        needed |= _locked_closure(service)
    lacking = {}
    for name in sorted(needed):
        wheels = [w["url"].rsplit("/", 1)[-1] for w in packages[name].get("wheels", [])]
        for arch in ("x86_64", "aarch64"):
            ok = any(
                w.endswith("-none-any.whl") or (("cp311" in w or "abi3" in w) and "linux" in w and arch in w)
                for w in wheels
            )
            if not ok:
                lacking.setdefault(name, []).append(arch)
    assert lacking == {}


def test_dockerignore_keeps_the_context_small_and_secret_free() -> None:
    ignored = {
        line.strip() for line in (REPO / ".dockerignore").read_text().splitlines() if line and not line.startswith("#")
    }
    assert {"**/.venv", ".git", ".cache", ".stack", "**/tests"} <= ignored
    assert any(p.startswith(".env") or p == "*.env" for p in ignored)
