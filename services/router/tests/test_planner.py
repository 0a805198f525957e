"""Plans: groups, aliases, wildcards, access, tags, pre-call checks, cooldowns, fallbacks."""

from __future__ import annotations

from router_testing import dep, planner

from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard.router.v1 import router_pb2
from switchyard_router.domain.health import HealthResult
from switchyard_router.domain.limits import Admission

NOW = 1_000_000.0


def req(model: str, **kw: object) -> router_pb2.PlanRequest:
    return router_pb2.PlanRequest(model=model, call_type=router_pb2.CALL_TYPE_CHAT, **kw)


def ids(group: router_pb2.CandidateGroup) -> list[str]:
    return [d.id for d in group.deployments]


def test_unknown_model_is_400_with_param() -> None:
    out, need = planner([dep("g", "a")]).plan(req("nope"), NOW)
    assert out.error.kind == ErrorKind.ERROR_KIND_BAD_REQUEST and out.error.param == "model" and need is None


def test_alias_hidden_alias_and_wildcards() -> None:
    p = planner(
        [
            dep("gpt-4o", "a"),
            dep("anthropic/*", "wild", model="anthropic/*"),
            dep("*", "any", model="*"),
        ],
        model_group_alias={"gpt-4": "gpt-4o", "secret": {"model": "gpt-4o", "hidden": True}},
    )
    out, _ = p.plan(req("gpt-4"), NOW)
    assert out.model_group == "gpt-4o" and ids(out.groups[0]) == ["a"]
    out, _ = p.plan(req("anthropic/claude-x"), NOW)
    d = out.groups[0].deployments[0]
    assert (d.provider, d.model, d.id, d.model_group) == (
        "anthropic",
        "claude-x",
        "wild:claude-x",
        "anthropic/claude-x",
    )
    # The wildcard deployment as defined travels along: its credentials belong to it.
    assert (d.wildcard_origin.id, d.wildcard_origin.provider, d.wildcard_origin.model) == ("wild", "anthropic", "*")
    out, _ = p.plan(req("gemini-2.5-pro"), NOW)
    d = out.groups[0].deployments[0]
    assert (d.provider, d.model) == ("gemini", "gemini-2.5-pro")
    assert (d.wildcard_origin.id, d.wildcard_origin.provider, d.wildcard_origin.model) == ("any", "*", "*")
    assert not p.plan(req("gpt-4o"), NOW)[0].groups[0].deployments[0].HasField("wildcard_origin")
    names = p.registry.public_names()
    assert "gpt-4" in names and "secret" not in names and "anthropic/*" not in names


def test_access_groups_and_key_model_lists() -> None:
    p = planner([dep("m1", "a", model_info={"access_groups": ["beta"]}), dep("m2", "b")])
    assert not p.plan(req("m1", allowed_models=["beta"]), NOW)[0].HasField("error")
    denied = p.plan(req("m2", allowed_models=["beta"]), NOW)[0]
    assert denied.error.kind == ErrorKind.ERROR_KIND_PERMISSION_DENIED
    assert not p.plan(req("m2", allowed_models=["m*"]), NOW)[0].HasField("error")
    assert not p.plan(req("m2", allowed_models=["all-proxy-models"]), NOW)[0].HasField("error")
    assert p.registry.public_names(["beta"]) == ["m1"]


def test_a_teams_models_bound_its_keys_own() -> None:
    """A key's own models may predate a narrowing of its team's: both must allow the model."""
    p = planner([dep("m1", "a", model_info={"access_groups": ["beta"]}), dep("m2", "b")])
    assert not p.plan(req("m1", allowed_models=["m1", "m2"], team_models=["beta"]), NOW)[0].HasField("error")
    denied = p.plan(req("m2", allowed_models=["m1", "m2"], team_models=["beta"]), NOW)[0]
    assert denied.error.kind == ErrorKind.ERROR_KIND_PERMISSION_DENIED
    assert not p.plan(req("m2", team_models=["m*"]), NOW)[0].HasField("error")


def test_tag_filtering_any_all_and_default() -> None:
    deps = [dep("g", "paid", tags=["paid", "eu"]), dep("g", "free", tags=["free"]), dep("g", "dflt", tags=["default"])]
    p = planner(deps, enable_tag_filtering=True)
    assert ids(p.plan(req("g", tags=["paid"]), NOW)[0].groups[0]) == ["paid"]
    assert ids(p.plan(req("g"), NOW)[0].groups[0]) == ["dflt"]
    assert ids(p.plan(req("g", tags=["unknown"]), NOW)[0].groups[0]) == ["dflt"]
    p_all = planner(deps, enable_tag_filtering=True, tag_filtering_match_any=False)
    assert ids(p_all.plan(req("g", tags=["paid", "free"]), NOW)[0].groups[0]) == ["dflt"]
    no_default = planner(deps[:2], enable_tag_filtering=True)
    out = no_default.plan(req("g", tags=["gpu"]), NOW)[0]
    assert out.error.kind == ErrorKind.ERROR_KIND_BAD_REQUEST and out.error.param == "tags"
    # Without tag filtering, tags do not restrict.
    assert len(planner(deps).plan(req("g", tags=["paid"]), NOW)[0].groups[0].deployments) == 3


