"""`make bench`: Switchyard and LiteLLM's proxy side by side against one mock upstream.

For each profile (P0 bare, P1 production) it measures, one gateway under load at a time and in
alternating order: sequential overhead at concurrency 1 (interleaved rounds with the direct-to-mock
baseline), closed-loop throughput and latency at concurrency 10 and 64 (wrk), streaming TTFT and
inter-chunk gaps with 20-chunk answers (at concurrency 1 and 10), CPU seconds per 1,000 requests
and the memory of every process. Raw results go to bench/results/<timestamp>.json; the Markdown
table (bench/report.py) is printed at the end.

    uv run python bench/run.py [--quick] [--profiles P0,P1] [--gateways switchyard,litellm] [--keep-up]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gateways as gw
import procstat
import report
from loadtools import Target, sybench, wrk


@dataclass(frozen=True)
class Plan:
    """How much of everything to run; QUICK fits in under three minutes on a warm machine."""

    seq_rounds: int
    seq_per_round: int
    seq_warmup: int
    stream_rounds: int
    stream_per_round: int
    stream_warmup: int
    closed_seconds: float
    mock_seconds: float
    warmup_seconds: float
    trials: int
    stream_load_seconds: float
    concurrencies: tuple[int, ...] = (10, 64)
    stream_concurrency: int = 10


QUICK = Plan(3, 20, 10, 3, 5, 2, 4, 2, 2, 1, 3)
# The Messages API scenario's targets: (route → kind of deployment).
MESSAGE_TARGETS = report.MESSAGE_TARGETS
FULL = Plan(7, 25, 15, 7, 10, 5, 15, 5, 5, 2, 10)


def _git() -> dict[str, str]:
    def run(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=gw.REPO, capture_output=True, text=True, check=False).stdout.strip()

    return {"commit": run("rev-parse", "--short", "HEAD"), "dirty": "yes" if run("status", "--porcelain") else "no"}


class Bench:
    def __init__(self, plan: Plan, names: list[str], profiles: list[str]) -> None:
        self.plan = plan
        self.names = names
        self.profiles = profiles
        self.mock = gw.Mock()
        self.sw = gw.Switchyard()
        self.ll = gw.LiteLLM()
        self.results: dict[str, Any] = {
            "format": 1,
            "quick": plan is QUICK,
            "plan": plan.__dict__,
            "machine": procstat.machine(),
            "git": _git(),
            "gateways": names,
            "stream": {"chunks": gw.STREAM_CHUNKS, "mock_stream_ms": gw.STREAM_MS},
            "profiles": {},
        }

    # --- helpers ------------------------------------------------------------------------------
    def mock_target(self, stream: bool = False) -> Target:
        return Target(
            "mock",
            f"{self.mock.url}/v1/chat/completions",
            "",
            gw.STREAM_UPSTREAM if stream else gw.INSTANT_UPSTREAM,
        )

    def target(self, name: str, key: str, stream: bool = False) -> Target:
        url = self.sw.url if name == "switchyard" else self.ll.url
        return Target(name, f"{url}/v1/chat/completions", key, gw.STREAM_MODEL if stream else gw.MODEL)

    def groups(self, name: str) -> procstat.Groups:
        return self.sw.groups() if name == "switchyard" else self.ll.groups()

    def measured_wrk(self, t: Target, c: int, seconds: float) -> dict[str, Any]:
        """wrk plus the CPU and memory of the gateway's processes during the run, and how much CPU
        the rest of the (shared) machine took meanwhile."""
        groups = self.groups(t.name) if t.name != "mock" else {}
        mock_pid = self.mock.proc.pid if self.mock.proc else 0
        before = procstat.cpu_of(groups)
        mock_before, kids_before = procstat.cpu_seconds(mock_pid), _children_cpu()
        busy_before, total_before = procstat.machine_cpu()
        with procstat.RssSampler(groups) as rss:
            out = wrk(t, c, seconds)
        busy_after, total_after = procstat.machine_cpu()
        after = procstat.cpu_of(groups)
        mock_cpu, wrk_cpu = procstat.cpu_seconds(mock_pid) - mock_before, _children_cpu() - kids_before
        span = max(total_after - total_before, 1e-9)
        gateway_cpu = sum(after.values()) - sum(before.values())
        other = (busy_after - busy_before) - gateway_cpu - mock_cpu - wrk_cpu
        out["machine"] = {
            "busy_pct": round(100 * (busy_after - busy_before) / span, 1),
            "gateway_pct": round(100 * gateway_cpu / span, 1),
            "mock_pct": round(100 * mock_cpu / span, 1),
            "loadgen_pct": round(100 * wrk_cpu / span, 1),
            "other_pct": round(100 * min(max(other, 0.0), busy_after - busy_before) / span, 1),
        }
        if groups:
            cpu = {k: round(after[k] - before.get(k, 0.0), 3) for k in after}
            total = sum(cpu.values())
            out["cpu_seconds"] = cpu
            out["cpu_seconds_total"] = round(total, 3)
            out["cpu_s_per_1k"] = round(total / out["ok"] * 1000, 3) if out["ok"] else None
            out["rss_max_mb"] = {k: round(v, 1) for k, v in rss.max_mb.items()}
            out["rss_max_total_mb"] = round(rss.max_total_mb, 1)
        return out

    # --- phases -------------------------------------------------------------------------------
    def run_profile(self, profile: str, keys: dict[str, str]) -> dict[str, Any]:
        p = self.plan
        names = list(keys)
        res: dict[str, Any] = {"keys": {n: ("virtual key" if profile == "P1" else "master key") for n in names}}

        gw.say(f"{profile}: warm-up")
        for n in names:
            wrk(self.target(n, keys[n]), 10, p.warmup_seconds)

        gw.say(f"{profile}: sequential overhead at c=1 ({p.seq_rounds} interleaved rounds x {p.seq_per_round})")
        targets = [self.mock_target(), *(self.target(n, keys[n]) for n in names)]
        res["seq"] = sybench(
            "seq",
            targets,
            "-rounds",
            str(p.seq_rounds),
            "-per-round",
            str(p.seq_per_round),
            "-warmup",
            str(p.seq_warmup),
        )

        gw.say(f"{profile}: streaming at c=1 ({gw.STREAM_CHUNKS} chunks over {gw.STREAM_MS} ms per answer)")
        stargets = [self.mock_target(True), *(self.target(n, keys[n], True) for n in names)]
        res["seq_stream"] = sybench(
            "seq",
            stargets,
            "-stream",
            "-rounds",
            str(p.stream_rounds),
            "-per-round",
            str(p.stream_per_round),
            "-warmup",
            str(p.stream_warmup),
        )

        # The mock's own closed-loop figures do not depend on the profile: measured once per run.
        baseline = not self.results["profiles"]
        closed: dict[str, dict[str, Any]] = {}
        for c in p.concurrencies:
            key = f"c{c}"
            closed[key] = {"trials": {n: [] for n in names}}
            if baseline:
                closed[key]["mock"] = wrk(self.mock_target(), c, p.mock_seconds)
        for trial in range(p.trials):
            order = names if trial % 2 == 0 else list(reversed(names))
            for c in p.concurrencies:
                for n in order:
                    gw.say(f"{profile}: closed loop c={c} {n} (trial {trial + 1}/{p.trials}, {p.closed_seconds:g}s)")
                    closed[f"c{c}"]["trials"][n].append(self.measured_wrk(self.target(n, keys[n]), c, p.closed_seconds))
        for block in closed.values():
            for n, trials in block["trials"].items():
                block[n] = _pick_trial(trials)
        res["closed"] = closed

        sc = p.stream_concurrency
        res["stream_load"] = {}
        for t in stargets if baseline else stargets[1:]:
            gw.say(f"{profile}: streaming closed loop c={sc} {t.name} ({p.stream_load_seconds:g}s)")
            res["stream_load"][t.name] = sybench(
                "load", [t], "-stream", "-c", str(sc), "-duration", f"{p.stream_load_seconds}s", "-warmup", "1s"
            )

        if "switchyard" in keys:
            res["messages"] = self.messages(profile, keys["switchyard"])

        res["memory"] = {}
        for n in names:
            hwm = procstat.hwm_of(self.groups(n))
            sampled: dict[str, float] = {}
            sampled_total = 0.0
            for block in closed.values():
                for run in block["trials"][n]:
                    for svc, mb in run.get("rss_max_mb", {}).items():
                        sampled[svc] = max(sampled.get(svc, 0.0), mb)
                    sampled_total = max(sampled_total, run.get("rss_max_total_mb", 0.0))
            res["memory"][n] = {
                "hwm_mb": {k: round(v, 1) for k, v in hwm.items()},
                "hwm_total_mb": round(sum(hwm.values()), 1),
                "sampled_max_mb": sampled,
                "sampled_max_total_mb": sampled_total,
            }
        return res

    def messages(self, profile: str, key: str) -> dict[str, Any]:
        """The Messages API scenario (Switchyard only): at c=1, in interleaved rounds, a chat
        request and a /v1/messages request to the same deployment, for an OpenAI-compatible one
        (messages translated) and an Anthropic one (messages native, chat translated)."""
        p = self.plan
        chat, msgs = f"{self.sw.url}/v1/chat/completions", f"{self.sw.url}/v1/messages"

        def targets(openai_model: str, claude_model: str) -> list[Target]:
            return [
                Target(MESSAGE_TARGETS[0], chat, key, openai_model),
                Target(MESSAGE_TARGETS[1], msgs, key, openai_model, "anthropic"),
                Target(MESSAGE_TARGETS[2], chat, key, claude_model),
                Target(MESSAGE_TARGETS[3], msgs, key, claude_model, "anthropic"),
            ]

        gw.say(f"{profile}: messages vs chat at c=1 ({p.seq_rounds} interleaved rounds x {p.seq_per_round})")
        out: dict[str, Any] = {}
        out["seq"] = sybench(
            "seq",
            targets(gw.MODEL, gw.CLAUDE_MODEL),
            "-rounds",
            str(p.seq_rounds),
            "-per-round",
            str(p.seq_per_round),
            "-warmup",
            str(p.seq_warmup),
        )
        gw.say(f"{profile}: messages vs chat streaming at c=1")
        out["seq_stream"] = sybench(
            "seq",
            targets(gw.STREAM_MODEL, gw.CLAUDE_STREAM_MODEL),
            "-stream",
            "-rounds",
            str(p.stream_rounds),
            "-per-round",
            str(p.stream_per_round),
            "-warmup",
            str(p.stream_warmup),
        )
        return out

    def run(self, wait_quiet: float = 0.0) -> dict[str, Any]:
        self.results["machine"]["busy_pct_before"] = _wait_quiet(wait_quiet)
        t0 = time.monotonic()
        use_ll = "litellm" in self.names
        use_sw = "switchyard" in self.names
        self.mock.start()
        if use_ll:
            self.results["litellm_version"] = gw.litellm_version()
            self.results["litellm_workers"] = self.ll.workers
            self.ll.start()  # starts in the background while Switchyard comes up
        if use_sw:
            gw.say("starting Switchyard (bench stack in .stack/bench)")
            self.sw.up(self.profiles[0])
        if use_ll:
            gw.say(f"waiting for LiteLLM {self.results['litellm_version']} ({self.ll.workers} workers)")
            self.ll.wait_ready()
        self.results["startup_seconds"] = round(time.monotonic() - t0, 1)

        for profile in self.profiles:
            keys: dict[str, str] = {}
            unsupported: dict[str, str] = {}
            if use_sw:
                if self.sw.profile != profile:
                    gw.say(f"restarting Switchyard's services for {profile}")
                    self.sw.up(profile)
                keys["switchyard"] = self.sw.virtual_key(1000.0) if profile == "P1" else (self.sw.cfg.master_key or "")
            if use_ll:
                if profile == "P0":
                    keys["litellm"] = gw.LITELLM_MASTER_KEY
                else:
                    support = gw.litellm_p1_support()
                    unsupported["litellm"] = (
                        support.get("reason", "")
                        if not support.get("supported")
                        else "Prisma can run here, but this harness has no LiteLLM database profile yet"
                    )
                    # Stop it: an idle LiteLLM would only take memory and CPU from the P1 run.
                    self.ll.stop()
            otlp_before = self.mock.stats()
            gw.say(f"=== profile {profile}: {', '.join(keys)} ===")
            res = self.run_profile(profile, keys)
            res["unsupported"] = unsupported
            if profile == "P1" and use_sw:
                res["checks"] = self.p1_checks(keys["switchyard"], otlp_before)
            self.results["profiles"][profile] = res
            if use_ll and profile == "P0" and "P1" not in self.profiles:
                self.ll.stop()
        if use_sw:
            self.results["infra_memory_mb"] = {
                k: round(v, 1) for k, v in procstat.rss_of(self.sw.infra_groups()).items()
            }
        self.results["seconds"] = round(time.monotonic() - t0, 1)
        return self.results

    def p1_checks(self, key: str, otlp_before: dict[str, int]) -> dict[str, Any]:
        """Evidence that the production features were really on during P1: spans reached the
        collector, and a request made with the budgeted virtual key was settled (its usage event
        went through Kafka to copilot-budget's spend log)."""
        stats = self.mock.stats()
        status, headers = gw.chat_once(self.sw.url, key, gw.MODEL)
        call_id = headers.get("x-litellm-call-id", "")
        rows: list[dict[str, Any]] = []
        deadline = time.monotonic() + 20
        while call_id and time.monotonic() < deadline:
            rows = self.sw.spend_rows(call_id)
            if rows:
                break
            time.sleep(0.3)
        return {
            "otlp_exports": stats["otlp_requests"] - otlp_before.get("otlp_requests", 0),
            "otlp_bytes": stats["otlp_bytes"] - otlp_before.get("otlp_bytes", 0),
            "probe_status": status,
            "probe_spend_rows": len(rows),
            "probe_spend_usd": sum(float(r.get("spend") or 0) for r in rows),
            "key_info_spend_usd": float(self.sw.key_info(key).get("spend") or 0.0),
        }

    def stop(self, keep_up: bool) -> None:
        self.ll.stop()
        if not keep_up:
            self.sw.down()
        self.mock.stop()


QUIET_PCT = 25.0


def _busy_pct(seconds: float = 1.0) -> float:
    busy0, total0 = procstat.machine_cpu()
    time.sleep(seconds)
    busy1, total1 = procstat.machine_cpu()
    return round(100 * (busy1 - busy0) / max(total1 - total0, 1e-9), 1)


def _wait_quiet(limit: float) -> float:
    """How busy the machine is before the run (percent of all cores). The machine may be shared:
    with ``limit`` > 0, wait up to that many seconds for it to fall under QUIET_PCT."""
    deadline = time.monotonic() + limit
    busy = _busy_pct()
    while busy > QUIET_PCT and time.monotonic() < deadline:
        gw.say(f"machine {busy:.0f}% busy before the run; waiting for it to calm down")
        busy = _busy_pct(5.0)
    if busy > QUIET_PCT:
        gw.say(f"warning: the machine is {busy:.0f}% busy with other work; figures will be noisy")
    return busy


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _pick_trial(trials: list[dict[str, Any]]) -> dict[str, Any]:
    """The least disturbed trial (see report.quietest), whole, so its figures belong together."""
    if len(trials) == 1:
        return trials[0]
    out = dict(report.quietest(trials))
    out["rps_trials"] = [t["rps"] for t in trials]
    out["rps_mean"] = round(statistics.fmean(t["rps"] for t in trials), 3)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="the under-three-minutes variant")
    ap.add_argument("--profiles", default="P0,P1")
    ap.add_argument("--gateways", default="switchyard,litellm")
    ap.add_argument("--keep-up", action="store_true", help="leave Switchyard's bench stack running")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument(
        "--wait-quiet", type=float, default=0.0, help="wait up to this many seconds for an idle machine first"
    )
    args = ap.parse_args(argv)
    names = [n for n in args.gateways.split(",") if n]
    profiles = [p for p in args.profiles.split(",") if p]
    if not set(names) <= {"switchyard", "litellm"} or not set(profiles) <= {"P0", "P1"}:
        ap.error("gateways: switchyard,litellm; profiles: P0,P1")
    bench = Bench(QUICK if args.quick else FULL, names, profiles)
    try:
        results = bench.run(args.wait_quiet)
    finally:
        bench.stop(args.keep_up)
    gw.RESULTS.mkdir(parents=True, exist_ok=True)
    out = args.out or gw.RESULTS / f"{time.strftime('%Y%m%d-%H%M%S')}{'-quick' if args.quick else ''}.json"
    out.write_text(json.dumps(results, indent=1))
    print(report.render(results))
    print(f"\nRaw results: {out.relative_to(gw.REPO) if out.is_relative_to(gw.REPO) else out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
