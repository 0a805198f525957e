"""The benchmark's moving parts: the mock upstream, Switchyard's stack (through
scripts/devstack/stack.py, with its own state directory and ports) and LiteLLM's proxy from its
bench-only virtualenv, all on loopback. Shared by run.py, soak.py and profile.py."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

import procstat  # noqa: E402

from devstack import stack  # noqa: E402

CACHE = REPO / ".cache" / "bench"
BIN = CACHE / "bin"
STATE = REPO / ".stack" / "bench"
RESULTS = REPO / "bench" / "results"

# Ports of the benchmark: apart from `make up` (4000, 50050+, ...), the e2e suite (14000, 24050+, ...) and
# the unit-test infrastructure, and below the kernel's ephemeral range (outgoing connections cannot take them).
MOCK_PORT = 23200
OTLP_PORT = 23201
LITELLM_PORT = 23300
SWITCHYARD = stack.StackConfig(
    state_dir=STATE,
    http_port=23000,
    grpc_base=23050,
    metrics_base=23100,
    fake_port=23400,  # unused: the bench runs its own mock instead of the Python fake
    pg_port=23532,
    redis_port=23479,
    kafka_port=23192,
    kafka_controller_port=23193,
    master_key="sk-bench-switchyard-master-key",
)
LITELLM_MASTER_KEY = "sk-bench-litellm-master-key"

# Streamed answers: 20 content chunks spread over this many ms by the mock, so inter-chunk gaps
# are measured against a known 5 ms cadence (an instant burst would hide buffering).
STREAM_CHUNKS = 20
STREAM_MS = 100
INSTANT_UPSTREAM = "mock"
STREAM_UPSTREAM = f"mock~chunks={STREAM_CHUNKS}~stream_ms={STREAM_MS}"
MODEL = "bench-instant"
STREAM_MODEL = "bench-stream"
# The same answers from an Anthropic deployment (the mock's /v1/messages), for the Messages API
# scenario: /v1/messages to it goes through natively, /v1/chat/completions is translated.
CLAUDE_MODEL = "bench-claude"
CLAUDE_STREAM_MODEL = "bench-claude-stream"


_T0 = time.monotonic()


def say(msg: str) -> None:
    print(f"[bench {time.monotonic() - _T0:6.1f}s] {msg}", file=sys.stderr, flush=True)


def http_json(
    url: str, body: Any = None, *, key: str = "", timeout: float = 10.0, method: str | None = None
) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method or ("POST" if data is not None else "GET"))  # noqa: S310
    req.add_header("Content-Type", "application/json")
    if key:
        req.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - loopback URLs we built
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw)
        except ValueError:
            return exc.code, raw.decode(errors="replace")


def chat_once(base_url: str, key: str, model: str) -> tuple[int, dict[str, str]]:
    """One non-streaming chat completion; returns the status and the response headers."""
    body = {"model": model, "messages": [{"role": "user", "content": "one more"}]}
    req = urllib.request.Request(f"{base_url}/v1/chat/completions", data=json.dumps(body).encode())  # noqa: S310
    req.add_header("Content-Type", "application/json")
    req.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 - loopback URL we built
            resp.read()
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}


def _wait_http(url: str, timeout: float, proc: subprocess.Popen[bytes] | None = None, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1.0) as resp:  # noqa: S310
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what or url} exited with {proc.returncode} during start")
        time.sleep(0.1)
    raise RuntimeError(f"{what or url} not ready after {timeout:.0f}s")


def _stop_group(proc: subprocess.Popen[bytes] | None, timeout: float = 10.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


# --- the mock upstream ------------------------------------------------------------------------


class Mock:
    def __init__(self, extra_args: Sequence[str] = ()) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.extra_args = list(extra_args)
        self.url = f"http://127.0.0.1:{MOCK_PORT}"

    def start(self) -> None:
        STATE.mkdir(parents=True, exist_ok=True)
        log = (STATE / "mock.log").open("ab")
        self.proc = subprocess.Popen(
            [
                str(BIN / "mockllm"),
                "-addr",
                f"127.0.0.1:{MOCK_PORT}",
                "-otlp",
                f"127.0.0.1:{OTLP_PORT}",
                *self.extra_args,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        _wait_http(f"{self.url}/health", 10, self.proc, "mock upstream")

    def stats(self) -> dict[str, int]:
        _, body = http_json(f"{self.url}/__stats")
        return dict(body)

    def stop(self) -> None:
        _stop_group(self.proc)


def _fixed(pid: int) -> Callable[[], list[int]]:
    return lambda: [pid]


def _tree(pid: int) -> Callable[[], list[int]]:
    return lambda: procstat.descendants(pid)


# --- Switchyard -------------------------------------------------------------------------------


def switchyard_config() -> Path:
    """The bench model config: every model points at the mock (the Claude ones at its Messages
    API); retries off (parity with LiteLLM)."""
    STATE.mkdir(parents=True, exist_ok=True)
    path = STATE / "bench-config.yaml"
    models = []
    for name, upstream, provider, base in (
        (MODEL, INSTANT_UPSTREAM, "openai", f"http://127.0.0.1:{MOCK_PORT}/v1"),
        (STREAM_MODEL, STREAM_UPSTREAM, "openai", f"http://127.0.0.1:{MOCK_PORT}/v1"),
        (CLAUDE_MODEL, INSTANT_UPSTREAM, "anthropic", f"http://127.0.0.1:{MOCK_PORT}"),
        (CLAUDE_STREAM_MODEL, STREAM_UPSTREAM, "anthropic", f"http://127.0.0.1:{MOCK_PORT}"),
    ):
        models.append(
            f"""  - model_name: {name}
    litellm_params:
      model: "{provider}/{upstream}"
      api_base: {base}
      api_key: mock-key-not-secret
    model_info:
      id: {name}-mock
      input_cost_per_token: 0.00000015
      output_cost_per_token: 0.0000006
