#!/usr/bin/env python3
"""Install and run real PostgreSQL, Redis and Apache Kafka on loopback (no docker).

Stdlib only (Python >= 3.11).  Used by ``make up`` (through the stack
orchestrator), by the end-to-end pytest fixtures, and as a CLI::

    python scripts/devstack/infra.py install            # fetch/install what is missing
    python scripts/devstack/infra.py up [COMPONENT...]  # start (and wait until ready)
    python scripts/devstack/infra.py down [COMPONENT...]
    python scripts/devstack/infra.py status [--json]
    python scripts/devstack/infra.py env                # KEY=VALUE lines (DATABASE_URL, ...)
    python scripts/devstack/infra.py kafka-topics --list   # org.apache.kafka.tools.TopicCommand

Options (before or after the sub-command): --state-dir, --cache-dir, --pg-port,
--redis-port, --kafka-port, --kafka-controller-port, --pg-user, --pg-password,
--pg-database.

Public API: ``InfraConfig``, ``install``, ``start``, ``stop``, ``status``, ``urls`` (+ extras:
``InfraError``, ``destroy``, ``default_config``, ``log_path``, ``kafka_tool_argv``).
``start`` installs what is missing, starts the components in parallel, detached (own session,
they outlive the caller) and waits until each is ready.  Progress goes to stderr.

Software: PostgreSQL from /usr/lib/postgresql/<ver>/bin (or ``SWITCHYARD_PG_BINDIR``; apt
``postgresql`` if absent), ``redis-server`` (apt ``redis-server`` if absent, or
``SWITCHYARD_REDIS_SERVER``), Java >= 17 (``JAVA_HOME`` or the Debian JDK 17), Kafka jars from
Maven Central via ``mvn`` (``<cache_dir>/kafka/<ver>/libs``; offline once cached).

Layout
------
``<state_dir>/postgres/``  data/ (PGDATA), run/ (unix socket), postgres.log, postgres.pid
``<state_dir>/redis/``     appendonlydir/ (AOF), redis.log, redis.pid
``<state_dir>/kafka/``     data/ (log.dirs + KRaft metadata), server.properties,
                           log4j2.properties, cluster.id, kafka.log, kafka.pid
``<cache_dir>/kafka/<ver>/libs/*.jar``  broker + tools class path (fetched with mvn)
``<cache_dir>/m2/``        Maven local repository used for that fetch

Running as root
---------------
PostgreSQL refuses to run as root.  When euid is 0, initdb/postgres run as the
``postgres`` system user (created by Debian's package; if it does not exist a
``switchyard-pg`` system user is created).  The data directory is chowned to
it.  That user must be able to traverse every parent directory of
``<state_dir>/postgres``; if it cannot (e.g. a state dir under pytest's
``/tmp/pytest-of-root`` which is mode 0700, or under ``/root``), the data
directory is kept in ``/var/tmp/switchyard-devstack-pg/<hash of state dir>/``
instead and ``<state_dir>/postgres/data`` becomes a symlink to it.  Such
fallback directories whose state dir has disappeared are swept on the next
start.  :func:`destroy` removes a state dir including its fallback.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import fcntl
import hashlib
import json
import os
import pwd
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

__all__ = [
    "COMPONENTS",
    "InfraConfig",
    "InfraError",
    "default_config",
    "destroy",
    "install",
    "kafka_tool_argv",
    "log_path",
    "start",
    "status",
    "stop",
    "urls",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_STATE_DIR = REPO_ROOT / ".stack" / "infra"
DEFAULT_CACHE_DIR = REPO_ROOT / ".cache"

COMPONENTS: tuple[str, ...] = ("postgres", "redis", "kafka")

KAFKA_VERSION = "4.1.1"
KAFKA_SCALA = "2.13"
# Kafka 4.x logs through SLF4J 1.7 -> log4j2; the binding is not a transitive dependency.
LOG4J_SLF4J_BINDING = "org.apache.logging.log4j:log4j-slf4j-impl:2.24.3"
MAVEN_DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
KAFKA_HEAP = ("-Xms256m", "-Xmx512m")

START_TIMEOUT_S = {"postgres": 60.0, "redis": 30.0, "kafka": 120.0}
STOP_TIMEOUT_S = {"postgres": 30.0, "redis": 15.0, "kafka": 30.0}
LOG_ROTATE_BYTES = 16 * 1024 * 1024

PG_SUPERUSER = "postgres"  # database superuser name (trust auth on the private unix socket only)
PG_FALLBACK_ROOT = Path("/var/tmp/switchyard-devstack-pg")  # noqa: S108 - must be reachable by postgres
PG_FALLBACK_OS_USER = "switchyard-pg"

# Something unique in /proc/<pid>/cmdline of each component, so a recycled pid is never
# mistaken for (or killed as) one of ours.  redis-server rewrites its title to
# "redis-server 127.0.0.1:PORT", postgres keeps its argv, the JVM keeps its argv.
_CMDLINE_MARKER = {"postgres": "postgres", "redis": "redis-server", "kafka": "kafka.Kafka"}

_print_lock = threading.Lock()
_install_lock = threading.Lock()
# Popen objects of processes started by this interpreter: kept so that they are polled/reaped
# properly (no zombies, no ResourceWarning) while the caller (e.g. pytest) lives on.
_children: dict[int, subprocess.Popen[bytes]] = {}


class InfraError(RuntimeError):
    """Raised when a component cannot be installed, started or stopped."""


@dataclass(frozen=True)
class InfraConfig:
    state_dir: Path  # where data, logs, pid files live, e.g. <repo>/.stack/infra
    cache_dir: Path  # downloads, e.g. <repo>/.cache
    pg_port: int = 55432
    redis_port: int = 56379
    kafka_port: int = 59092
    kafka_controller_port: int = 59093
    pg_user: str = "switchyard"
    pg_password: str = "switchyard"
    pg_database: str = "switchyard"


def default_config(**overrides: Any) -> InfraConfig:
    """Config with the repo defaults (``<repo>/.stack/infra``, ``<repo>/.cache``)."""
    values: dict[str, Any] = {"state_dir": DEFAULT_STATE_DIR, "cache_dir": DEFAULT_CACHE_DIR}
    values.update(overrides)
    values["state_dir"] = Path(values["state_dir"])
    values["cache_dir"] = Path(values["cache_dir"])
    return InfraConfig(**values)


# --------------------------------------------------------------------------- utilities


def _say(msg: str) -> None:
    with _print_lock:
        print(f"[infra] {msg}", file=sys.stderr, flush=True)


def _abs(p: Path) -> Path:
    return Path(os.path.abspath(os.path.expanduser(str(p))))


def _state(cfg: InfraConfig) -> Path:
    return _abs(cfg.state_dir)


def _cache(cfg: InfraConfig) -> Path:
    return _abs(cfg.cache_dir)


def _comp_dir(cfg: InfraConfig, comp: str) -> Path:
    return _state(cfg) / comp


def _pid_file(cfg: InfraConfig, comp: str) -> Path:
    return _comp_dir(cfg, comp) / f"{comp}.pid"


def log_path(cfg: InfraConfig, component: str) -> Path:
    """The log file of a component (stdout/stderr of the server process)."""
    _check_components([component])
    return _comp_dir(cfg, component) / f"{component}.log"


def _mkdir(p: Path, mode: int = 0o755) -> Path:
    """mkdir -p; directories created here get ``mode`` regardless of the umask (so that the
    postgres user can traverse a state dir that root created under a restrictive umask)."""
    missing: list[Path] = []
    q = p
    while not q.exists():
        missing.append(q)
        if q.parent == q:
            break
        q = q.parent
    for d in reversed(missing):
        with contextlib.suppress(FileExistsError):
            d.mkdir()
            os.chmod(d, mode)
    return p


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Inter-process (and inter-thread: one open file each) exclusive lock."""
    _mkdir(path.parent)
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _tail(path: Path, lines: int = 40, start: int = 0) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(start, size - 64 * 1024))
            data = fh.read().decode("utf-8", "replace")
    except OSError:
        return "(no log)"
    return "\n".join(data.splitlines()[-lines:]) or "(empty log)"


