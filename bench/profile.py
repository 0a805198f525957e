"""`make profile`: where Switchyard's services spend their CPU under load.

Brings up the bench stack (mock upstream, P1 production profile by default), drives it with wrk at
a fixed concurrency and samples every chosen service at once with py-spy (Python frames only, no
native frames). Each service's collapsed stacks are written to .cache/bench/profile-<svc>.txt
(open them in speedscope or flamegraph.pl) and summarised here: the top functions by own time
and by inclusive time, and own time per package.

    uv run python bench/profile.py [--seconds 20] [--services edge,router] [--profile P1] [-c 10] [--stream]
    uv run python bench/profile.py --summarize .cache/bench/profile-edge.txt
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import gateways as gw
from loadtools import WRK_SCRIPT, Target, targets_file

PYSPY = gw.CACHE / "tools" / "bin" / "py-spy"
DEFAULT_SERVICES = "edge,provider-adapter,router,copilot-budget,auth"


_ROOTS = re.compile(
    r"\((<frozen runpy>|asyncio/runners\.py|asyncio/base_events\.py|threading\.py|[a-z_]+/__main__\.py"
    r"|switchyard_common/runtime\.py)"
)


def _parse(path: Path) -> tuple[int, list[tuple[list[str], int]]]:
    stacks: list[tuple[list[str], int]] = []
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        stacks.append((stack.split(";"), n))
    return total, stacks


def _package(frame: str) -> str:
    """'send (grpc/aio/_call.py:42)' → 'grpc'; stdlib files such as 'asyncio/events.py' keep
    their first directory, single files their name."""
    loc = frame.rpartition("(")[2].rstrip(")")
    path = loc.rpartition(":")[0] or loc
    head = path.split("/", 1)[0]
    return head.removesuffix(".py") or "?"


def summarize(path: Path, top: int = 15, max_samples: int = 0) -> str:
    """Top functions of one collapsed-stack file. Only running threads are sampled, so the own
    time of a Python frame that called into C (``Runner.run`` under uvloop, ``Thread.run``,
    gRPC's ``_invoke``) is native work below it: sockets, libuv, gRPC core, protobuf."""
    total, stacks = _parse(path)
    if not total:
        return f"{path}: no samples (was the process busy?)"
    own: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    pkg: Counter[str] = Counter()
    for frames, n in stacks:
        own[frames[-1]] += n
        pkg[_package(frames[-1])] += n
        for f in set(frames):
            incl[f] += n
    busy = f" (about {100 * total / max_samples:.0f}% of one core)" if max_samples else ""
    lines = [f"{path.name}: {total} samples{busy}"]
    lines.append(f"  top {top} by own time:")
    lines += [f"    {100 * n / total:5.1f}%  {f}" for f, n in own.most_common(top)]
    # Process and thread roots are in (almost) every stack and say nothing.
    inner = [(f, n) for f, n in incl.most_common() if not _ROOTS.search(f)]
    lines.append(f"  top {top} by inclusive time (process and thread roots left out):")
    lines += [f"    {100 * n / total:5.1f}%  {f}" for f, n in inner[:top]]
    ours = [(f, n) for f, n in inner if "(switchyard_" in f]
    lines.append(f"  top {top} Switchyard functions by inclusive time:")
    lines += [f"    {100 * n / total:5.1f}%  {f}" for f, n in ours[:top]]
    lines.append("  own time by package: " + ", ".join(f"{p} {100 * n / total:.0f}%" for p, n in pkg.most_common(12)))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--services", default=DEFAULT_SERVICES)
    ap.add_argument("--profile", default="P1", choices=["P0", "P1"])
    ap.add_argument("-c", "--concurrency", type=int, default=10)
    ap.add_argument("--stream", action="store_true", help="load with streaming requests (sybench) instead of wrk")
    ap.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--blocking", action="store_true", help="pause the process for each sample (exact stacks)")
    ap.add_argument("--keep-up", action="store_true")
    ap.add_argument("--summarize", type=Path, nargs="*", help="only summarise existing collapsed-stack files")
    args = ap.parse_args(argv)
    if args.summarize:
        for p in args.summarize:
            print(summarize(p, args.top))
        return 0
    services = [s for s in args.services.split(",") if s]
    mock, sw = gw.Mock(), gw.Switchyard()
    outputs: dict[str, Path] = {}
    tfile: Path | None = None
    try:
        mock.start()
        gw.say(f"starting Switchyard ({args.profile})")
        sw.up(args.profile)
        key = sw.virtual_key(1000.0) if args.profile == "P1" else (sw.cfg.master_key or "")
        pids = sw.pids()
        missing = [s for s in services if s not in pids]
        if missing:
            raise SystemExit(f"unknown or stopped services: {', '.join(missing)} (have {', '.join(pids)})")
        url = f"{sw.url}/v1/chat/completions"
        load_seconds = args.seconds + 4
        if args.stream:
            tfile = targets_file([Target("switchyard", url, key, gw.STREAM_MODEL)])
            load_cmd = [
                str(gw.BIN / "sybench"),
                "load",
                "-targets",
                str(tfile),
                "-stream",
                "-c",
                str(args.concurrency),
                "-duration",
                f"{load_seconds}s",
                "-warmup",
                "2s",
            ]
        else:
            subprocess.run(
                ["wrk", "-t1", "-c10", "-d2s", "-s", str(WRK_SCRIPT), url, "--", gw.MODEL, key],
                capture_output=True,
                check=True,
            )
            load_cmd = [
                "wrk",
                "-t1",
                f"-c{args.concurrency}",
                f"-d{load_seconds}s",
                "--timeout",
                "30s",
                "-s",
                str(WRK_SCRIPT),
                url,
                "--",
                gw.MODEL,
                key,
            ]
        gw.say(f"load: c={args.concurrency} for {load_seconds}s; py-spy on {', '.join(services)} for {args.seconds}s")
        load = subprocess.Popen(load_cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(2 if not args.stream else 4)
        spies = []
        for svc in services:
            out = gw.CACHE / f"profile-{svc}.txt"
            outputs[svc] = out
            cmd = [
                str(PYSPY),
                "record",
                "--pid",
                str(pids[svc]),
                "--duration",
                str(args.seconds),
                "--rate",
                str(args.rate),
                "--format",
                "raw",
                "--function",
                "--output",
                str(out),
            ]
            if not args.blocking:
                cmd.append("--nonblocking")
            spies.append((svc, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
        for svc, proc in spies:
            text, _ = proc.communicate()
            if proc.returncode != 0:
                print(f"py-spy failed on {svc}: {text.strip()}", file=sys.stderr)
        load_out, _ = load.communicate()
        summary = load_out.strip().splitlines()[-1] if load_out.strip() else "(no output)"
        print(f"load during the profile: {summary}\n")
    finally:
        if tfile is not None:
            tfile.unlink(missing_ok=True)
        if not args.keep_up:
            sw.down()
        mock.stop()
    for out in outputs.values():
        if out.exists():
            print(summarize(out, args.top, args.seconds * args.rate))
            print()
    print("Collapsed stacks: " + ", ".join(str(p.relative_to(gw.REPO)) for p in outputs.values() if p.exists()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