def test_context_window_pre_check_goes_to_context_window_fallbacks() -> None:
    p = planner(
        [
            dep("small", "s", model_info={"max_input_tokens": 100}),
            dep("large", "l", model_info={"max_input_tokens": 100_000}),
            dep("other", "o"),
        ],
        enable_pre_call_checks=True,
        context_window_fallbacks=[{"small": ["large"]}],
        fallbacks=[{"small": ["other"]}],
    )
    out, _ = p.plan(req("small", estimated_input_tokens=500), NOW)
    assert not out.HasField("error")
    assert not out.groups[0].deployments
    assert out.groups[0].empty_reason.kind == ErrorKind.ERROR_KIND_CONTEXT_WINDOW_EXCEEDED
    roles = [(g.model_group, g.role) for g in out.groups[1:]]
    assert roles == [
        ("large", router_pb2.GROUP_ROLE_CONTEXT_WINDOW_FALLBACK),
        ("other", router_pb2.GROUP_ROLE_FALLBACK),
    ]
    assert ids(p.plan(req("small", estimated_input_tokens=50), NOW)[0].groups[0]) == ["s"]


def test_context_window_from_the_price_library() -> None:
    p = planner([dep("g", "mini", model="openai/gpt-4o-mini")], enable_pre_call_checks=True)
    assert p.registry.groups["g"].candidates[0].max_input_tokens >= 128_000
    out, _ = p.plan(req("g", estimated_input_tokens=10_000_000), NOW)
    assert out.error.kind == ErrorKind.ERROR_KIND_CONTEXT_WINDOW_EXCEEDED


def test_plans_carry_the_prices_budget_admission_needs() -> None:
    p = planner(
        [
            dep("sonnet", "tiered", model="anthropic/claude-sonnet-4-5"),
            dep("mystery", "unpriced", model="openai/no-such-model-xyz"),
            dep("wild/*", "wild", model="openai/*"),
        ]
    )
    tiered = p.plan(req("sonnet"), NOW)[0].groups[0].deployments[0].pricing
    # The highest tier (above 200k prompt tokens): a prompt token written to the cache $7.50,
    # an output token $22.50 per million.
    assert (tiered.admission_input_cost_per_token, tiered.admission_output_cost_per_token) == (7.5e-6, 22.5e-6)
    assert not tiered.admission_price_unknown
    assert p.plan(req("mystery"), NOW)[0].groups[0].deployments[0].pricing.admission_price_unknown
    assert p.plan(req("wild/made-up-model"), NOW)[0].groups[0].deployments[0].pricing.admission_price_unknown
    # Routing and /model/info see the list price.
    assert p.registry.groups["sonnet"].candidates[0].rates == (3e-6, 15e-6)


def test_cooling_deployments_are_left_out_and_all_cooling_is_429_with_retry_after() -> None:
    p = planner([dep("g", "a"), dep("g", "b")])
    p.cooldowns.set("a", NOW + 10, "429 RATE_LIMIT")
    assert ids(p.plan(req("g"), NOW)[0].groups[0]) == ["b"]
    p.cooldowns.set("b", NOW + 4, "500")
    out, _ = p.plan(req("g"), NOW)
    assert out.error.kind == ErrorKind.ERROR_KIND_NO_DEPLOYMENTS and out.error.http_status == 429
    assert out.error.retry_after_seconds == 4 and "No deployments available" in out.error.message


def test_all_cooling_still_served_by_a_fallback_group() -> None:
    p = planner([dep("g", "a"), dep("fb", "f")], fallbacks=[{"g": ["fb"]}])
    p.cooldowns.set("a", NOW + 10)
    out, _ = p.plan(req("g"), NOW)
    assert not out.HasField("error") and out.groups[0].empty_reason.kind == ErrorKind.ERROR_KIND_NO_DEPLOYMENTS
    assert ids(out.groups[1]) == ["f"]


def test_health_aware_routing() -> None:
    p = planner([dep("g", "a"), dep("g", "b")], enable_health_check_routing=True)
    p.health.put("a", HealthResult(False, "401 bad key", NOW))
    assert ids(p.plan(req("g"), NOW)[0].groups[0]) == ["b"]
    p.health.put("b", HealthResult(False, "timeout", NOW))
    assert len(p.plan(req("g"), NOW)[0].groups[0].deployments) == 2  # all unhealthy: try them anyway


