"""Renders a bench results JSON as Markdown: the side-by-side table with Switchyard/LiteLLM ratios
computed pair by pair, Switchyard's per-service memory and CPU, and the performance targets.

    uv run python bench/report.py [bench/results/<file>.json]   (default: the newest run)
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"

Getter = Callable[[dict[str, Any], str], float | None]

# Targets of ARCHITECTURE.md's performance budget, checked on the P1 (production) profile.
TARGET_THROUGHPUT_RATIO = 5.0
TARGET_ADDED_P50_MS = 1.5
TARGET_TTFT_OVERHEAD_MS = 2.0
TARGET_TOTAL_RSS_MB = 600.0


def _dig(d: Any, *path: str) -> Any:
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return None
        d = d[p]
    return d


def _num(x: Any) -> float | None:
    return float(x) if isinstance(x, int | float) else None


def seq(field: str, *path: str) -> Getter:
    return lambda prof, gw: _num(_dig(prof, field, "targets", gw, *path))


def added(field: str, *path: str) -> Getter:
    """A gateway's figure minus the direct-to-mock figure of the same interleaved run."""

    def get(prof: dict[str, Any], gw: str) -> float | None:
        if gw == "mock":
            return None
        a = _num(_dig(prof, field, "targets", gw, *path))
        b = _num(_dig(prof, field, "targets", "mock", *path))
        return None if a is None or b is None else a - b

    return get


def quietest(trials: list[dict[str, Any]]) -> dict[str, Any]:
    """Of several trials of one closed-loop run, the one during which the rest of the machine used
    the least CPU: on a shared machine, the least disturbed measurement (the same rule for every
    gateway)."""
    return min(trials, key=lambda t: (_dig(t, "machine", "other_pct") or 0.0, -t.get("rps", 0.0)))


def closed_run(prof: dict[str, Any], c: int, gw: str) -> dict[str, Any] | None:
    block = _dig(prof, "closed", f"c{c}")
    if not isinstance(block, dict):
        return None
    trials = _dig(block, "trials", gw)
    if isinstance(trials, list) and trials:
        return quietest(trials)
    run = block.get(gw)
    return run if isinstance(run, dict) else None


def closed(c: int, *path: str) -> Getter:
    return lambda prof, gw: _num(_dig(closed_run(prof, c, gw), *path))


def per_cpu_second(prof: dict[str, Any], gw: str) -> float | None:
    """Throughput per CPU-second the gateway burned: what it could serve per core, whoever else
    shares the machine (busy neighbours barely change it, unlike wall-clock throughput)."""
    cpu = closed(64, "cpu_s_per_1k")(prof, gw)
    return 1000 / cpu if cpu else None


def stream_load(*path: str) -> Getter:
    return lambda prof, gw: _num(_dig(prof, "stream_load", gw, *path))


def memory(*path: str) -> Getter:
    return lambda prof, gw: _num(_dig(prof, "memory", gw, *path))


def errors(prof: dict[str, Any], gw: str) -> float | None:
    total, seen = 0.0, False
    for field in ("seq", "seq_stream"):
        e = _num(_dig(prof, field, "targets", gw, "errors"))
        if e is not None:
            total, seen = total + e, True
    for block in (prof.get("closed") or {}).values():
        for run in (block.get("trials") or {}).get(gw, []) if gw != "mock" else [block.get("mock") or {}]:
            e = _dig(run, "errors")
            if isinstance(e, dict):
                total, seen = total + sum(v for v in e.values() if isinstance(v, int | float)), True
    e = _num(_dig(prof, "stream_load", gw, "errors"))
    if e is not None:
        total, seen = total + e, True
    return total if seen else None


# The Messages API scenario's targets, in pairs of the same deployment: chat, then messages.
MESSAGE_TARGETS = ("chat → openai", "messages → openai", "chat → anthropic", "messages → anthropic")