def _log_excerpt(path: Path, start: int = 0) -> str:
    """First error lines logged since ``start`` (Java stack traces bury them) + the last lines."""
    tail = _tail(path, lines=30, start=start)
    errors: list[str] = []
    with contextlib.suppress(OSError):
        with open(path, "rb") as fh:
            fh.seek(start)
            lines = fh.read(4 * 1024 * 1024).decode("utf-8", "replace").splitlines()
        for i, raw in enumerate(lines):
            if any(
                w in raw for w in (" ERROR ", " FATAL ", "FATAL:", "ERROR:", " # ", "PANIC:")
            ) and not raw.startswith("\t"):
                errors.append(raw[:500])
                if i + 1 < len(lines) and not lines[i + 1].startswith(("\t", "[")):
                    errors.append(lines[i + 1][:500])  # e.g. the exception message under a Java ERROR
                if len(errors) >= 10:
                    break
    head = ("error lines:\n" + "\n".join(errors) + "\n") if errors else ""
    return f"{head}last lines of {path}:\n{tail}"


def _log_contains(path: Path, start: int, needles: Iterable[str]) -> bool:
    try:
        with open(path, "rb") as fh:
            fh.seek(start)
            text = fh.read(16 * 1024 * 1024).decode("utf-8", "replace")
    except OSError:
        return False
    return any(n in text for n in needles)


def _rotate(log: Path) -> None:
    try:
        if log.stat().st_size > LOG_ROTATE_BYTES:
            os.replace(log, log.with_name(log.name + ".1"))
    except FileNotFoundError:
        pass


def _check_components(components: Iterable[str]) -> list[str]:
    comps = list(components)
    bad = [c for c in comps if c not in COMPONENTS]
    if bad:
        raise ValueError(f"unknown component(s) {bad}; expected some of {list(COMPONENTS)}")
    return comps


def _run(
    argv: list[str], *, check: bool = True, capture: bool = True, timeout: float | None = None, **kw: Any
) -> subprocess.CompletedProcess[str]:
    try:
        cp = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=capture,
            text=True,
            timeout=timeout,
            check=False,
            **kw,
        )
    except FileNotFoundError as e:
        raise InfraError(f"command not found: {argv[0]}") from e
    except subprocess.TimeoutExpired as e:
        raise InfraError(f"command timed out after {timeout}s: {' '.join(argv)}") from e
    if check and cp.returncode != 0:
        out = ((cp.stdout or "") + (cp.stderr or "")).strip()
        raise InfraError(f"command failed (exit {cp.returncode}): {' '.join(argv)}\n{out[-4000:]}")
    return cp


def _port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    child = _children.get(pid)
    if child is not None:
        if child.poll() is not None:
            _children.pop(pid, None)
            return False
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:  # a zombie (not our child, not reaped yet) counts as dead
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] in ("Z", "X"):
            return False
    except (OSError, IndexError):
        pass
    return True


def _cmdline(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return None


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _our_pid(cfg: InfraConfig, comp: str) -> int | None:
    """Pid of this state dir's running ``comp`` process, or None."""
    candidates = [_read_pid(_pid_file(cfg, comp))]
    if comp == "postgres":  # also adopt a postmaster whose pid file we lost
        candidates.append(_read_pid(_pg_layout(cfg, probe=False).data / "postmaster.pid"))
    markers = [_CMDLINE_MARKER[comp]]
    if comp == "postgres":
        markers.append(str(_pg_layout(cfg, probe=False).data))
    elif comp == "kafka":
        markers.append(str(_comp_dir(cfg, "kafka") / "server.properties"))
    for pid in candidates:
        if pid and _pid_alive(pid):
            cmd = _cmdline(pid)
            if cmd is None or all(m in cmd for m in markers):
                return pid
    return None


def _port_of(cfg: InfraConfig, comp: str) -> int:
    return {"postgres": cfg.pg_port, "redis": cfg.redis_port, "kafka": cfg.kafka_port}[comp]


def _spawn(
    comp: str,
    argv: list[str],
    log: Path,
    pid_file: Path,
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    user: tuple[int, int] | None = None,
) -> subprocess.Popen[bytes]:
    """Start a detached server process (own session) logging to ``log``; write its pid file."""
    _rotate(log)
    kw: dict[str, Any] = {}
    if user is not None:
        kw.update(user=user[0], group=user[1], extra_groups=[])
    with open(log, "ab") as fh:
        fh.write(f"\n===== {time.strftime('%Y-%m-%d %H:%M:%S')} devstack starting {comp}: {' '.join(argv)}\n".encode())
        fh.flush()
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
            env=env,
            cwd=str(cwd) if cwd else None,
            **kw,
        )
    _children[proc.pid] = proc
    pid_file.write_text(f"{proc.pid}\n")
    return proc


