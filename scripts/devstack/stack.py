"""The local Switchyard stack: real PostgreSQL, Redis and Kafka (``infra.py``) on loopback, the
offline fake upstream, and the six services as separate processes with the same environment
variables the Helm chart sets, calling each other over mutual TLS with certificates of a private
CA kept in the state dir (``certs.py``).

    python scripts/devstack/stack.py up [--config PATH] [--http-port 4000]
    python scripts/devstack/stack.py down
    python scripts/devstack/stack.py status
    python scripts/devstack/stack.py restart <service>

Also imported by the end-to-end tests, which run their own stack on other ports."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devstack import certs, infra
from switchyard_common.grpc_tls import TlsFiles

REPO = Path(__file__).resolve().parents[2]
DEFAULT_STATE = REPO / ".stack"
DEFAULT_CONFIG = REPO / "config" / "default.yaml"

# name → (python module, gRPC port offset from grpc_base, gRPC service name for health checks)
SERVICES: dict[str, tuple[str, int, str]] = {
    "auth": ("switchyard_auth", 3, "switchyard.auth.v1.AuthService"),
    "copilot-budget": ("switchyard_copilot_budget", 4, "switchyard.budget.v1.BudgetService"),
    "guardrail": ("switchyard_guardrail", 5, "switchyard.guardrail.v1.GuardrailService"),
    "router": ("switchyard_router", 1, "switchyard.router.v1.RouterService"),
    "provider-adapter": ("switchyard_provider_adapter", 2, "switchyard.provider.v1.ProviderService"),
    "edge": ("switchyard_edge", 0, "switchyard.gateway.v1.GatewayService"),
    "callbacks": ("switchyard_callbacks", 6, "switchyard.callbacks"),
}
START_ORDER = ["auth", "copilot-budget", "guardrail", "router", "provider-adapter", "edge", "callbacks"]


@dataclass(frozen=True)
class StackConfig:
    state_dir: Path = DEFAULT_STATE
    config_path: Path = DEFAULT_CONFIG
    http_port: int = 4000
    grpc_base: int = 50050
    metrics_base: int = 19100
    fake_port: int = 18080
    pg_port: int = 55432
    redis_port: int = 56379
    kafka_port: int = 59092
    kafka_controller_port: int = 59093
    master_key: str | None = None
    log_level: str = "INFO"
    # Extra environment per service (e.g. provider keys for the adapter).
    extra_env: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # An extra replica set (see ``replica``): suffix of its processes' pid and log files, and
    # the addresses of the peers it shares with the main stack.
    instance: str = ""
    peer_addrs: Mapping[str, str] = field(default_factory=dict)

    @property
    def infra(self) -> infra.InfraConfig:
        return infra.InfraConfig(
            state_dir=self.state_dir / "infra",
            cache_dir=REPO / ".cache",
            pg_port=self.pg_port,
            redis_port=self.redis_port,
            kafka_port=self.kafka_port,
            kafka_controller_port=self.kafka_controller_port,
        )

    def grpc_port(self, service: str) -> int:
        return self.grpc_base + SERVICES[service][1]

    def health_port(self, service: str) -> int:
        """The plaintext port serving only gRPC health (the chart's probe port)."""
        return self.grpc_port(service) + 20

    def addr(self, service: str) -> str:
        return f"127.0.0.1:{self.grpc_port(service)}"

    def peer_addr(self, service: str) -> str:
        return self.peer_addrs.get(service) or self.addr(service)


def _say(msg: str) -> None:
    print(f"[stack] {msg}", file=sys.stderr, flush=True)


def master_key(cfg: StackConfig) -> str:
    """SWITCHYARD_MASTER_KEY when set, else the key saved by an earlier run, else a new one."""
    if cfg.master_key:
        return cfg.master_key
    env = os.environ.get("SWITCHYARD_MASTER_KEY")
    if env:
        return env
    path = cfg.state_dir / "master_key"
    if path.exists():
        return path.read_text().strip()
    key = "sk-" + secrets.token_urlsafe(24)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key


def credentials_keypair(cfg: StackConfig) -> tuple[str, str]:
    """(private, public) X25519 key pair that seals provider credentials stored at runtime
    (/model/new): generated once and kept in the state dir, like the master key."""
    path = cfg.state_dir / "credentials_key.json"
    if path.exists():
        data = json.loads(path.read_text())
        return data["private"], data["public"]
    from switchyard_llm.sealing import generate_keypair

    private, public = generate_keypair()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(json.dumps({"private": private, "public": public}))
    return private, public


def session_signing_key(cfg: StackConfig) -> str:
    """The PEM key auth signs session tokens with: generated once and kept in the state dir."""
    path = cfg.state_dir / "session_signing_key.pem"
    if path.exists():
        return path.read_text()
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(pem)
    return pem


def oidc_issuer_url(cfg: StackConfig) -> str:
    """The fake identity provider (a stand-in for Zitadel) that the fake upstream also serves."""
    from switchyard_fakes.serve import PORT_OFFSETS

    return f"http://127.0.0.1:{cfg.fake_port + PORT_OFFSETS['oidc_server']}"


def certificates(cfg: StackConfig) -> dict[str, TlsFiles]:
    """Each service's certificate, key and CA bundle, issued once by the stack's own CA (kept in
    the state dir like the master key, so restarted services and replica sets share them)."""
    root = cfg.state_dir / "tls"
    if (root / "ca" / "ca.key").exists():
        ca = certs.Authority.load(root / "ca")
    else:
        ca = certs.Authority.create()
        ca.save(root / "ca")
    return {
        name: certs.files_in(root / name) if (root / name / "tls.key").exists() else ca.write(name, root / name)
        for name in SERVICES
    }


def replica(
    cfg: StackConfig,
    index: int,
    runs: Iterable[str],
    *,
    config_path: Path | None = None,
    grpc_base: int | None = None,
) -> StackConfig:
    """An extra replica set of the stack (e.g. a second router and edge) on ports of its own:
    gRPC (unless ``grpc_base`` is given) and metrics ports shifted by 100 per index, the HTTP
    port by the index. The services it ``runs`` talk to each other; for the others they use the
    main stack's."""
    shift = 100 * index
    own = set(runs)
    return replace(
        cfg,
        instance=f"-r{index}",
        http_port=cfg.http_port + index,
        grpc_base=grpc_base if grpc_base is not None else cfg.grpc_base + shift,
        metrics_base=cfg.metrics_base + shift,
        config_path=config_path or cfg.config_path,
        peer_addrs={svc: cfg.addr(svc) for svc in SERVICES if svc not in own},
    )


def service_env(cfg: StackConfig, name: str) -> dict[str, str]:
    """The environment of one service: the same variable names as the Helm chart."""
    urls = infra.urls(cfg.infra)
    common = {
        "LOG_LEVEL": cfg.log_level,
        "BIND_HOST": "127.0.0.1",
        "GRPC_PORT": str(cfg.grpc_port(name)),
        "SHUTDOWN_GRACE_SECONDS": "5",
        "OTEL_SERVICE_NAME": f"switchyard-{name}",
        "METRICS_PORT": str(cfg.metrics_base + SERVICES[name][1]),
    }
    tls = certificates(cfg)[name]
    common["GRPC_TLS_CERT_FILE"] = str(tls.cert_file)
    common["GRPC_TLS_KEY_FILE"] = str(tls.key_file)
    common["GRPC_TLS_CA_FILE"] = str(tls.ca_file)
    if name != "edge":  # the edge's gRPC port is its public Gateway API: plaintext, keys checked
        common["GRPC_HEALTH_PORT"] = str(cfg.health_port(name))
    kafka = {
        "KAFKA_BOOTSTRAP_SERVERS": urls["KAFKA_BOOTSTRAP_SERVERS"],
        "KAFKA_TOPIC_PARTITIONS": "3",
        "KAFKA_REPLICATION_FACTOR": "1",
        "EVENT_SPOOL_DIR": str(cfg.state_dir / f"spool{cfg.instance}"),
    }
    db = {"DATABASE_URL": urls["DATABASE_URL"]}
    redis = {"REDIS_URL": urls["REDIS_URL"]}
    config = {"CONFIG_PATH": str(cfg.config_path)}
    private_key, public_key = credentials_keypair(cfg)
    from switchyard_fakes import oidc_server

    signin = {
        "SESSION_SIGNING_KEYS": session_signing_key(cfg),
        "OIDC_ISSUER_URL": oidc_issuer_url(cfg),
        "OIDC_CLIENT_ID": oidc_server.CLIENT_ID,
        "OIDC_CLIENT_SECRET": oidc_server.CLIENT_SECRET,
        "OIDC_INTROSPECTION_CLIENT_ID": oidc_server.API_CLIENT_ID,
        "OIDC_INTROSPECTION_CLIENT_SECRET": oidc_server.API_CLIENT_SECRET,
    }
    per: dict[str, dict[str, str]] = {
        "auth": {**db, **kafka, "MASTER_KEY": master_key(cfg), **signin},
        "copilot-budget": {**db, **redis, **kafka},
        "guardrail": {},
        "callbacks": {**config, **kafka},
        "router": {**config, **db, **redis, "PROVIDER_ADAPTER_ADDR": cfg.peer_addr("provider-adapter")},
        "provider-adapter": {**config, "PROVIDER_CREDENTIALS_PRIVATE_KEY": private_key},
        "edge": {
            **db,
            **kafka,
            **redis,
            "HTTP_PORT": str(cfg.http_port),
            "PROVIDER_CREDENTIALS_PUBLIC_KEY": public_key,
            **{
                f"{peer.upper().replace('-', '_')}_ADDR": cfg.peer_addr(peer)
                for peer in ("auth", "copilot-budget", "guardrail", "router", "provider-adapter")
            },
        },
    }
    return {**common, **per[name], **dict(cfg.extra_env.get(name, {}))}


def _python() -> str:
    venv = REPO / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def _pid_file(cfg: StackConfig, name: str) -> Path:
    return cfg.state_dir / "pids" / f"{name}{cfg.instance}.pid"


def log_file(cfg: StackConfig, name: str) -> Path:
    return cfg.state_dir / "logs" / f"{name}{cfg.instance}.log"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _pid(cfg: StackConfig, name: str) -> int | None:
    path = _pid_file(cfg, name)
    try:
        pid = int(path.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _alive(pid) else None


def _spawn(cfg: StackConfig, name: str, argv: list[str], env: Mapping[str, str], *, inherit: bool = True) -> int:
    """Start ``argv`` detached with its output in the service's log. ``inherit`` passes this
    process's environment along (minus connection URLs, which come from ``env`` only)."""
    log = log_file(cfg, name)
    log.parent.mkdir(parents=True, exist_ok=True)
    _pid_file(cfg, name).parent.mkdir(parents=True, exist_ok=True)
    if inherit:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL"))}
    else:
        full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    full_env.update(env)
    full_env["PYTHONUNBUFFERED"] = "1"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            argv,
            cwd=REPO,
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    _pid_file(cfg, name).write_text(str(proc.pid))
    return proc.pid


def _grpc_serving(addr: str, service: str, timeout: float = 1.0) -> bool:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    try:
        with grpc.insecure_channel(addr) as ch:
            resp = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
            return bool(resp.status == health_pb2.HealthCheckResponse.SERVING)
    except grpc.RpcError:
        return False


def _http_ok(url: str, timeout: float = 1.0) -> bool:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - loopback URL we built
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def ready(cfg: StackConfig, name: str) -> bool:
    if name == "fake-upstream":
        return _http_ok(f"http://127.0.0.1:{cfg.fake_port}/health")
    if name == "edge":
        return _http_ok(f"http://127.0.0.1:{cfg.http_port}/readyz") and _grpc_serving(
            cfg.addr("edge"), SERVICES[name][2]
        )
    return _grpc_serving(f"127.0.0.1:{cfg.health_port(name)}", SERVICES[name][2])


def _wait_ready(cfg: StackConfig, names: Iterable[str], timeout: float = 90.0) -> None:
    pending = list(names)
    deadline = time.monotonic() + timeout
    while pending:
        for name in list(pending):
            if ready(cfg, name):
                pending.remove(name)
            elif _pid(cfg, name) is None:
                tail = "\n".join(log_file(cfg, name).read_text(errors="replace").splitlines()[-30:])
                raise RuntimeError(f"{name} exited during start; last log lines:\n{tail}")
        if pending and time.monotonic() > deadline:
            raise RuntimeError(
                f"not ready after {timeout:.0f}s: {', '.join(pending)} (logs in {cfg.state_dir / 'logs'})"
            )
        if pending:
            time.sleep(0.1)


def start_service(cfg: StackConfig, name: str, *, wait: bool = True) -> None:
    if _pid(cfg, name) is not None:
        return
    if name == "fake-upstream":
        argv = [_python(), "-m", "switchyard_fakes.serve", "--base-port", str(cfg.fake_port)]
        env: dict[str, str] = {}
    else:
        argv = [_python(), "-m", SERVICES[name][0]]
        env = service_env(cfg, name)
    _spawn(cfg, name, argv, env)
    if wait:
        _wait_ready(cfg, [name])


def start_service_with_env(cfg: StackConfig, name: str, env: Mapping[str, str], *, args: Iterable[str] = ()) -> int:
    """Start one service with exactly ``env``: nothing is inherited from this process but PATH,
    so a variable the caller did not set is missing, as in a container. The Helm chart's boot
    test starts the stack this way, with the environment the chart renders. Returns the pid;
    ``ready``/``stop_service``/``down`` work on it as on any other service."""
    return _spawn(cfg, name, [_python(), "-m", SERVICES[name][0], *args], env, inherit=False)


def stop_service(cfg: StackConfig, name: str, *, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
    pid = _pid(cfg, name)
    if pid is not None:
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _alive(pid):
            os.killpg(pid, signal.SIGKILL)
            while _alive(pid):
                time.sleep(0.05)
    _pid_file(cfg, name).unlink(missing_ok=True)


def up(cfg: StackConfig, *, fake_upstream: bool = True) -> dict[str, str]:
    t0 = time.monotonic()
    cfg.state_dir.mkdir(parents=True, exist_ok=True)
    infra.start(cfg.infra)
    _say(f"infrastructure ready in {time.monotonic() - t0:.1f}s")
    names = (["fake-upstream"] if fake_upstream else []) + START_ORDER
    for name in names:
        start_service(cfg, name, wait=False)
    _wait_ready(cfg, names)
    info = {
        "url": f"http://127.0.0.1:{cfg.http_port}",
        "master_key": master_key(cfg),
        "grpc": cfg.addr("edge"),
        "seconds": f"{time.monotonic() - t0:.1f}",
    }
    (cfg.state_dir / "stack.json").write_text(json.dumps({**info, "master_key": "(see master_key file)"}))
    return info


def down(cfg: StackConfig, *, infrastructure: bool = True) -> None:
    # Extra replica sets first (their pid files carry an instance suffix, e.g. router-r1.pid).
    for path in sorted((cfg.state_dir / "pids").glob("*-r[0-9]*.pid")):
        stem, _, index = path.stem.rpartition("-r")
        if stem in SERVICES and index.isdigit():
            stop_service(replace(cfg, instance=f"-r{index}"), stem)
    for name in [*reversed(START_ORDER), "fake-upstream"]:
        stop_service(cfg, name)
    if infrastructure:
        infra.stop(cfg.infra)


def status(cfg: StackConfig) -> dict[str, bool]:
    out = {name: _pid(cfg, name) is not None and ready(cfg, name) for name in ["fake-upstream", *START_ORDER]}
    out.update(infra.status(cfg.infra))
    return out


def _first_model(cfg: StackConfig) -> str:
    import yaml

    data = yaml.safe_load(cfg.config_path.read_text()) or {}
    for entry in data.get("model_list") or []:
        name = str(entry.get("model_name", ""))
        if name and "*" not in name and "embed" not in name:
            return name
    return "your-model"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Run the Switchyard stack locally.")
    p.add_argument("command", choices=["up", "down", "status", "restart", "logs"])
    p.add_argument("service", nargs="?")
    p.add_argument("--config", type=Path, default=None)
    p.add_argument("--http-port", type=int, default=int(os.environ.get("SWITCHYARD_HTTP_PORT", "4000")))
    p.add_argument("--state-dir", type=Path, default=DEFAULT_STATE)
    args = p.parse_args(argv)
    cfg = StackConfig(state_dir=args.state_dir.resolve(), http_port=args.http_port)
    cfg_file = cfg.state_dir / "config_path"
    if args.config is not None:
        cfg = replace(cfg, config_path=args.config.resolve())
    elif args.command in ("restart", "status") and cfg_file.exists():
        cfg = replace(cfg, config_path=Path(cfg_file.read_text().strip()))
    if args.command == "up":
        if not cfg.config_path.exists():
            _say(f"config file not found: {cfg.config_path}")
            return 2
        running = [n for n in START_ORDER if _pid(cfg, n) is not None]
        previous = cfg_file.read_text().strip() if cfg_file.exists() else ""
        if running and previous and previous != str(cfg.config_path):
            _say(f"restarting services for the new config {cfg.config_path}")
            for n in ("router", "provider-adapter"):
                stop_service(cfg, n)
        cfg.state_dir.mkdir(parents=True, exist_ok=True)
        cfg_file.write_text(str(cfg.config_path))
        try:
            info = up(cfg)
        except (RuntimeError, infra.InfraError) as exc:
            _say(f"failed: {exc}")
            return 1
        model = _first_model(cfg)
        key_note = "" if os.environ.get("SWITCHYARD_MASTER_KEY") else f" (saved in {cfg.state_dir / 'master_key'})"
        print(f"""
Switchyard is up in {info["seconds"]}s.
  API:        {info["url"]}/v1   (gRPC Gateway API on {info["grpc"]})
  Master key: {info["master_key"]}{key_note}
  Config:     {cfg.config_path}
  Logs:       {cfg.state_dir / "logs"}

Try it:
  curl -s {info["url"]}/v1/chat/completions \\
    -H "Authorization: Bearer {info["master_key"]}" -H "Content-Type: application/json" \\
    -d '{{"model": "{model}", "messages": [{{"role": "user", "content": "Hello!"}}]}}'
""")
        return 0
    if args.command == "down":
        down(cfg)
        _say("stopped")
        return 0
    if args.command == "status":
        st = status(cfg)
        for name, ok in st.items():
            print(f"{name:18} {'up' if ok else 'down'}")
        return 0 if all(st.values()) else 3
    if args.command == "restart":
        if not args.service or args.service not in [*SERVICES, "fake-upstream"]:
            _say(f"restart needs a service: {', '.join([*SERVICES, 'fake-upstream'])}")
            return 2
        stop_service(cfg, args.service)
        start_service(cfg, args.service)
        return 0
    if args.command == "logs":
        for name in [args.service] if args.service else [*START_ORDER]:
            path = log_file(cfg, name)
            if path.exists():
                print(f"== {name} ==")
                print("\n".join(path.read_text(errors="replace").splitlines()[-40:]))
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