"""
        )
    path.write_text(
        "# Written by bench/gateways.py for each run.\nmodel_list:\n"
        + "".join(models)
        + "router_settings:\n  num_retries: 0\n  routing_strategy: simple-shuffle\n"
        + "litellm_settings:\n  num_retries: 0\n"
    )
    return path


def switchyard_cfg(profile: str) -> stack.StackConfig:
    """P0: bare (no trace export, warnings only in the logs). P1: production (INFO logs, every
    span exported over OTLP/HTTP to the stand-in collector in the mock process)."""
    if profile == "P1":
        otel = {
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{OTLP_PORT}",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_TRACES_SAMPLER": "parentbased_always_on",
        }
        level = "INFO"
    else:
        otel = {"OTEL_TRACES_EXPORTER": "none"}
        level = "WARNING"
    return replace(
        SWITCHYARD,
        config_path=switchyard_config(),
        log_level=level,
        extra_env={name: otel for name in stack.SERVICES},
    )


class Switchyard:
    def __init__(self) -> None:
        self.cfg = switchyard_cfg("P0")
        self.url = f"http://127.0.0.1:{self.cfg.http_port}"
        self.profile = ""

    def up(self, profile: str) -> None:
        """Start the infrastructure and the six services for ``profile`` (restarting the services
        when another profile is running; PostgreSQL, Redis and Kafka stay up)."""
        self.cfg = switchyard_cfg(profile)
        running = {n: pid for n in stack.START_ORDER if (pid := stack._pid(self.cfg, n)) is not None}
        # Signal all of them first so that their graceful shutdowns overlap.
        for pid in running.values():
            try:
                os.killpg(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for name in reversed(stack.START_ORDER):
            if name in running:
                stack.stop_service(self.cfg, name)
        stack.up(self.cfg, fake_upstream=False)
        self.profile = profile

    def down(self) -> None:
        stack.down(self.cfg)

    def pids(self) -> dict[str, int]:
        out = {}
        for name in stack.START_ORDER:
            pid = stack._pid(self.cfg, name)
            if pid is not None:
                out[name] = pid
        return out

    def groups(self) -> procstat.Groups:
        return {name: _fixed(pid) for name, pid in self.pids().items()}

    def infra_groups(self) -> procstat.Groups:
        base = self.cfg.infra.state_dir
        out: dict[str, Any] = {}
        for comp in ("postgres", "redis", "kafka"):
            pid_file = base / comp / f"{comp}.pid"
            try:
                pid = int(pid_file.read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue
            out[comp] = _tree(pid)
        return out

    def virtual_key(self, max_budget: float = 1000.0) -> str:
        status, body = http_json(
            f"{self.url}/key/generate",
            {"max_budget": max_budget, "key_alias": f"bench-{int(time.time())}"},
            key=self.cfg.master_key or "",
        )
        if status != 200 or not isinstance(body, dict) or "key" not in body:
            raise RuntimeError(f"/key/generate answered {status}: {body}")
        return str(body["key"])

    def key_info(self, key: str) -> dict[str, Any]:
        status, body = http_json(f"{self.url}/key/info", key=key)
        return body.get("info", {}) if status == 200 and isinstance(body, dict) else {"status": status}

    def spend_rows(self, request_id: str) -> list[dict[str, Any]]:
        status, body = http_json(f"{self.url}/spend/logs?request_id={request_id}", key=self.cfg.master_key or "")
        return list(body) if status == 200 and isinstance(body, list) else []


# --- LiteLLM ----------------------------------------------------------------------------------


def litellm_version() -> str:
    py = CACHE / "litellm" / "bin" / "python"
    out = subprocess.run(
        [str(py), "-c", "import importlib.metadata as m; print(m.version('litellm'))"],
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout.strip() or "unknown"


def litellm_p1_support() -> dict[str, Any]:
    """Whether LiteLLM's production profile (virtual keys + budgets, which need its PostgreSQL
    database through Prisma) can run here; setup.sh's probe records the outcome."""
    probe = CACHE / "litellm" / "prisma-probe.json"
    try:
        return dict(json.loads(probe.read_text()))
    except (OSError, ValueError):
        return {"supported": False, "reason": "the Prisma probe has not run (bench/setup.sh litellm-db)"}