def _terminate(comp: str, pid: int, sig: int, timeout: float) -> None:
    """Send ``sig``; after ``timeout`` kill the whole process group (it is its own session)."""
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _pid_alive(pid):
            return
        time.sleep(0.1)
    if comp == "postgres":  # immediate shutdown before the hammer
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGQUIT)
        end = time.monotonic() + 5
        while time.monotonic() < end and _pid_alive(pid):
            time.sleep(0.1)
        if not _pid_alive(pid):
            return
    _say(f"{comp}: pid {pid} did not stop within {timeout:.0f}s, sending SIGKILL")
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    end = time.monotonic() + 10
    while time.monotonic() < end and _pid_alive(pid):
        time.sleep(0.1)


def _apt_install(*packages: str) -> None:
    if os.geteuid() != 0:
        raise InfraError(f"missing {' '.join(packages)}: run `sudo apt-get install -y {' '.join(packages)}`")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    lock_opt = ["-o", "DPkg::Lock::Timeout=300"]
    _say(f"apt-get update && apt-get install -y {' '.join(packages)}")
    _run(["apt-get", *lock_opt, "update", "-q"], env=env, timeout=900)
    _run(
        ["apt-get", *lock_opt, "install", "-y", "-q", "--no-install-recommends", *packages],
        env=env,
        timeout=1800,
    )


# --------------------------------------------------------------------------- postgres


@dataclass(frozen=True)
class _PgLayout:
    base: Path  # <state>/postgres (log + pid file)
    data: Path  # PGDATA (real path)
    sock: Path  # unix socket dir
    fallback: Path | None  # /var/tmp/... dir when the state dir is not traversable by the pg user


def _pg_bin_dir(data: Path | None = None) -> Path | None:
    env = os.environ.get("SWITCHYARD_PG_BINDIR")
    if env and (Path(env) / "postgres").exists():
        return Path(env)
    found: list[tuple[int, Path]] = []
    for d in Path("/usr/lib/postgresql").glob("*/bin"):
        if (d / "postgres").exists() and (d / "initdb").exists() and (d / "psql").exists():
            with contextlib.suppress(ValueError):
                found.append((int(d.parent.name.split(".")[0]), d))
    want = None
    if data is not None:
        with contextlib.suppress(OSError, ValueError):
            want = int((data / "PG_VERSION").read_text().strip().split(".")[0])
    for ver, d in sorted(found, reverse=True):
        if want is None or ver == want:
            return d
    if want is not None and found:
        raise InfraError(f"data dir {data} is PostgreSQL {want} but only {sorted(v for v, _ in found)} are installed")
    pg_config = shutil.which("pg_config")
    if pg_config:
        cp = _run([pg_config, "--bindir"], check=False)
        d = Path(cp.stdout.strip())
        if cp.returncode == 0 and (d / "postgres").exists() and (d / "initdb").exists():
            return d
    return None