def test_fallback_order_client_side_default_disable_and_max() -> None:
    deps = [dep("g", "a"), dep("x", "x1"), dep("y", "y1"), dep("z", "z1"), dep("cp", "cp1")]
    p = planner(
        deps,
        fallbacks=[{"g": ["x", "y"]}],
        default_fallbacks=["z"],
        content_policy_fallbacks=[{"g": ["cp"]}],
        max_fallbacks=3,
        num_retries=2,
        retry_policy={"RateLimitErrorRetries": 5},
        retry_after=0.5,
    )
    out, _ = p.plan(req("g"), NOW)
    assert [(g.model_group, g.role) for g in out.groups] == [
        ("g", router_pb2.GROUP_ROLE_PRIMARY),
        ("cp", router_pb2.GROUP_ROLE_CONTENT_POLICY_FALLBACK),
        ("x", router_pb2.GROUP_ROLE_FALLBACK),
        ("y", router_pb2.GROUP_ROLE_FALLBACK),
    ]
    assert out.max_fallbacks == 3 and out.retry_policy.num_retries == 2
    assert dict(out.retry_policy.retries_by_kind) == {ErrorKind.ERROR_KIND_RATE_LIMIT: 5}
    assert out.retry_policy.retry_after_seconds == 0.5
    client = p.plan(req("g", client_fallbacks=["y", "nope"], num_retries=0), NOW)[0]
    assert [g.model_group for g in client.groups] == ["g", "cp", "y"] and client.retry_policy.num_retries == 0
    assert [g.model_group for g in p.plan(req("x"), NOW)[0].groups] == ["x", "z"]  # default_fallbacks
    assert [g.model_group for g in p.plan(req("g", disable_fallbacks=True), NOW)[0].groups] == ["g"]
    # Fallbacks the key may not use are left out.
    assert [g.model_group for g in p.plan(req("g", allowed_models=["g", "y"]), NOW)[0].groups] == ["g", "y"]


def test_fallback_to_a_deployment_id_skips_its_cooldown() -> None:
    p = planner([dep("g", "a"), dep("big", "big-1"), dep("big", "big-2")], fallbacks=[{"g": ["big-2"]}])
    p.cooldowns.set("big-2", NOW + 30)
    out, _ = p.plan(req("g"), NOW)
    assert ids(out.groups[1]) == ["big-2"]


def test_limited_groups_need_admission_and_admission_reorders() -> None:
    p = planner([dep("g", "a", rpm=10), dep("g", "b", rpm=10), dep("free", "f")], fallbacks=[{"g": ["free"]}])
    out, need = p.plan(req("g"), NOW)
    assert need is not None and need.mode == "first" and out.groups[0].admission_required
    assert not out.groups[1].admission_required
    second = need.candidates[1].id
    lease = router_pb2.Lease(deployment_id=second, lease_id="L1", reserved_tokens=5)
    p.admit(out, need, Admission(1), lease)
    assert ids(out.groups[0])[0] == second and out.lease.lease_id == "L1"
    out2, need2 = p.plan(req("g"), NOW)
    assert need2 is not None
    p.admit(out2, need2, Admission(-1, 12.0, "rpm limit reached"), None)
    assert not out2.HasField("error") and not out2.groups[0].deployments
    assert out2.groups[0].empty_reason.retry_after_seconds == 12.0
    solo = planner([dep("g", "a", rpm=1)])
    out3, need3 = solo.plan(req("g"), NOW)
    assert need3 is not None
    solo.admit(out3, need3, Admission(-1, 30.0, "rpm limit reached"), None)
    assert out3.error.kind == ErrorKind.ERROR_KIND_NO_DEPLOYMENTS and out3.error.retry_after_seconds == 30.0


def test_usage_strategies_need_admission_everywhere_and_mock_needs_none() -> None:
    p = planner([dep("g", "a"), dep("g", "b")], routing_strategy="least-busy")
    _, need = p.plan(req("g"), NOW)
    assert need is not None and need.mode == "least_busy"
    assert p.plan(req("g", mock_testing_fallbacks=True), NOW)[1] is None
    assert planner([dep("g", "a")]).plan(req("g"), NOW)[1] is None


def test_global_drop_params_reaches_the_deployments() -> None:
    from switchyard_llm.model_config import parse_config
    from switchyard_router.domain.policy import load_policy
    from switchyard_router.domain.registry import Registry, StoredModel

    cfg = parse_config({"model_list": [dep("g", "a")], "litellm_settings": {"drop_params": True}})
    registry = Registry([StoredModel(config=d) for d in cfg.deployments], policy=load_policy(cfg))
    assert registry.groups["g"].candidates[0].proto.drop_params


def test_router_timeouts_are_defaults_for_deployments_without_their_own() -> None:
    from router_testing import dep as d

    p = planner([d("g", "a"), d("g", "b", timeout=5, stream_timeout=2)], timeout=30, stream_timeout=10)
    by_id = {c.id: c.proto for c in p.registry.groups["g"].candidates}
    assert (by_id["a"].timeout_seconds, by_id["a"].stream_timeout_seconds) == (30, 10)
    assert (by_id["b"].timeout_seconds, by_id["b"].stream_timeout_seconds) == (5, 2)
