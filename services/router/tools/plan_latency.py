"""The router's added latency per request, measured from a client: ``Plan`` then the outcome
report, one request at a time (concurrency 1), against a running router.

    uv run python services/router/tools/plan_latency.py --router 127.0.0.1:50051 --model my-model -n 3000

``--limited`` adds a runtime deployment with an rpm limit (never reached) so every Plan also
runs the shared admission in Redis; it is removed afterwards."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid

import grpc
import orjson
from grpc_health.v1 import health_pb2, health_pb2_grpc

from switchyard.router.v1 import router_pb2, router_pb2_grpc


def summary(name: str, samples: list[float]) -> str:
    s = sorted(samples)
    p99 = s[min(len(s) - 1, int(len(s) * 0.99))]
    return f"{name:<22} n={len(s)}  median {statistics.median(s):.3f} ms  p99 {p99:.3f} ms  mean {statistics.fmean(s):.3f} ms"


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--router", default="127.0.0.1:50051")
    ap.add_argument("--model", default="switchyard-fake")
    ap.add_argument("-n", type=int, default=3000)
    ap.add_argument("--limited", action="store_true")
    args = ap.parse_args()
    async with grpc.aio.insecure_channel(args.router) as ch:
        stub = router_pb2_grpc.RouterServiceStub(ch)
        model, added = args.model, ""
        if args.limited:
            model = f"latency-{uuid.uuid4().hex[:6]}"
            entry = router_pb2.ModelEntry(
                model_name=model,
                litellm_params_json=orjson.dumps(
                    {"model": "openai/latency", "api_base": "http://127.0.0.1:9/v1", "rpm": 1_000_000_000}
                ),
            )
            resp = await stub.AddModel(router_pb2.AddModelRequest(model=entry, caller="plan_latency"))
            added = resp.model.id
        req = router_pb2.PlanRequest(
            model=model, call_type=router_pb2.CALL_TYPE_CHAT, estimated_input_tokens=20, timeout_seconds=600
        )
        health = health_pb2_grpc.HealthStub(ch)
        for _ in range(200):  # warm up channels, caches and the Redis pool
            await stub.Plan(req)
            await health.Check(health_pb2.HealthCheckRequest())
        # The same round trip doing nothing: what gRPC itself costs on this host, for comparison.
        baseline = []
        for _ in range(args.n):
            t0 = time.perf_counter()
            await health.Check(health_pb2.HealthCheckRequest())
            baseline.append((time.perf_counter() - t0) * 1000)
        plans, reports, totals = [], [], []
        for _ in range(args.n):
            t0 = time.perf_counter()
            plan = await stub.Plan(req)
            t1 = time.perf_counter()
            dep = plan.groups[0].deployments[0]
            outcome = router_pb2.Outcome(
                deployment_id=dep.id,
                model_group=plan.model_group,
                success=True,
                latency_ms=5.0,
                total_tokens=30,
                lease_id=plan.lease.lease_id,
                reserved_tokens=plan.lease.reserved_tokens,
            )
            await stub.ReportOutcome(router_pb2.ReportOutcomeRequest(outcomes=[outcome]))
            t2 = time.perf_counter()
            plans.append((t1 - t0) * 1000)
            reports.append((t2 - t1) * 1000)
            totals.append((t2 - t0) * 1000)
        if added:
            await stub.DeleteModel(router_pb2.DeleteModelRequest(id=added))
    kind = "limited (Redis admission)" if args.limited else "unlimited (local state)"
    print(f"model {model!r}, {kind}")
    print(summary("empty RPC (baseline)", baseline))
    print(summary("Plan", plans))
    print(summary("ReportOutcome (1)", reports))
    print(summary("Plan + ReportOutcome", totals))


if __name__ == "__main__":
    asyncio.run(main())