def _pg_os_user(create: bool = True) -> tuple[int, int] | None:
    """(uid, gid) to run postgres as, or None to run as ourselves (not root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", PG_FALLBACK_OS_USER):
        with contextlib.suppress(KeyError):
            pw = pwd.getpwnam(name)
            return pw.pw_uid, pw.pw_gid
    if not create:
        return None
    _say(f"postgres: creating system user {PG_FALLBACK_OS_USER} (postgres refuses to run as root)")
    _run(
        [
            "useradd",
            "--system",
            "--user-group",
            "--no-create-home",
            "--home-dir",
            "/nonexistent",
            "--shell",
            "/usr/sbin/nologin",
            PG_FALLBACK_OS_USER,
        ]
    )
    pw = pwd.getpwnam(PG_FALLBACK_OS_USER)
    return pw.pw_uid, pw.pw_gid


def _can_traverse(path: Path, user: tuple[int, int]) -> bool:
    cp = subprocess.run(
        ["test", "-x", str(path)],
        check=False,
        user=user[0],
        group=user[1],
        extra_groups=[],
        stdin=subprocess.DEVNULL,
        capture_output=True,
    )
    return cp.returncode == 0


def _hash_dir(p: Path) -> str:
    return hashlib.sha256(str(p).encode()).hexdigest()[:16]


def _pg_layout(cfg: InfraConfig, probe: bool = True) -> _PgLayout:
    base = _comp_dir(cfg, "postgres")
    link = base / "data"
    fb_dir = PG_FALLBACK_ROOT / _hash_dir(_state(cfg))
    fallback: Path | None = None
    if link.is_symlink():
        fallback = fb_dir
    elif not link.exists() and probe:
        user = _pg_os_user()
        if user is not None:
            _mkdir(base)
            os.chmod(base, 0o755)  # noqa: S103 - the postgres user must traverse it
            if not _can_traverse(base, user):
                fallback = fb_dir
    data = (fallback / "data") if fallback else link
    sock = (fallback / "run") if fallback else base / "run"
    if len(str(sock / f".s.PGSQL.{cfg.pg_port}.lock")) > 100:  # sun_path is 108 bytes
        sock = Path("/tmp") / f"switchyard-pg-{_hash_dir(_state(cfg))}"  # noqa: S108 - 0700, owned by pg
    return _PgLayout(base=base, data=data, sock=sock, fallback=fallback)


def _pg_sweep_fallbacks() -> None:
    """Remove fallback data dirs whose state dir is gone and whose postmaster is not running."""
    if not PG_FALLBACK_ROOT.is_dir():
        return
    for d in PG_FALLBACK_ROOT.iterdir():
        with contextlib.suppress(OSError):
            if time.time() - d.stat().st_mtime < 600:  # may be being set up right now
                continue
            owner = Path((d / "state_dir").read_text().strip())
            if (owner / "postgres" / "data").is_symlink():
                continue
            pid = _read_pid(d / "data" / "postmaster.pid")
            if pid and _pid_alive(pid):
                continue
            _say(f"postgres: removing orphaned fallback data dir {d} (state dir {owner} is gone)")
            shutil.rmtree(d, ignore_errors=True)


def _install_postgres() -> Path:
    bindir = _pg_bin_dir()
    if bindir is None:
        _apt_install("postgresql")
        bindir = _pg_bin_dir()
        if bindir is None:
            raise InfraError("postgresql installed but no server binaries found under /usr/lib/postgresql")
    _pg_os_user()
    return bindir


def _pg_prepare(cfg: InfraConfig) -> tuple[_PgLayout, Path, tuple[int, int] | None]:
    user = _pg_os_user()
    lay = _pg_layout(cfg)
    _mkdir(lay.base)
    if lay.fallback is not None:
        _pg_sweep_fallbacks()
        _mkdir(lay.fallback)
        os.chmod(PG_FALLBACK_ROOT, 0o755)  # noqa: S103 - traversable by the postgres user
        os.chmod(lay.fallback, 0o755)  # noqa: S103
        link = lay.base / "data"
        if not link.is_symlink():
            _say(
                f"postgres: {lay.base} is not reachable by the postgres user; "
                f"keeping PGDATA in {lay.data} (symlinked from {link})"
            )
            link.symlink_to(lay.data)
        (lay.fallback / "state_dir").write_text(str(_state(cfg)) + "\n")
    _mkdir(lay.sock, 0o700)
    os.chmod(lay.sock, 0o700)
    if user is not None:
        os.chown(lay.sock, *user)

    bindir = _pg_bin_dir(lay.data if (lay.data / "PG_VERSION").exists() else None)
    if bindir is None:
        bindir = _install_postgres()

    if not (lay.data / "PG_VERSION").exists():
        tmp = lay.data.with_name(lay.data.name + ".initdb-tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        _mkdir(tmp, 0o700)
        os.chmod(tmp, 0o700)
        if user is not None:
            os.chown(tmp, *user)
        _say(f"postgres: initdb {lay.data}")
        cp = _run(
            [
                str(bindir / "initdb"),
                "-D",
                str(tmp),
                "-U",
                PG_SUPERUSER,
                "-E",
                "UTF8",
                "--locale=C",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
            ],
            check=False,
            user=user[0] if user else None,
            group=user[1] if user else None,
            extra_groups=[] if user else None,
            cwd="/",
        )
        if cp.returncode != 0:
            raise InfraError(f"postgres: initdb failed (exit {cp.returncode}):\n{(cp.stdout + cp.stderr)[-4000:]}")
        if lay.data.is_dir() and not lay.data.is_symlink():
            shutil.rmtree(lay.data)
        os.replace(tmp, lay.data)
    return lay, bindir, user


def _pg_argv(cfg: InfraConfig, bindir: Path, lay: _PgLayout) -> list[str]:
    settings = {
        "listen_addresses": "127.0.0.1",
        "port": str(cfg.pg_port),
        "unix_socket_directories": str(lay.sock),
        "unix_socket_permissions": "0700",
        "max_connections": "200",
        "shared_buffers": "64MB",
        "password_encryption": "scram-sha-256",
        "logging_collector": "off",
        "log_line_prefix": "%m [%p] ",
        "log_timezone": "UTC",
    }
    argv = [str(bindir / "postgres"), "-D", str(lay.data)]
    for k, v in settings.items():
        argv += ["-c", f"{k}={v}"]
    return argv


def _pg_psql(
    bindir: Path,
    args: list[str],
    *,
    env_extra: dict[str, str] | None = None,
    sql: str | None = None,
    timeout: float = 15,
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PGCONNECT_TIMEOUT="3", PSQLRC="/dev/null")
    for k in ("PGSERVICE", "PGOPTIONS", "PGSSLMODE", "PGPASSFILE"):
        env.pop(k, None)
    env.update(env_extra or {})
    return subprocess.run(
        check=False,
        args=[str(bindir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", *args],
        input=sql,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


_PG_BOOTSTRAP_SQL = r"""
SELECT format('CREATE ROLE %I LOGIN', :'u') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'u')
\gexec
SELECT format('ALTER ROLE %I WITH LOGIN CREATEDB PASSWORD %L', :'u', :'pw')
\gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'u')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db')
\gexec
"""


def _pg_ready(cfg: InfraConfig, bindir: Path, lay: _PgLayout) -> tuple[bool, str]:
    """Ready = accepts TCP, role/db exist (created if missing) and pg_user can log in."""
    try:
        return _pg_ready_once(cfg, bindir, lay)
    except subprocess.TimeoutExpired as e:
        return False, f"timed out: {' '.join(map(str, e.cmd))[:200]}"


def _pg_ready_once(cfg: InfraConfig, bindir: Path, lay: _PgLayout) -> tuple[bool, str]:
    cp = subprocess.run(
        check=False,
        args=[str(bindir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(cfg.pg_port), "-t", "2"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=10,
    )
    if cp.returncode != 0:
        return False, "pg_isready: not accepting connections yet"
    boot = _pg_psql(
        bindir,
        [
            "-h",
            str(lay.sock),
            "-p",
            str(cfg.pg_port),
            "-U",
            PG_SUPERUSER,
            "-d",
            "postgres",
            "-v",
            f"u={cfg.pg_user}",
            "-v",
            f"pw={cfg.pg_password}",
            "-v",
            f"db={cfg.pg_database}",
            "-f",
            "-",
        ],
        sql=_PG_BOOTSTRAP_SQL,
    )
    if boot.returncode != 0:
        return False, f"bootstrap role/database: {boot.stderr.strip()}"
    check = _pg_psql(
        bindir,
        [
            "-h",
            "127.0.0.1",
            "-p",
            str(cfg.pg_port),
            "-U",
            cfg.pg_user,
            "-d",
            cfg.pg_database,
            "-A",
            "-t",
            "-c",
            "SELECT 1",
        ],
        env_extra={"PGPASSWORD": cfg.pg_password},
    )
    if check.returncode != 0 or check.stdout.strip() != "1":
        return False, f"login as {cfg.pg_user}: {check.stderr.strip()}"
    return True, ""


# --------------------------------------------------------------------------- redis


def _redis_server() -> str | None:
    env = os.environ.get("SWITCHYARD_REDIS_SERVER")
    if env and Path(env).exists():
        return env
    return shutil.which("redis-server") or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None)


def _install_redis() -> str:
    exe = _redis_server()
    if exe is None:
        _apt_install("redis-server")
        exe = _redis_server()
        if exe is None:
            raise InfraError("redis-server package installed but redis-server binary not found")
    return exe


def _redis_argv(cfg: InfraConfig, exe: str) -> list[str]:
    return [
        exe,
        "--bind",
        "127.0.0.1",
        "--port",
        str(cfg.redis_port),
        "--save",
        "",
        "--appendonly",
        "yes",
        "--dir",
        str(_comp_dir(cfg, "redis")),
        "--daemonize",
        "no",
        "--protected-mode",
        "no",
        "--logfile",
        "",
        "--always-show-logo",
        "no",
        "--supervised",
        "no",
    ]


def _redis_ping(port: int, timeout: float = 1.0) -> str:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(b"PING\r\n")
            return s.recv(256).decode("utf-8", "replace").strip()
    except OSError as e:
        return f"error: {e}"


# --------------------------------------------------------------------------- kafka


def _kafka_home(cfg: InfraConfig) -> Path:
    return _cache(cfg) / "kafka" / KAFKA_VERSION


def _kafka_libs(cfg: InfraConfig) -> Path:
    return _kafka_home(cfg) / "libs"


def _kafka_installed(cfg: InfraConfig) -> bool:
    return (_kafka_home(cfg) / ".complete").exists() and any(_kafka_libs(cfg).glob("kafka_*.jar"))


def _java() -> str | None:
    cands = []
    if os.environ.get("JAVA_HOME"):
        cands.append(Path(os.environ["JAVA_HOME"]) / "bin" / "java")
    cands.append(Path("/usr/lib/jvm/java-17-openjdk-amd64/bin/java"))
    for c in cands:
        if c.exists():
            return str(c)
    return shutil.which("java")


def _java_major(java: str) -> int:
    cp = _run([java, "-version"], check=False)
    text = cp.stderr + cp.stdout
    with contextlib.suppress(IndexError, ValueError):
        ver = text.split('"')[1]
        return int(ver.split(".")[1]) if ver.startswith("1.") else int(ver.split(".")[0].split("-")[0])
    return 0


def _install_java() -> str:
    java = _java()
    if java is None or _java_major(java) < 17:
        _apt_install("openjdk-17-jre-headless")
        java = _java()
        if java is None or _java_major(java) < 17:
            raise InfraError("Java >= 17 is required for Kafka 4.x (set JAVA_HOME)")
    return java


_KAFKA_POM = """<?xml version="1.0" encoding="UTF-8"?>
<!-- generated by scripts/devstack/infra.py: runtime class path of a Kafka {ver} broker -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.switchyard.devstack</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>{ver}</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId><artifactId>kafka_{scala}</artifactId><version>{ver}</version>
    </dependency>
    <!-- kafka-topics / console producer+consumer (TopicCommand etc.), without Kafka Connect -->
    <dependency>
      <groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>{ver}</version>
      <exclusions>
        <exclusion><groupId>org.apache.kafka</groupId><artifactId>connect-runtime</artifactId></exclusion>
        <exclusion><groupId>com.fasterxml.jackson.jakarta.rs</groupId><artifactId>*</artifactId></exclusion>
      </exclusions>
    </dependency>
    <dependency>
      <groupId>{log_g}</groupId><artifactId>{log_a}</artifactId><version>{log_v}</version>
    </dependency>
  </dependencies>
