"""`make soak`: a memory soak of Switchyard at half its measured knee.

Brings up the bench stack (P1 production profile), finds the knee with a quick closed-loop
concurrency sweep (the highest sustained throughput; or takes --rate), then holds an open-loop
constant arrival rate of half the knee for --minutes while sampling the RSS of every service.

Flat means: over the judged window (the last 10 minutes, or the last half of a shorter soak) the
least-squares slope of the total RSS is at most 1 MB/min and that of each service at most
0.5 MB/min (a steady 0.5 MB/min would be 720 MB a day). With fewer than 5 samples in the window
the verdict is "inconclusive".

    uv run python bench/soak.py [--minutes 20] [--sample-seconds 60] [--rate RPS]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from typing import Any

import gateways as gw
import procstat
from loadtools import Target, targets_file, wrk

SWEEP = (1, 2, 4, 8, 16, 32, 64)
FLAT_TOTAL_MB_PER_MIN = 1.0
FLAT_SERVICE_MB_PER_MIN = 0.5
WINDOW_MINUTES = 10.0
MIN_WINDOW_SAMPLES = 5


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (x, y) points."""
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    var = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / var if var else 0.0


def verdict(samples: list[dict[str, Any]], minutes: float) -> dict[str, Any]:
    window = min(WINDOW_MINUTES, minutes / 2)
    start = minutes - window
    judged = [s for s in samples if s["minute"] >= start - 1e-6]
    services = list(samples[0]["rss_mb"]) if samples else []
    slopes = {svc: round(slope([(s["minute"], s["rss_mb"][svc]) for s in judged]), 3) for svc in services}
    total = round(slope([(s["minute"], s["total_mb"]) for s in judged]), 3)
    if len(judged) < MIN_WINDOW_SAMPLES:
        word = "inconclusive"
    elif total <= FLAT_TOTAL_MB_PER_MIN and all(v <= FLAT_SERVICE_MB_PER_MIN for v in slopes.values()):
        word = "flat"
    else:
        word = "growing"
    return {
        "verdict": word,
        "window_minutes": round(window, 2),
        "window_samples": len(judged),
        "total_slope_mb_per_min": total,
        "service_slopes_mb_per_min": slopes,
        "criterion": (
            f"least-squares slope over the last {window:g} min: total <= {FLAT_TOTAL_MB_PER_MIN} MB/min and "
            f"every service <= {FLAT_SERVICE_MB_PER_MIN} MB/min, with at least {MIN_WINDOW_SAMPLES} samples"
        ),
    }


def sweep(target: Target, seconds: float) -> dict[str, Any]:
    runs = []
    for c in SWEEP:
        r = wrk(target, c, seconds)
        gw.say(f"sweep c={c}: {r['rps']:.0f} req/s, p99 {r['latency_ms']['p99']:.0f} ms")
        runs.append({"concurrency": c, "rps": r["rps"], "p99_ms": r["latency_ms"]["p99"], "errors": r["errors"]})
    best = max(runs, key=lambda r: r["rps"])
    knee = next(r for r in runs if r["rps"] >= 0.95 * best["rps"])
    return {"runs": runs, "knee_rps": best["rps"], "knee_concurrency": knee["concurrency"]}


