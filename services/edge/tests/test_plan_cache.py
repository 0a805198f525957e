"""Cached plans: keyed without per-request fields, reordered per request from the router's
weights and tiers, expired by TTL."""

from __future__ import annotations

import random
from collections import Counter

from switchyard.llm.v1 import deployment_pb2
from switchyard.router.v1 import router_pb2
from switchyard_edge.domain.plan_cache import PlanCache, cache_key


def _plan(weights: list[float], tiers: list[int], ttl_ms: int = 1000) -> router_pb2.PlanResponse:
    plan = router_pb2.PlanResponse(model_group="g", cache_ttl_ms=ttl_ms)
    group = plan.groups.add(model_group="g", role=router_pb2.GROUP_ROLE_PRIMARY)
    for i in range(len(weights)):
        group.deployments.add(id=f"d{i}")
    group.shuffle_weights.extend(weights)
    group.tiers.extend(tiers)
    return plan


def test_key_ignores_prompt_size_and_deadline() -> None:
    a = router_pb2.PlanRequest(model="m", estimated_input_tokens=10, timeout_seconds=5, tags=["x"])
    b = router_pb2.PlanRequest(model="m", estimated_input_tokens=9000, timeout_seconds=60, tags=["x"])
    assert cache_key(a) == cache_key(b)
    assert cache_key(a) != cache_key(router_pb2.PlanRequest(model="m", tags=["y"]))
    assert cache_key(a) != cache_key(router_pb2.PlanRequest(model="m", tags=["x"], allowed_models=["m"]))


def test_reuse_redraws_the_weighted_order_within_tiers() -> None:
    cache = PlanCache(rng=random.Random(7))
    cache.put(b"k", _plan([3.0, 1.0, 5.0], [0, 0, 1]))
    firsts: Counter[str] = Counter()
    for _ in range(4000):
        plan = cache.get(b"k")
        assert plan is not None
        ids = [d.id for d in plan.groups[0].deployments]
        assert ids[-1] == "d2", "a higher tier always comes last"
        firsts[ids[0]] += 1
    share = firsts["d0"] / 4000
    assert 0.70 < share < 0.80, f"weight 3 of 4 should lead ~75% of the time, got {share:.2f}"


def test_entries_expire_and_uncacheable_plans_are_not_kept() -> None:
    now = [100.0]
    cache = PlanCache(clock=lambda: now[0])
    cache.put(b"k", _plan([1.0, 1.0], [0, 0], ttl_ms=500))
    cache.put(b"n", _plan([1.0], [0], ttl_ms=0))
    assert cache.get(b"k") is not None and cache.get(b"n") is None
    now[0] += 0.6
    assert cache.get(b"k") is None


def test_a_cached_plan_is_never_handed_out_itself() -> None:
    cache = PlanCache()
    original = _plan([1.0, 1.0], [0, 0])
    cache.put(b"k", original)
    got = cache.get(b"k")
    assert got is not None and got is not original
    got.groups[0].ClearField("deployments")
    again = cache.get(b"k")
    assert again is not None and len(again.groups[0].deployments) == 2


def test_deployment_fields_survive_reordering() -> None:
    plan = _plan([1.0, 1.0], [0, 0])
    plan.groups[0].deployments[0].CopyFrom(deployment_pb2.Deployment(id="d0", api_base="https://x", provider="openai"))
    cache = PlanCache()
    cache.put(b"k", plan)
    got = cache.get(b"k")
    assert got is not None
    d0 = next(d for d in got.groups[0].deployments if d.id == "d0")
    assert d0.api_base == "https://x" and d0.provider == "openai"