</project>
"""


def _install_kafka(cfg: InfraConfig) -> None:
    _install_java()
    home = _kafka_home(cfg)
    libs = _kafka_libs(cfg)
    if _kafka_installed(cfg):
        return
    with _file_lock(_cache(cfg) / ".kafka-install.lock"):
        if _kafka_installed(cfg):
            return
        mvn = shutil.which("mvn")
        if mvn is None:
            _apt_install("maven")
            mvn = shutil.which("mvn")
            if mvn is None:
                raise InfraError("maven installed but `mvn` not found on PATH")
        _mkdir(home)
        log_g, log_a, log_v = LOG4J_SLF4J_BINDING.split(":")
        pom = home / "pom.xml"
        pom.write_text(_KAFKA_POM.format(ver=KAFKA_VERSION, scala=KAFKA_SCALA, log_g=log_g, log_a=log_a, log_v=log_v))
        tmp = home / "libs.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        m2 = _mkdir(_cache(cfg) / "m2")
        _say(
            f"kafka: fetching org.apache.kafka:kafka_{KAFKA_SCALA}:{KAFKA_VERSION} + runtime deps "
            f"with mvn (local repo {m2}) -> {libs}"
        )
        t0 = time.monotonic()
        _run(
            [
                mvn,
                "-B",
                "-q",
                f"-Dmaven.repo.local={m2}",
                "-f",
                str(pom),
                f"{MAVEN_DEPENDENCY_PLUGIN}:copy-dependencies",
                f"-DoutputDirectory={tmp}",
                "-DincludeScope=runtime",
            ],
            timeout=1800,
            cwd=str(home),
        )
        jars = sorted(p.name for p in tmp.glob("*.jar"))
        if not any(j.startswith(f"kafka_{KAFKA_SCALA}-") for j in jars):
            raise InfraError(f"mvn finished but no kafka_{KAFKA_SCALA} jar in {tmp}")
        shutil.rmtree(libs, ignore_errors=True)
        os.replace(tmp, libs)
        size = sum(p.stat().st_size for p in libs.glob("*.jar"))
        (home / ".complete").write_text("\n".join(jars) + "\n")
        _say(f"kafka: {len(jars)} jars ({size / 1e6:.1f} MB) in {time.monotonic() - t0:.1f}s")


def _kafka_classpath(cfg: InfraConfig) -> str:
    return str(_kafka_libs(cfg) / "*")


def kafka_tool_argv(cfg: InfraConfig, main_class: str, *args: str) -> list[str]:
    """argv running a Kafka CLI class with the cached jars, e.g.
    ``kafka_tool_argv(cfg, "org.apache.kafka.tools.TopicCommand", "--bootstrap-server", bs, "--list")``.
    Useful classes: org.apache.kafka.tools.TopicCommand, org.apache.kafka.tools.ConsoleProducer,
    org.apache.kafka.tools.consumer.ConsoleConsumer,
    org.apache.kafka.tools.consumer.group.ConsumerGroupCommand.
    """
    java = _java() or "java"
    log4j = _comp_dir(cfg, "kafka") / "tools-log4j2.properties"
    if not log4j.exists():
        _mkdir(log4j.parent)
        log4j.write_text(_LOG4J2_TOOLS)
    return [
        java,
        "-Xmx256m",
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        f"-Dlog4j2.configurationFile={log4j}",
        "-cp",
        _kafka_classpath(cfg),
        main_class,
        *args,
    ]


_LOG4J2_BROKER = """# generated by scripts/devstack/infra.py
status = warn
name = switchyard-kafka
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = STDOUT
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
logger.authorizer.name = kafka.authorizer.logger
logger.authorizer.level = WARN
logger.cleaner.name = kafka.log.LogCleaner
logger.cleaner.level = WARN
logger.storage.name = org.apache.kafka.storage
logger.storage.level = WARN
logger.utils.name = org.apache.kafka.common.utils.AppInfoParser
logger.utils.level = WARN
# the ~400-line dump of every config value at each start (see server.properties instead)
logger.config.name = org.apache.kafka.common.config.AbstractConfig
logger.config.level = WARN
"""

_LOG4J2_TOOLS = """# generated by scripts/devstack/infra.py
status = warn
appender.err.type = Console
appender.err.name = STDERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = STDERR
"""


def _kafka_properties(cfg: InfraConfig) -> str:
    data = _comp_dir(cfg, "kafka") / "data"
    props = {
        "process.roles": "broker,controller",
        "node.id": "1",
        # Static quorum (kraft.version 0): the controller endpoint is read from this file on each
        # start, so a state dir survives a change of ports.  Kafka 4.1 still supports it; storage
        # is formatted without --standalone accordingly.
        "controller.quorum.voters": f"1@127.0.0.1:{cfg.kafka_controller_port}",
        "listeners": f"PLAINTEXT://127.0.0.1:{cfg.kafka_port},CONTROLLER://127.0.0.1:{cfg.kafka_controller_port}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{cfg.kafka_port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(data),
        "num.partitions": "1",
        "default.replication.factor": "1",
        "min.insync.replicas": "1",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "4",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "4",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "share.coordinator.state.topic.num.partitions": "4",
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "false",
        "delete.topic.enable": "true",
        "num.network.threads": "2",
        "num.io.threads": "4",
        "num.recovery.threads.per.data.dir": "1",
        "log.retention.hours": "168",
        "log.segment.bytes": str(256 * 1024 * 1024),
        # short controlled shutdown
        "controlled.shutdown.enable": "true",
        "broker.heartbeat.interval.ms": "500",
        "broker.session.timeout.ms": "9000",
    }
    return "# generated by scripts/devstack/infra.py on every start\n" + "".join(f"{k}={v}\n" for k, v in props.items())


def _kafka_cluster_id(cfg: InfraConfig) -> str:
    path = _comp_dir(cfg, "kafka") / "cluster.id"
    with contextlib.suppress(OSError):
        cid = path.read_text().strip()
        if cid:
            return cid
    while True:  # same shape as org.apache.kafka.common.Uuid.randomUuid().toString()
        cid = base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")
        if not cid.startswith("-"):
            break
    path.write_text(cid + "\n")
    return cid


def _kafka_prepare(cfg: InfraConfig) -> tuple[str, Path, Path]:
    java = _java() or _install_java()
    if not _kafka_installed(cfg):
        _install_kafka(cfg)
    base = _mkdir(_comp_dir(cfg, "kafka"))
    data = _mkdir(base / "data")
    props = base / "server.properties"
    props.write_text(_kafka_properties(cfg))
    log4j = base / "log4j2.properties"
    log4j.write_text(_LOG4J2_BROKER)
    if not (data / "meta.properties").exists():
        cid = _kafka_cluster_id(cfg)
        _say(f"kafka: formatting storage {data} (cluster id {cid})")
        cp = _run(
            kafka_tool_argv(cfg, "kafka.tools.StorageTool", "format", "-t", cid, "-c", str(props)),
            check=False,
            timeout=120,
        )
        if cp.returncode != 0:
            raise InfraError(f"kafka: storage format failed (exit {cp.returncode}):\n{(cp.stdout + cp.stderr)[-4000:]}")
    return java, props, log4j


def _kafka_argv(cfg: InfraConfig, java: str, props: Path, log4j: Path) -> list[str]:
    return [
        java,
        *KAFKA_HEAP,
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-XX:InitiatingHeapOccupancyPercent=35",
        "-XX:+ExplicitGCInvokesConcurrent",
        "-XX:+ExitOnOutOfMemoryError",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={log4j}",
        # keep logging alive while Kafka's own shutdown hook runs (else the tail is lost)
        "-Dlog4j2.shutdownHookEnabled=false",
        f"-Dkafka.logs.dir={_comp_dir(cfg, 'kafka')}",
        "-cp",
        _kafka_classpath(cfg),
        "kafka.Kafka",
        str(props),
    ]


def _kafka_api_versions(port: int, timeout: float = 2.0) -> int | None:
    """Send an ApiVersions v0 request; return the response error code (0 = ok) or None."""
    client_id = b"switchyard-devstack"
    corr = 0x5359
    body = struct.pack(">hhih", 18, 0, corr, len(client_id)) + client_id
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(struct.pack(">i", len(body)) + body)
            buf = b""
            while len(buf) < 4:
                chunk = s.recv(4 - len(buf))
                if not chunk:
                    return None
                buf += chunk
            (size,) = struct.unpack(">i", buf)
            resp = b""
            while len(resp) < min(size, 6):
                chunk = s.recv(size - len(resp))
                if not chunk:
                    return None
                resp += chunk
            rcorr, err = struct.unpack(">ih", resp[:6])
            return err if rcorr == corr else None
    except (OSError, struct.error):
        return None


_KAFKA_STARTED_MARKERS = ("Kafka Server started", "Transition from STARTING to STARTED")


# --------------------------------------------------------------------------- start / stop


def _start_one(cfg: InfraConfig, comp: str) -> float:
    t0 = time.monotonic()
    base = _mkdir(_comp_dir(cfg, comp))
    log = log_path(cfg, comp)
    port = _port_of(cfg, comp)
    with _file_lock(base / ".lock"):
        pid = _our_pid(cfg, comp)
        proc: subprocess.Popen[bytes] | None = None
        log_offset = 0
        ctx: dict[str, Any] = {}
        if comp == "postgres":
            lay, bindir, user = _pg_prepare(cfg)
            ctx.update(lay=lay, bindir=bindir)
        if pid is None:
            ports = [port] + ([cfg.kafka_controller_port] if comp == "kafka" else [])
            for p in ports:
                if _port_open(p):
                    raise InfraError(
                        f"{comp}: port 127.0.0.1:{p} is already in use by another process "
                        f"(not started from {_state(cfg)}); pick another port"
                    )
            _rotate(log)
            with contextlib.suppress(OSError):
                log_offset = log.stat().st_size
            if comp == "postgres":
                proc = _spawn(comp, _pg_argv(cfg, bindir, lay), log, _pid_file(cfg, comp), user=user, cwd=lay.data)
            elif comp == "redis":
                exe = _redis_server() or _install_redis()
                proc = _spawn(comp, _redis_argv(cfg, exe), log, _pid_file(cfg, comp), cwd=base)
            else:
                java, props, log4j = _kafka_prepare(cfg)
                proc = _spawn(comp, _kafka_argv(cfg, java, props, log4j), log, _pid_file(cfg, comp), cwd=base)
            pid = proc.pid
            _say(f"{comp}: started pid {pid} on 127.0.0.1:{port}, waiting until ready")
        else:
            _say(f"{comp}: already running (pid {pid})")
            if comp == "kafka":
                log_offset = -1  # do not require a fresh "started" line

        deadline = time.monotonic() + START_TIMEOUT_S[comp]
        why = "not ready"
        while True:
            if not _pid_alive(pid):
                code = proc.poll() if proc is not None else None
                _pid_file(cfg, comp).unlink(missing_ok=True)
                raise InfraError(
                    f"{comp}: process {pid} exited (code {code}) before becoming ready; "
                    f"{_log_excerpt(log, max(log_offset, 0))}"
                )
            if comp == "postgres":
                ok, why = _pg_ready(cfg, ctx["bindir"], ctx["lay"])
            elif comp == "redis":
                answer = _redis_ping(port)
                ok, why = answer == "+PONG", f"PING -> {answer!r}"
            else:
                err = _kafka_api_versions(port)
                if err is None:
                    ok, why = False, "no ApiVersions answer yet"
                elif log_offset < 0:
                    ok = True
                else:
                    ok = _log_contains(log, log_offset, _KAFKA_STARTED_MARKERS)
                    why = "ApiVersions answers but broker has not logged 'Kafka Server started' yet"
            if ok:
                break
            if time.monotonic() > deadline:
                excerpt = _log_excerpt(log, max(log_offset, 0))
                if proc is not None:  # we started it: do not leave a half-started server behind
                    _terminate(comp, pid, signal.SIGTERM, 10)
                    _pid_file(cfg, comp).unlink(missing_ok=True)
                    what = "stopped it again"
                else:
                    what = f"process {pid} (not started by this call) left running"
                raise InfraError(f"{comp}: not ready after {START_TIMEOUT_S[comp]:.0f}s ({why}); {what}; {excerpt}")
            time.sleep(0.1 if comp == "redis" else 0.25)
    dt = time.monotonic() - t0
    _say(f"{comp}: ready in {dt:.1f}s")
    return dt


def _stop_one(cfg: InfraConfig, comp: str) -> None:
    base = _comp_dir(cfg, comp)
    if not base.exists():
        return
    with _file_lock(base / ".lock"):
        pid = _our_pid(cfg, comp)
        if pid is None:
            _pid_file(cfg, comp).unlink(missing_ok=True)
            return
        _say(f"{comp}: stopping pid {pid}")
        t0 = time.monotonic()
        # postgres: SIGINT = "fast" shutdown (SIGTERM would wait for every client to disconnect)
        sig = signal.SIGINT if comp == "postgres" else signal.SIGTERM
        _terminate(comp, pid, sig, STOP_TIMEOUT_S[comp])
        if _pid_alive(pid):
            raise InfraError(f"{comp}: pid {pid} is still alive after SIGKILL")
        _children.pop(pid, None)
        _pid_file(cfg, comp).unlink(missing_ok=True)
        _say(f"{comp}: stopped in {time.monotonic() - t0:.1f}s")


def _parallel(fn: Callable[[InfraConfig, str], object], cfg: InfraConfig, comps: list[str]) -> dict[str, object]:
    results: dict[str, object] = {}
    errors: list[str] = []
    if not comps:
        return results
    with ThreadPoolExecutor(max_workers=len(comps), thread_name_prefix="devstack") as ex:
        futs = {c: ex.submit(fn, cfg, c) for c in comps}
        for c, f in futs.items():
            try:
                results[c] = f.result()
            except Exception as e:
                errors.append(str(e) if isinstance(e, InfraError) else f"{c}: {type(e).__name__}: {e}")
    if errors:
        raise InfraError("\n\n".join(errors))
    return results


# --------------------------------------------------------------------------- public API


def install(cfg: InfraConfig, components: Iterable[str] = COMPONENTS) -> None:
    """Install/fetch whatever is missing (idempotent; offline once everything is cached)."""
    comps = _check_components(components)
    with _install_lock:
        if "postgres" in comps:
            bindir = _install_postgres()
            user = _pg_os_user()
            who = pwd.getpwuid(user[0]).pw_name if user else "the current user"
            _say(f"postgres: binaries {bindir} (server runs as {who})")
        if "redis" in comps:
            _say(f"redis: {_install_redis()}")
        if "kafka" in comps:
            _install_kafka(cfg)
            n = len(list(_kafka_libs(cfg).glob("*.jar")))
            _say(f"kafka: {KAFKA_VERSION}, {n} jars in {_kafka_libs(cfg)}; java {_java()}")


def start(cfg: InfraConfig, components: Iterable[str] = ("postgres", "redis", "kafka")) -> None:
    """Start the components (in parallel) and wait until each is ready.

    Idempotent: a component already running from this state dir is left alone (we only wait
    for it to answer).  Missing software is installed first.  Raises InfraError (with the tail
    of the component's log) when something does not come up in time.
    """
    comps = _check_components(components)
    _mkdir(_state(cfg))
    with _install_lock:  # cheap when everything is present
        if "postgres" in comps and _pg_bin_dir() is None:
            _install_postgres()
        if "redis" in comps and _redis_server() is None:
            _install_redis()
        if "kafka" in comps and (not _kafka_installed(cfg) or _java() is None):
            _install_kafka(cfg)
    t0 = time.monotonic()
    _parallel(_start_one, cfg, comps)
    _say(f"{', '.join(comps)} up in {time.monotonic() - t0:.1f}s")


def stop(cfg: InfraConfig, components: Iterable[str] = ("kafka", "redis", "postgres")) -> None:
    """Stop the components gracefully (SIGTERM; SIGINT=fast shutdown for postgres), SIGKILL after a
    bound.  Idempotent; removes pid files."""
    comps = _check_components(components)
    _parallel(_stop_one, cfg, comps)


def status(cfg: InfraConfig) -> dict[str, bool]:
    """{component: running}; running = our pid is alive AND its port accepts connections."""
    out: dict[str, bool] = {}
    for comp in COMPONENTS:
        pid = _our_pid(cfg, comp)
        out[comp] = bool(pid) and _port_open(_port_of(cfg, comp))
    return out


def urls(cfg: InfraConfig) -> dict[str, str]:
    user = quote(cfg.pg_user, safe="")
    pw = quote(cfg.pg_password, safe="")
    db = quote(cfg.pg_database, safe="")
    return {
        "DATABASE_URL": f"postgresql://{user}:{pw}@127.0.0.1:{cfg.pg_port}/{db}",
        "REDIS_URL": f"redis://127.0.0.1:{cfg.redis_port}/0",
        "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{cfg.kafka_port}",
    }


def destroy(cfg: InfraConfig) -> None:
    """Stop everything and delete the state dir (data!) including a postgres fallback dir."""
    stop(cfg)
    lay = _pg_layout(cfg, probe=False)
    if lay.fallback is not None:
        shutil.rmtree(lay.fallback, ignore_errors=True)
    if lay.sock.is_relative_to(Path("/tmp")):  # noqa: S108 - the short socket dir fallback
        shutil.rmtree(lay.sock, ignore_errors=True)
    shutil.rmtree(_state(cfg), ignore_errors=True)


# --------------------------------------------------------------------------- CLI


def _cli_config(ns: argparse.Namespace) -> InfraConfig:
    return InfraConfig(
        state_dir=Path(ns.state_dir),
        cache_dir=Path(ns.cache_dir),
        pg_port=ns.pg_port,
        redis_port=ns.redis_port,
        kafka_port=ns.kafka_port,
        kafka_controller_port=ns.kafka_controller_port,
        pg_user=ns.pg_user,
        pg_password=ns.pg_password,
        pg_database=ns.pg_database,
    )


def _add_options(p: argparse.ArgumentParser, suppress: bool) -> None:
    d = InfraConfig(state_dir=DEFAULT_STATE_DIR, cache_dir=DEFAULT_CACHE_DIR)

    def dflt(v: object) -> object:
        return argparse.SUPPRESS if suppress else v

    p.add_argument(
        "--state-dir",
        default=dflt(str(d.state_dir)),
        help=argparse.SUPPRESS if suppress else "default: %(default)s",
    )
    p.add_argument(
        "--cache-dir",
        default=dflt(str(d.cache_dir)),
        help=argparse.SUPPRESS if suppress else "default: %(default)s",
    )
    p.add_argument("--pg-port", type=int, default=dflt(d.pg_port))
    p.add_argument("--redis-port", type=int, default=dflt(d.redis_port))
    p.add_argument("--kafka-port", type=int, default=dflt(d.kafka_port))
    p.add_argument("--kafka-controller-port", type=int, default=dflt(d.kafka_controller_port))
    p.add_argument("--pg-user", default=dflt(d.pg_user))
    p.add_argument("--pg-password", default=dflt(d.pg_password))
    p.add_argument("--pg-database", default=dflt(d.pg_database))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="infra.py", description=__doc__.split("\n\n")[0])
    _add_options(parser, suppress=False)
    sub = parser.add_subparsers(dest="cmd", required=True)
    for name, help_ in (
        ("install", "install/fetch missing software"),
        ("up", "start components and wait until ready"),
        ("down", "stop components"),
    ):
        sp = sub.add_parser(name, help=help_)
        _add_options(sp, suppress=True)
        sp.add_argument(
            "components",
            nargs="*",
            metavar="COMPONENT",
            help=f"some of {', '.join(COMPONENTS)} (default: all)",
        )
    sp = sub.add_parser("status", help="show which components run")
    _add_options(sp, suppress=True)
    sp.add_argument("--json", action="store_true")
    sp = sub.add_parser("env", help="print DATABASE_URL=... lines")
    _add_options(sp, suppress=True)
    sp.add_argument("--export", action="store_true", help="prefix lines with 'export '")
    sp = sub.add_parser("destroy", help="stop everything and delete the state dir")
    _add_options(sp, suppress=True)
    sp = sub.add_parser(
        "kafka-topics",
        help="run org.apache.kafka.tools.TopicCommand against this broker "
        "(other arguments are passed through, e.g. --list)",
    )
    _add_options(sp, suppress=True)
    ns, extra = parser.parse_known_args(argv)
    if extra and ns.cmd != "kafka-topics":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    cfg = _cli_config(ns)
    t0 = time.monotonic()
    try:
        if ns.cmd == "install":
            install(cfg, ns.components or COMPONENTS)
            _say(f"install done in {time.monotonic() - t0:.1f}s")
        elif ns.cmd == "up":
            start(cfg, ns.components or COMPONENTS)
            for k, v in urls(cfg).items():
                print(f"{k}={v}")
        elif ns.cmd == "down":
            stop(cfg, ns.components or ("kafka", "redis", "postgres"))
        elif ns.cmd == "status":
            st = status(cfg)
            if ns.json:
                print(json.dumps(st))
            else:
                for comp, running in st.items():
                    print(f"{comp:9s} {'running' if running else 'stopped'}")
            return 0 if all(st.values()) else 3
        elif ns.cmd == "env":
            for k, v in urls(cfg).items():
                print(f"{'export ' if ns.export else ''}{k}={v}")
        elif ns.cmd == "destroy":
            destroy(cfg)
        elif ns.cmd == "kafka-topics":
            args = list(extra)
            if "--bootstrap-server" not in args:
                args = ["--bootstrap-server", f"127.0.0.1:{cfg.kafka_port}", *args]
            return subprocess.call(kafka_tool_argv(cfg, "org.apache.kafka.tools.TopicCommand", *args))
    except (InfraError, ValueError) as e:
        _say(f"ERROR: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
