"""The in-process admission (degraded mode) and its rules, shared with the Redis script: the
deployments of a plan as candidates of the shared rate limiter's local windows."""

from __future__ import annotations

import math
from collections.abc import Callable

from switchyard_common.rate_limits import MODE_FIRST, MODE_LEAST_BUSY, MODE_USAGE, Windows
from switchyard_router.domain.limits import Admission, LimitSpec, admission, candidates


class LocalLimiter:
    """The router's local admission as SharedState makes it while Redis does not answer."""

    def __init__(self) -> None:
        self.windows = Windows()

    def admit(
        self,
        specs: list[LimitSpec],
        *,
        mode: str,
        lease_id: str,
        estimated_tokens: int,
        lease_seconds: float,
        now: float,
        cooling: Callable[[str], float | None] | None = None,
    ) -> Admission:
        result = self.windows.admit(
            candidates(specs),
            ticket=lease_id,
            estimate=estimated_tokens,
            ttl=lease_seconds,
            now=now,
            mode=mode,
            track=True,
            closed=cooling,
        )
        return admission(result)

    def release(self, deployment_id: str, lease_id: str, token_delta: int, now: float) -> None:
        self.windows.release(deployment_id, lease_id, now)
        self.add_tokens(deployment_id, token_delta, now)

    def add_tokens(self, deployment_id: str, tokens: int, now: float) -> None:
        self.windows.add_tokens(deployment_id, math.floor(now), tokens, now)

    def tpm_used(self, deployment_id: str, now: float) -> int:
        return self.windows.tpm_used(deployment_id, now)


def admit(
    lim: LocalLimiter, specs: list[LimitSpec], now: float, mode: str = MODE_FIRST, tokens: int = 0, lease: str = "l"
) -> Admission:
    return lim.admit(specs, mode=mode, lease_id=lease, estimated_tokens=tokens, lease_seconds=30, now=now)


def test_rpm_is_a_sliding_minute() -> None:
    lim = LocalLimiter()
    spec = [LimitSpec("d", rpm=3)]
    assert [admit(lim, spec, t, lease=f"l{t}").index for t in (0.0, 10.0, 20.0)] == [0, 0, 0]
    refused = admit(lim, spec, 30.0)
    assert refused.index == -1 and refused.reason == "rpm limit reached" and abs(refused.wait - 30.0) < 1e-9
    assert admit(lim, spec, 60.5).index == 0  # the request at t=0 left the window


def test_next_deployment_when_first_is_full_and_wait_is_the_soonest() -> None:
    lim = LocalLimiter()
    specs = [LimitSpec("a", rpm=1), LimitSpec("b", rpm=1)]
    assert admit(lim, specs, 0.0).index == 0
    assert admit(lim, specs, 5.0).index == 1
    r = admit(lim, specs, 10.0)
    assert r.index == -1 and abs(r.wait - 50.0) < 1e-9


def test_tpm_counts_estimates_and_corrections() -> None:
    lim = LocalLimiter()
    spec = [LimitSpec("d", tpm=100)]
    assert admit(lim, spec, 0.0, tokens=60, lease="a").index == 0
    lim.release("d", "a", 30, 1.0)  # the call used 90 tokens in all
    assert lim.tpm_used("d", 1.0) == 90
    assert admit(lim, spec, 2.0, tokens=20).reason == "tpm limit reached"
    assert admit(lim, spec, 2.0, tokens=10).index == 0


def test_a_prompt_larger_than_tpm_passes_an_empty_window() -> None:
    lim = LocalLimiter()
    assert admit(lim, [LimitSpec("d", tpm=10)], 0.0, tokens=500).index == 0


def test_parallel_leases_released_or_expired() -> None:
    lim = LocalLimiter()
    spec = [LimitSpec("d", max_parallel=2)]
    assert admit(lim, spec, 0.0, lease="a").index == 0
    assert admit(lim, spec, 0.0, lease="b").index == 0
    assert admit(lim, spec, 0.0, lease="c").reason == "max_parallel_requests reached"
    lim.release("d", "a", 0, 1.0)
    assert admit(lim, spec, 1.0, lease="c").index == 0
    # A lease whose outcome never came expires with its deadline (30 s here).
    assert admit(lim, spec, 31.0, lease="e").index == 0


def test_least_busy_and_usage_modes_pick_by_counter_within_order_tiers() -> None:
    lim = LocalLimiter()
    specs = [LimitSpec("a"), LimitSpec("b"), LimitSpec("c", order=1)]
    assert admit(lim, specs, 0.0, MODE_LEAST_BUSY, lease="1").index == 0
    assert admit(lim, specs, 0.0, MODE_LEAST_BUSY, lease="2").index == 1
    lim.release("a", "1", 0, 0.0)
    assert admit(lim, specs, 0.0, MODE_LEAST_BUSY, lease="3").index == 0
    lim2 = LocalLimiter()
    usage = [LimitSpec("a", tpm=1000), LimitSpec("b", tpm=100)]
    lim2.add_tokens("a", 300, 0.0)  # 30% used
    lim2.add_tokens("b", 10, 0.0)  # 10% used
    assert admit(lim2, usage, 1.0, MODE_USAGE).index == 1


def test_cooling_candidates_are_skipped() -> None:
    lim = LocalLimiter()
    r = lim.admit(
        [LimitSpec("a"), LimitSpec("b")],
        mode=MODE_FIRST,
        lease_id="x",
        estimated_tokens=0,
        lease_seconds=5,
        now=0.0,
        cooling=lambda i: 4.0 if i == "a" else None,
    )
    assert r.index == 1
    r = lim.admit(
        [LimitSpec("a")],
        mode=MODE_FIRST,
        lease_id="y",
        estimated_tokens=0,
        lease_seconds=5,
        now=0.0,
        cooling=lambda i: 4.0,
    )
    assert r.index == -1 and r.wait == 4.0 and r.reason == "cooling down"