def render(result: dict[str, Any]) -> str:
    samples = result["samples"]
    services = list(samples[0]["rss_mb"]) if samples else []
    lines = [
        f"Soak: {result['minutes']:g} min at {result['rate']:.0f} req/s (half the knee of "
        f"{result['knee']['knee_rps']:.0f} req/s), P1 profile; RSS in MB.",
        "",
        "| minute | " + " | ".join(services) + " | total | req/s | p99 (ms) | errors |",
        "|---:|" + "---:|" * (len(services) + 4),
    ]
    for s in samples:
        load = s.get("load") or {}
        lat = load.get("latency_ms") or {}
        lines.append(
            f"| {s['minute']:.1f} | "
            + " | ".join(f"{s['rss_mb'][svc]:.1f}" for svc in services)
            + f" | {s['total_mb']:.1f} | {load.get('rps', '-')} | {lat.get('p99', '-')} | {load.get('errors', '-')} |"
        )
    v = result["flatness"]
    lines.append("")
    lines.append(
        f"Memory is **{v['verdict']}**: total slope {v['total_slope_mb_per_min']:+.3f} MB/min over the last "
        f"{v['window_minutes']:g} min ({v['window_samples']} samples); per service "
        + ", ".join(f"{k} {x:+.3f}" for k, x in v["service_slopes_mb_per_min"].items())
        + f". Criterion: {v['criterion']}."
    )
    end = result.get("load_summary") or {}
    lines.append(
        f"Whole soak: {end.get('requests')} requests, {end.get('errors')} errors, {end.get('dropped')} dropped "
        f"(could not start: {result['max_inflight']} already open), p99 {(end.get('latency_ms') or {}).get('p99')} ms."
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=20.0)
    ap.add_argument("--sample-seconds", type=float, default=60.0)
    ap.add_argument("--rate", type=float, default=0.0, help="arrival rate (default: half the swept knee)")
    ap.add_argument("--sweep-seconds", type=float, default=4.0)
    ap.add_argument("--max-inflight", type=int, default=256)
    ap.add_argument("--keep-up", action="store_true")
    args = ap.parse_args(argv)
    mock, sw = gw.Mock(), gw.Switchyard()
    result: dict[str, Any] = {"machine": procstat.machine(), "minutes": args.minutes, "profile": "P1"}
    progress = gw.STATE / "soak-progress.jsonl"
    try:
        mock.start()
        gw.say("starting Switchyard (P1)")
        sw.up("P1")
        key = sw.virtual_key(1_000_000.0)
        target = Target("switchyard", f"{sw.url}/v1/chat/completions", key, gw.MODEL)
        wrk(target, 10, 3)  # warm-up
        if args.rate > 0:
            result["knee"] = {"knee_rps": 2 * args.rate, "given": True}
        else:
            gw.say("finding the knee (closed-loop concurrency sweep)")
            result["knee"] = sweep(target, args.sweep_seconds)
        rate = args.rate or result["knee"]["knee_rps"] / 2
        result["rate"] = rate
        result["max_inflight"] = args.max_inflight
        groups = sw.groups()
        tfile = targets_file([target])
        progress.unlink(missing_ok=True)
        gw.say(f"soak: {rate:.0f} req/s open loop for {args.minutes:g} min; RSS every {args.sample_seconds:g}s")
        with progress.open("w") as err:
            load = subprocess.Popen(
                [
                    str(gw.BIN / "sybench"),
                    "rate",
                    "-targets",
                    str(tfile),
                    "-rate",
                    f"{rate:.3f}",
                    "-duration",
                    f"{args.minutes * 60:.0f}s",
                    "-report-every",
                    f"{args.sample_seconds:g}s",
                    "-max-inflight",
                    str(args.max_inflight),
                ],
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
            )
            out: list[str] = []
            reader = threading.Thread(target=lambda: out.append(load.stdout.read() if load.stdout else ""))
            reader.start()
            samples: list[dict[str, Any]] = []
            t0 = time.monotonic()
            while True:
                rss = procstat.rss_of(groups)
                minute = (time.monotonic() - t0) / 60
                samples.append(
                    {
                        "minute": round(minute, 2),
                        "rss_mb": {k: round(v, 1) for k, v in rss.items()},
                        "total_mb": round(sum(rss.values()), 1),
                    }
                )
                gw.say(f"minute {minute:5.1f}: total RSS {sum(rss.values()):.1f} MB")
                if load.poll() is not None:
                    break
                deadline = t0 + len(samples) * args.sample_seconds
                while time.monotonic() < deadline and load.poll() is None:
                    time.sleep(0.5)
                if load.poll() is not None and deadline - time.monotonic() > args.sample_seconds / 2:
                    break  # the load ended just after the last sample: no near-duplicate one
            reader.join()
            tfile.unlink(missing_ok=True)
        lines = [json.loads(line) for line in progress.read_text().splitlines() if line.startswith("{")]
        # The progress line ending interval i describes the load before sample i+1.
        for i, line in enumerate(lines):
            if i + 1 < len(samples):
                samples[i + 1]["load"] = line
        result["samples"] = samples
        result["load_summary"] = json.loads(out[0]) if out and out[0].strip() else {}
        result["flatness"] = verdict(samples, args.minutes)
    finally:
        if not args.keep_up:
            sw.down()
        mock.stop()
    gw.RESULTS.mkdir(parents=True, exist_ok=True)
    path = gw.RESULTS / f"soak-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(result, indent=1))
    print(render(result))
    print(f"\nRaw results: {path.relative_to(gw.REPO) if path.is_relative_to(gw.REPO) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
