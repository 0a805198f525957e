"""When outcomes cool a deployment down (LiteLLM's rules)."""

from __future__ import annotations

from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_llm.model_config import parse_config
from switchyard_router.domain.cooldown import Action, Cooldowns, decide
from switchyard_router.domain.policy import RouterPolicy, load_policy


def test_rate_limit_auth_not_found_and_timeout_cool_down_at_once() -> None:
    p = RouterPolicy(cooldown_time=5)
    for kind in (
        ErrorKind.ERROR_KIND_RATE_LIMIT,
        ErrorKind.ERROR_KIND_AUTHENTICATION,
        ErrorKind.ERROR_KIND_NOT_FOUND,
        ErrorKind.ERROR_KIND_TIMEOUT,
    ):
        c = Cooldowns()
        until = c.record("d", decide(p, success=False, kind=kind), 100.0, "429")
        assert until == 105.0 and c.cooling("d", 104.9) and not c.cooling("d", 105.0)


def test_retry_after_longer_than_the_cooldown_wins() -> None:
    d = decide(RouterPolicy(cooldown_time=5), success=False, kind=ErrorKind.ERROR_KIND_RATE_LIMIT, retry_after=30)
    assert d.action == Action.IMMEDIATE and d.seconds == 30


def test_deployment_cooldown_time_overrides_the_router() -> None:
    d = decide(
        RouterPolicy(cooldown_time=5), success=False, kind=ErrorKind.ERROR_KIND_RATE_LIMIT, deployment_cooldown=60
    )
    assert d.seconds == 60


def test_allowed_fails_per_minute() -> None:
    p = RouterPolicy(allowed_fails=2, allowed_fails_set=True, cooldown_time=10)
    c = Cooldowns()
    fail = decide(p, success=False, kind=ErrorKind.ERROR_KIND_INTERNAL_SERVER)
    assert c.record("d", fail, 0.0) is None
    assert c.record("d", fail, 1.0) is None
    assert c.record("d", fail, 2.0) == 12.0  # the third failure is more than allowed_fails=2
    # A new minute starts counting again.
    c2 = Cooldowns()
    c2.record("d", fail, 0.0)
    c2.record("d", fail, 1.0)
    assert c2.record("d", fail, 61.0) is None


def test_allowed_fails_policy_per_error_kind() -> None:
    p = load_policy(
        parse_config(
            {
                "router_settings": {
                    "allowed_fails_policy": {"RateLimitErrorAllowedFails": 3, "BadRequestErrorAllowedFails": 1}
                }
            }
        )
    )
    c = Cooldowns()
    rl = decide(p, success=False, kind=ErrorKind.ERROR_KIND_RATE_LIMIT)
    assert rl.action == Action.COUNT  # the policy replaces the immediate 429 cooldown
    assert [c.record("a", rl, float(t)) for t in range(4)] == [None, None, None, 5.0 + 3]
    bad = decide(p, success=False, kind=ErrorKind.ERROR_KIND_BAD_REQUEST)
    assert c.record("b", bad, 0.0) is None and c.record("b", bad, 1.0) == 6.0


def test_client_errors_never_cool_down() -> None:
    p = RouterPolicy(allowed_fails=0, allowed_fails_set=True)
    c = Cooldowns()
    for kind in (
        ErrorKind.ERROR_KIND_BAD_REQUEST,
        ErrorKind.ERROR_KIND_CONTEXT_WINDOW_EXCEEDED,
        ErrorKind.ERROR_KIND_CONTENT_POLICY_VIOLATION,
    ):
        assert decide(p, success=False, kind=kind).action == Action.IGNORE
        assert c.record("d", decide(p, success=False, kind=kind), 0.0) is None


def test_failure_rate_rule_when_allowed_fails_is_not_configured() -> None:
    p = RouterPolicy(allowed_fails=100)  # allowed_fails_set is False: the rate rule applies too
    c = Cooldowns()
    ok, fail = decide(p, success=True, kind=0), decide(p, success=False, kind=ErrorKind.ERROR_KIND_INTERNAL_SERVER)
    assert fail.rate_rule
    for t in range(4):
        c.record("d", ok, float(t))
    results = [c.record("d", fail, 10.0 + t) for t in range(6)]
    # 4 ok + 6 failed = 10 requests with 60% failed: the 6th failure trips it.
    assert results[:5] == [None] * 5 and results[5] is not None


def test_disable_cooldowns() -> None:
    p = RouterPolicy(disable_cooldowns=True)
    assert decide(p, success=False, kind=ErrorKind.ERROR_KIND_RATE_LIMIT).action == Action.IGNORE


def test_shared_snapshot_merges_with_the_local_view() -> None:
    from switchyard_router.domain.cooldown import Cooling

    c = Cooldowns()
    c.set("old", 50.0, "x")
    c.set("local-only", 150.0, "decided while Redis was away")
    c.set("both", 120.0, "500")
    c.merge(
        {"new": Cooling(200.0, "429 RATE_LIMIT"), "gone": Cooling(10.0, ""), "both": Cooling(130.0, "429")}, now=100.0
    )
    assert not c.cooling("old", 100.0) and c.cooling("new", 100.0) and not c.cooling("gone", 100.0)
    assert c.cooling("local-only", 100.0)  # kept until written back (or expired)
    both = c.get("both", 100.0)
    assert both is not None and both.until == 130.0
    assert c.min_remaining(["new", "old"], 100.0) == 100.0
