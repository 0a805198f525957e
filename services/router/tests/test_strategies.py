"""Routing strategies: the order a group's deployments are tried in."""

from __future__ import annotations

import random
from collections import Counter

from router_testing import dep, planner

from switchyard_router.domain.strategies import LatencySample, order_candidates


def cands(*deployments: dict[str, object]):
    p = planner(list(deployments))
    return p.registry.groups["g"].candidates


def firsts(strategy: str, cs, n: int = 4000, **kw) -> Counter[str]:
    rng = random.Random(1)
    return Counter(order_candidates(strategy, cs, rng=rng, **kw)[0].id for _ in range(n))


def test_simple_shuffle_follows_weight() -> None:
    counts = firsts("simple-shuffle", cands(dep("g", "a", weight=3), dep("g", "b", weight=1)))
    assert 0.70 < counts["a"] / 4000 < 0.80


def test_simple_shuffle_uses_rpm_then_tpm_when_no_weight() -> None:
    by_rpm = firsts("simple-shuffle", cands(dep("g", "a", rpm=900), dep("g", "b", rpm=100)))
    assert 0.85 < by_rpm["a"] / 4000 < 0.95
    by_tpm = firsts("simple-shuffle", cands(dep("g", "a", tpm=1000), dep("g", "b", tpm=1000)))
    assert 0.45 < by_tpm["a"] / 4000 < 0.55


def test_shuffle_orders_every_deployment_once() -> None:
    cs = cands(dep("g", "a"), dep("g", "b"), dep("g", "c"))
    order = order_candidates("simple-shuffle", cs, rng=random.Random(3))
    assert sorted(c.id for c in order) == ["a", "b", "c"]


def test_order_tiers_come_first_for_every_strategy() -> None:
    cs = cands(dep("g", "backup", order=2, weight=100), dep("g", "main", order=1, weight=1))
    for strategy in (
        "simple-shuffle",
        "least-busy",
        "latency-based-routing",
        "usage-based-routing",
        "cost-based-routing",
    ):
        assert firsts(strategy, cs, n=50)["main"] == 50


def test_latency_based_prefers_fastest_and_ttft_for_streams() -> None:
    cs = cands(dep("g", "a"), dep("g", "b"))
    stats = {"a": LatencySample(100.0, 900.0, 1000.0), "b": LatencySample(400.0, 50.0, 1000.0)}
    assert firsts("latency-based-routing", cs, n=20, latency=stats, now=1001.0)["a"] == 20
    assert firsts("latency-based-routing", cs, n=20, latency=stats, now=1001.0, stream=True)["b"] == 20


def test_latency_based_tries_unmeasured_and_stale_first_and_spreads_within_buffer() -> None:
    cs = cands(dep("g", "a"), dep("g", "b"), dep("g", "new"))
    stats = {"a": LatencySample(100.0, 0, 1000.0), "b": LatencySample(110.0, 0, 1000.0)}
    assert firsts("latency-based-routing", cs, n=20, latency=stats, now=1001.0)["new"] == 20
    stale = firsts("latency-based-routing", cs[:2], n=200, latency=stats, now=99999.0, latency_ttl=60)
    assert stale["a"] > 50 and stale["b"] > 50  # both forgotten: random
    spread = firsts("latency-based-routing", cs[:2], n=400, latency=stats, now=1001.0, latency_buffer=0.2)
    assert spread["a"] > 100 and spread["b"] > 100


def test_cost_based_cheapest_first_unknown_last() -> None:
    cs = cands(
        dep("g", "dear", model_info={"input_cost_per_token": 0.00001, "output_cost_per_token": 0.00003}),
        dep("g", "cheap", model_info={"input_cost_per_token": 0.000001, "output_cost_per_token": 0.000002}),
        dep("g", "unknown-model-x"),
    )
    order = [c.id for c in order_candidates("cost-based-routing", cs, rng=random.Random(0))]
    assert order == ["cheap", "dear", "unknown-model-x"]


def test_cost_based_uses_the_price_library() -> None:
    cs = cands(dep("g", "big", model="openai/gpt-4o"), dep("g", "small", model="openai/gpt-4o-mini"))
    assert order_candidates("cost-based-routing", cs, rng=random.Random(0))[0].id == "small"


def test_least_busy_and_usage_order() -> None:
    cs = cands(dep("g", "a", tpm=1000), dep("g", "b", tpm=100))
    order = order_candidates("least-busy", cs, rng=random.Random(0), in_flight={"a": 3, "b": 1})
    assert [c.id for c in order] == ["b", "a"]
    order = order_candidates("usage-based-routing-v2", cs, rng=random.Random(0), usage_tpm={"a": 100, "b": 50})
    assert [c.id for c in order] == ["a", "b"]  # a used 10% of its tpm, b 50%