def messages_table(profs: dict[str, dict[str, Any]]) -> list[str]:
    """c=1 latency of /v1/messages against /v1/chat/completions to the same deployment."""
    names = [n for n in ("P0", "P1") if "messages" in profs.get(n, {})]
    if not names:
        return []
    lines = [
        "",
        "| Messages API at c=1 (Switchyard) | "
        + " | ".join(f"{n} median of round medians (ms) | {n} stream TTFT (ms)" for n in names)
        + " |",
        "|---|" + "---:|---:|" * len(names),
    ]
    for target in MESSAGE_TARGETS:
        cells = []
        for n in names:
            m = profs[n]["messages"]
            cells.append(_fmt(_num(_dig(m, "seq", "targets", target, "median_of_round_medians_ms"))))
            cells.append(_fmt(_num(_dig(m, "seq_stream", "targets", target, "median_of_round_ttft_medians_ms"))))
        lines.append(f"| {target} | " + " | ".join(cells) + " |")
    for chat, msgs in (MESSAGE_TARGETS[:2], MESSAGE_TARGETS[2:]):
        cells = []
        for n in names:
            m = profs[n]["messages"]
            for phase, field in (
                ("seq", "median_of_round_medians_ms"),
                ("seq_stream", "median_of_round_ttft_medians_ms"),
            ):
                a = _num(_dig(m, phase, "targets", msgs, field))
                b = _num(_dig(m, phase, "targets", chat, field))
                cells.append(_fmt(a - b if a is not None and b is not None else None))
        deployment = chat.split("→ ")[1]
        lines.append(f"| **added**: messages minus chat, {deployment} deployment | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        "The same deployment answers both routes in the same interleaved rounds; to the OpenAI-compatible one "
        "/v1/messages is translated, to the Anthropic one it goes through natively (and chat is translated)."
    )
    return lines


# (label, getter, higher_is_better)
ROWS: list[tuple[str, Getter, bool]] = [
    ("c=1 latency, median of round medians (ms)", seq("seq", "median_of_round_medians_ms"), False),
    ("c=1 **added** latency p50 (ms)", added("seq", "median_of_round_medians_ms"), False),
    ("c=1 latency p99 (ms)", seq("seq", "latency_ms", "p99"), False),
    ("c=1 **added** latency p99 (ms)", added("seq", "latency_ms", "p99"), False),
    ("c=10 throughput (req/s)", closed(10, "rps"), True),
    ("c=10 latency p50 (ms)", closed(10, "latency_ms", "p50"), False),
    ("c=10 latency p90 (ms)", closed(10, "latency_ms", "p90"), False),
    ("c=10 latency p99 (ms)", closed(10, "latency_ms", "p99"), False),
    ("c=64 throughput (req/s)", closed(64, "rps"), True),
    ("c=64 latency p50 (ms)", closed(64, "latency_ms", "p50"), False),
    ("c=64 latency p90 (ms)", closed(64, "latency_ms", "p90"), False),
    ("c=64 latency p99 (ms)", closed(64, "latency_ms", "p99"), False),
    ("stream c=1 TTFT p50 (ms)", seq("seq_stream", "ttft_ms", "p50"), False),
    ("stream c=1 TTFT p99 (ms)", seq("seq_stream", "ttft_ms", "p99"), False),
    (
        "stream c=1 **TTFT overhead** (ms, median of round medians)",
        added("seq_stream", "median_of_round_ttft_medians_ms"),
        False,
    ),
    ("stream c=1 inter-chunk gap p50 (ms)", seq("seq_stream", "gap_ms", "p50"), False),
    ("stream c=1 inter-chunk gap p99 (ms)", seq("seq_stream", "gap_ms", "p99"), False),
    ("stream c=10 TTFT p50 (ms)", stream_load("ttft_ms", "p50"), False),
    ("stream c=10 TTFT p99 (ms)", stream_load("ttft_ms", "p99"), False),
    ("stream c=10 inter-chunk gap p99 (ms)", stream_load("gap_ms", "p99"), False),
    ("stream c=10 streams/s", stream_load("rps"), True),
    ("CPU seconds per 1,000 requests (c=64, all processes)", closed(64, "cpu_s_per_1k"), False),
    ("requests per CPU-second (c=64; capacity on a machine of its own)", per_cpu_second, True),
    ("CPU taken by other processes during the c=64 run (% of machine)", closed(64, "machine", "other_pct"), False),
    ("peak RSS, all processes (MB, sum of VmHWM)", memory("hwm_total_mb"), False),
    ("max RSS under load, all processes (MB, sampled)", memory("sampled_max_total_mb"), False),
    ("errors (all phases)", errors, False),
]


