"""Which plans edges may cache, for how long, and when the routing generation moves."""

from __future__ import annotations

from router_testing import dep, planner

from switchyard.router.v1 import router_pb2
from switchyard_router.domain.cooldown import Cooldowns
from switchyard_router.domain.generation import Generation
from switchyard_router.domain.health import HealthBook, HealthResult

NOW = 1_000_000.0


def req(model: str, **kw: object) -> router_pb2.PlanRequest:
    return router_pb2.PlanRequest(model=model, call_type=router_pb2.CALL_TYPE_CHAT, **kw)


def test_static_plans_are_cacheable_with_weights_and_tiers() -> None:
    p = planner([dep("g", "a", weight=3), dep("g", "b", weight=1, order=2), dep("fb", "c")], fallbacks=[{"g": ["fb"]}])
    p.plan_cache_ms = 1000
    out, _ = p.plan(req("g"), NOW)
    assert out.cache_ttl_ms == 1000
    g = out.groups[0]
    weights = dict(zip([d.id for d in g.deployments], g.shuffle_weights, strict=True))
    tiers = dict(zip([d.id for d in g.deployments], g.tiers, strict=True))
    assert weights == {"a": 3.0, "b": 1.0} and tiers["b"] == 2
    assert len(out.groups[1].shuffle_weights) == 1


def test_plans_with_per_request_state_are_not_cacheable() -> None:
    limited = planner([dep("g", "a", rpm=10)])
    limited.plan_cache_ms = 1000
    assert limited.plan(req("g"), NOW)[0].cache_ttl_ms == 0
    latency = planner([dep("g", "a"), dep("g", "b")], routing_strategy="latency-based-routing")
    latency.plan_cache_ms = 1000
    assert latency.plan(req("g"), NOW)[0].cache_ttl_ms == 0
    static = planner([dep("g", "a")])
    static.plan_cache_ms = 1000
    assert static.plan(req("g", mock_testing_fallbacks=True), NOW)[0].cache_ttl_ms == 0
    assert static.plan(req("nope"), NOW)[0].cache_ttl_ms == 0
    checked = planner([dep("g", "a")], enable_pre_call_checks=True)
    checked.plan_cache_ms = 1000
    assert checked.plan(req("g", estimated_input_tokens=100), NOW)[0].cache_ttl_ms == 0
    off = planner([dep("g", "a")])
    assert off.plan(req("g"), NOW)[0].cache_ttl_ms == 0, "caching is off unless the router enables it"


def test_ttl_ends_when_a_left_out_deployment_comes_back() -> None:
    p = planner([dep("g", "a"), dep("g", "b")])
    p.plan_cache_ms = 1000
    p.cooldowns.set("b", NOW + 0.25, "429")
    out, _ = p.plan(req("g"), NOW)
    assert [d.id for d in out.groups[0].deployments] == ["a"]
    assert out.cache_ttl_ms == 250


def test_generation_moves_on_cooldown_start_and_health_flip_only() -> None:
    gen = Generation()
    seen: list[int] = []
    gen.subscribe(seen.append)
    cooldowns = Cooldowns(on_start=gen.bump)
    cooldowns.set("a", NOW + 10, "429", NOW)
    cooldowns.set("a", NOW + 20, "429", NOW)  # extended, not started
    cooldowns.merge({"b": cooldowns.get("a", NOW)}, NOW)  # type: ignore[dict-item]
    assert seen == [2, 3]
    health = HealthBook(on_flip=gen.bump)
    health.put("a", HealthResult(True, checked_at=1))
    health.put("a", HealthResult(True, checked_at=2))
    health.put("a", HealthResult(False, "boom", checked_at=3))
    assert seen == [2, 3, 4]
