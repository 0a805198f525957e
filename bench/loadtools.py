"""Thin wrappers around the load generators: wrk (closed loop, non-streaming) and sybench (the
Go client in bench/loadgen for sequential rounds, streaming and open-loop rate)."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from gateways import BIN, REPO

WRK_SCRIPT = REPO / "bench" / "wrk" / "chat.lua"


@dataclass(frozen=True)
class Target:
    name: str
    url: str  # the chat completions URL (the Messages API's for dialect "anthropic")
    key: str
    model: str
    dialect: str = ""


def wrk(target: Target, concurrency: int, seconds: float, *, threads: int = 1) -> dict[str, Any]:
    """One closed-loop run: ``concurrency`` connections sending back to back for ``seconds``.
    One wrk thread is plenty for these rates and leaves the cores to the gateways."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        out = Path(tmp.name)
    try:
        proc = subprocess.run(
            [
                "wrk",
                f"-t{threads}",
                f"-c{concurrency}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "30s",
                "-s",
                str(WRK_SCRIPT),
                target.url,
                "--",
                target.model,
                target.key,
            ],
            env={**os.environ, "WRK_OUT": str(out)},
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0 or not out.stat().st_size:
            raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
        result: dict[str, Any] = json.loads(out.read_text())
    finally:
        out.unlink(missing_ok=True)
    result["concurrency"] = concurrency
    return result


def targets_file(targets: Sequence[Target]) -> Path:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as tmp:
        json.dump([asdict(t) for t in targets], tmp)
        return Path(tmp.name)


def sybench(mode: str, targets: Sequence[Target], *args: str, stderr_to: Path | None = None) -> dict[str, Any]:
    path = targets_file(targets)
    try:
        err = stderr_to.open("a") if stderr_to else None
        try:
            proc = subprocess.run(
                [str(BIN / "sybench"), mode, "-targets", str(path), *args],
                stdout=subprocess.PIPE,
                stderr=err if err else subprocess.PIPE,
                text=True,
                check=False,
            )
        finally:
            if err:
                err.close()
        if proc.returncode != 0:
            raise RuntimeError(f"sybench {mode} failed ({proc.returncode}): {proc.stderr}")
        result: dict[str, Any] = json.loads(proc.stdout)
        return result
    finally:
        path.unlink(missing_ok=True)