class LiteLLM:
    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"http://127.0.0.1:{LITELLM_PORT}"
        self.dir = STATE / "litellm"

    def config(self) -> Path:
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.dir / "config.yaml"
        models = "".join(
            f"""  - model_name: {name}
    litellm_params:
      model: "openai/{upstream}"
      api_base: http://127.0.0.1:{MOCK_PORT}/v1
      api_key: mock-key-not-secret
"""
            for name, upstream in ((MODEL, INSTANT_UPSTREAM), (STREAM_MODEL, STREAM_UPSTREAM))
        )
        path.write_text(
            "# Written by bench/gateways.py: the same two models as Switchyard's bench config; retries off.\n"
            f"model_list:\n{models}"
            "router_settings:\n  num_retries: 0\n"
            "litellm_settings:\n  num_retries: 0\n  request_timeout: 60\n  telemetry: false\n"
            f"general_settings:\n  master_key: {LITELLM_MASTER_KEY}\n"
        )
        return path

    def start(self) -> None:
        """Start the proxy (returns at once; ``wait_ready`` waits for it)."""
        cfg = self.config()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "DATABASE_URL", "LITELLM_"))}
        # Python's default: cache bytecode. (This machine sets PYTHONDONTWRITEBYTECODE, which would
        # make LiteLLM recompile every module it imports lazily, at start and on requests.)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        # No network here: use the cost map shipped in the package instead of fetching it.
        env.update({"LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_LOG": "ERROR", "PYTHONUNBUFFERED": "1"})
        log = (self.dir / "litellm.log").open("ab")
        self.proc = subprocess.Popen(
            [
                str(CACHE / "litellm" / "bin" / "litellm"),
                "--config",
                str(cfg),
                "--host",
                "127.0.0.1",
                "--port",
                str(LITELLM_PORT),
                "--num_workers",
                str(self.workers),
            ],
            cwd=self.dir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 300.0) -> None:
        _wait_http(f"{self.url}/health/liveliness", timeout, self.proc, "LiteLLM proxy")
        deadline = time.monotonic() + timeout
        status, body = http_json(
            f"{self.url}/v1/chat/completions",
            {"model": MODEL, "messages": [{"role": "user", "content": "warm up"}]},
            key=LITELLM_MASTER_KEY,
            timeout=30,
        )
        if status != 200:
            raise RuntimeError(f"LiteLLM answered {status}: {body}")
        # The first worker answers while the others may still be importing: wait until the whole
        # process group is idle (under 0.2 CPU-seconds in a second), i.e. every worker is up.
        while time.monotonic() < deadline:
            before = sum(procstat.cpu_seconds(p) for p in self.pids())
            time.sleep(1.0)
            if sum(procstat.cpu_seconds(p) for p in self.pids()) - before < 0.2:
                return
        raise RuntimeError("LiteLLM kept busy after start (workers not settling)")

    def pids(self) -> list[int]:
        if self.proc is None or self.proc.poll() is not None:
            return []
        return procstat.descendants(self.proc.pid)

    def groups(self) -> procstat.Groups:
        return {"litellm (all processes)": self.pids}

    def stop(self) -> None:
        _stop_group(self.proc, timeout=15)