def _fmt(x: float | None) -> str:
    if x is None:
        return "-"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "-"
    return f"{a / b:.2f}x"


def render(results: dict[str, Any]) -> str:
    profs: dict[str, dict[str, Any]] = results.get("profiles", {})
    p0, p1 = profs.get("P0", {}), profs.get("P1", {})
    ll_p1_reason = _dig(p1, "unsupported", "litellm")
    base = p0 or p1
    lines = []
    m = results.get("machine", {})
    lines.append(
        f"Machine: {m.get('cores')} cores, {m.get('cpu_model')}, {m.get('memory_gb')} GB; "
        f"load average at start {m.get('load_average_at_start')}, CPU busy before the run "
        f"{m.get('busy_pct_before', '?')}%; {m.get('time')}; "
        f"commit {_dig(results, 'git', 'commit')} (uncommitted changes: {_dig(results, 'git', 'dirty')}); "
        f"{'QUICK' if results.get('quick') else 'full'} run, {results.get('seconds')} s."
    )
    if "litellm_version" in results:
        lines.append(f"LiteLLM proxy {results['litellm_version']} with {results.get('litellm_workers')} workers.")
    lines.append("")
    lines.append(
        "| metric | mock direct | Switchyard P0 | LiteLLM P0 | SY/LL P0 | Switchyard P1 | LiteLLM P1 | SY P1 / LL P0 |"
    )
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, get, _higher in ROWS:
        mock = get(base, "mock")
        s0, l0 = get(p0, "switchyard"), get(p0, "litellm")
        s1, l1 = get(p1, "switchyard"), get(p1, "litellm")
        l1_cell = _fmt(l1) if l1 is not None else ("unsupported" if ll_p1_reason else "-")
        lines.append(
            f"| {label} | {_fmt(mock)} | {_fmt(s0)} | {_fmt(l0)} | {_ratio(s0, l0)} | {_fmt(s1)} | {l1_cell} | {_ratio(s1, l0)} |"
        )
    lines.append("")
    lines.append(
        "Ratios are Switchyard ÷ LiteLLM of the same row (above 1 is better for throughput, below 1 for "
        "latency, CPU and memory). Added latency = the gateway's figure minus the direct-to-mock figure "
        "measured in the same interleaved rounds. With several trials of a closed-loop run, the one during "
        "which other processes took the least CPU is shown (all trials are in the JSON)."
    )
    if ll_p1_reason:
        lines.append(
            f"LiteLLM P1 (virtual keys + budgets) is **unsupported here**: {ll_p1_reason}. "
            "The last column compares Switchyard P1 with LiteLLM P0, LiteLLM's best case."
        )
    lines.extend(messages_table(profs))

    # Per-service table (Switchyard)
    services = sorted(
        set(_dig(p0, "memory", "switchyard", "hwm_mb") or {}) | set(_dig(p1, "memory", "switchyard", "hwm_mb") or {})
    )
    if services:
        lines.append("")
        lines.append(
            "| Switchyard service | peak RSS P0 (MB) | peak RSS P1 (MB) | max RSS under load P1 (MB) | CPU s / 1k req c=64 P0 | CPU s / 1k req c=64 P1 |"
        )
        lines.append("|---|---:|---:|---:|---:|---:|")
        for svc in services:
            cells = []
            for prof in (p0, p1):
                cells.append(_fmt(_num(_dig(prof, "memory", "switchyard", "hwm_mb", svc))))
            cells.append(_fmt(_num(_dig(p1, "memory", "switchyard", "sampled_max_mb", svc))))
            for prof in (p0, p1):
                run = closed_run(prof, 64, "switchyard") or {}
                sec, ok = _num(_dig(run, "cpu_seconds", svc)), _num(run.get("ok"))
                cells.append(_fmt(sec / ok * 1000 if sec is not None and ok else None))
            lines.append(f"| {svc} | " + " | ".join(cells) + " |")
        infra = results.get("infra_memory_mb")
        if infra:
            lines.append("")
            lines.append(
                "Infrastructure RSS at the end (not counted above): "
                + ", ".join(f"{k} {v:.0f} MB" for k, v in infra.items())
                + "."
            )

    # Targets (P1)
    if p1:
        lines.append("")
        lines.append("| target (P1 production profile) | measured | met? |")
        lines.append("|---|---:|:---:|")
        s_rps = closed(64, "rps")(p1, "switchyard")
        l1_rps = closed(64, "rps")(p1, "litellm")
        l0_rps = closed(64, "rps")(p0, "litellm")
        if s_rps is not None and l1_rps:
            ratio = s_rps / l1_rps
            lines.append(
                f"| throughput ≥ {TARGET_THROUGHPUT_RATIO:g}x LiteLLM P1 (c=64) | {ratio:.2f}x | {_yes(ratio >= TARGET_THROUGHPUT_RATIO)} |"
            )
        elif s_rps is not None and l0_rps:
            ratio = s_rps / l0_rps
            verdict = "yes" if ratio >= TARGET_THROUGHPUT_RATIO else "no (vs P0)"
            lines.append(
                f"| throughput ≥ {TARGET_THROUGHPUT_RATIO:g}x LiteLLM P1 (c=64); LiteLLM P1 unsupported, so vs LiteLLM P0 | {ratio:.2f}x | {verdict} |"
            )
        s_eff, l1_eff, l0_eff = (
            per_cpu_second(p1, "switchyard"),
            per_cpu_second(p1, "litellm"),
            per_cpu_second(p0, "litellm"),
        )
        if s_eff is not None and (l1_eff or l0_eff):
            base_eff = l1_eff or l0_eff
            assert base_eff is not None
            ratio = s_eff / base_eff
            which = "LiteLLM P1" if l1_eff else "LiteLLM P0 (P1 unsupported)"
            lines.append(
                f"| same, as requests per CPU-second (c=64) vs {which} | {ratio:.2f}x | {_yes(ratio >= TARGET_THROUGHPUT_RATIO)} |"
            )
        a50 = added("seq", "median_of_round_medians_ms")(p1, "switchyard")
        if a50 is not None:
            lines.append(
                f"| added latency p50 at c=1 ≤ {TARGET_ADDED_P50_MS:g} ms | {a50:.2f} ms | {_yes(a50 <= TARGET_ADDED_P50_MS)} |"
            )
        ttft = added("seq_stream", "median_of_round_ttft_medians_ms")(p1, "switchyard")
        if ttft is not None:
            lines.append(
                f"| stream TTFT overhead ≤ {TARGET_TTFT_OVERHEAD_MS:g} ms | {ttft:.2f} ms | {_yes(ttft <= TARGET_TTFT_OVERHEAD_MS)} |"
            )
        rss = memory("sampled_max_total_mb")(p1, "switchyard")
        if rss is not None:
            lines.append(
                f"| total RSS of all services ≤ {TARGET_TOTAL_RSS_MB:g} MB under load | {rss:.0f} MB | {_yes(rss <= TARGET_TOTAL_RSS_MB)} |"
            )
        checks = p1.get("checks")
        if checks:
            lines.append("")
            lines.append(
                f"P1 evidence: {checks.get('otlp_exports')} OTLP trace exports ({checks.get('otlp_bytes')} bytes) reached "
                f"the stand-in collector; a probe request with the budgeted virtual key settled "
                f"{checks.get('probe_spend_rows')} spend-log row(s), ${checks.get('probe_spend_usd', 0):.6f} "
                "(usage event → Kafka → copilot-budget)."
            )
    other = [
        run["machine"]["other_pct"]
        for prof in profs.values()
        for block in (prof.get("closed") or {}).values()
        for runs in (block.get("trials") or {}).values()
        for run in runs
        if "machine" in run
    ]
    if other:
        lines.append("")
        lines.append(
            f"Shared machine: processes outside the benchmark used {sum(other) / len(other):.0f}% of the CPU on "
            f"average during the closed-loop runs (at most {max(other):.0f}%; 100% = all cores)."
        )
    return "\n".join(lines)


def _yes(ok: bool) -> str:
    return "yes" if ok else "**no**"


def main(argv: list[str]) -> int:
    if argv:
        path = Path(argv[0])
    else:
        runs = sorted(p for p in RESULTS.glob("*.json") if not p.name.startswith("soak-"))
        if not runs:
            print("no results yet: run `make bench`", file=sys.stderr)
            return 1
        path = runs[-1]
    print(render(json.loads(path.read_text())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
