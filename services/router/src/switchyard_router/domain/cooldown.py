"""Deployment cooldowns: when an outcome cools a deployment down (the policy, shared by the
Redis scripts and the local fallback) and this process's view of who is cooling down."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum

from switchyard_router.domain.policy import IMMEDIATE_COOLDOWN, NOT_A_DEPLOYMENT_FAILURE, RouterPolicy

# The failure-rate rule (used when the config sets no allowed_fails): more than half of this
# minute's requests failed, over at least this many requests.
RATE_RULE_MIN_REQUESTS = 10
WINDOW_SECONDS = 60.0


class Action(IntEnum):
    """What an outcome does to a deployment's failure accounting (numbers are also used by the
    Redis script)."""

    IGNORE = 0
    SUCCESS = 1
    # Cool down now.
    IMMEDIATE = 2
    # Count the failure; cool down once this minute's failures exceed ``allowed``.
    COUNT = 3


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    allowed: int = 0
    seconds: float = 0.0
    # Also apply the failure-rate rule.
    rate_rule: bool = False


def decide(
    policy: RouterPolicy,
    *,
    success: bool,
    kind: int,
    retry_after: float | None = None,
    deployment_cooldown: float | None = None,
) -> Decision:
    if policy.disable_cooldowns:
        return Decision(Action.IGNORE)
    if success:
        return Decision(Action.SUCCESS)
    seconds = deployment_cooldown if deployment_cooldown is not None else policy.cooldown_time
    if kind in policy.allowed_fails_policy:
        return Decision(Action.COUNT, allowed=policy.allowed_fails_policy[kind], seconds=seconds)
    if kind in IMMEDIATE_COOLDOWN:
        # The provider's retry-after says how long it will refuse: no point trying sooner.
        return Decision(Action.IMMEDIATE, seconds=max(seconds, retry_after or 0.0))
    if kind in NOT_A_DEPLOYMENT_FAILURE:
        return Decision(Action.IGNORE)
    return Decision(Action.COUNT, allowed=policy.allowed_fails, seconds=seconds, rate_rule=not policy.allowed_fails_set)


@dataclass(slots=True)
class _Window:
    start: float
    fails: int = 0
    total: int = 0


@dataclass(frozen=True, slots=True)
class Cooling:
    until: float
    reason: str


class Cooldowns:
    """Who is cooling down, as this process knows it: mirrored from Redis while it is reachable,
    decided locally (same rules) while it is not. Times are Unix seconds."""

    def __init__(self, on_start: Callable[[], None] | None = None) -> None:
        self._until: dict[str, Cooling] = {}
        self._windows: dict[str, _Window] = {}
        # Called when a deployment that was not cooling down starts to.
        self._on_start = on_start

    def cooling(self, deployment_id: str, now: float) -> bool:
        c = self._until.get(deployment_id)
        if c is None:
            return False
        if c.until <= now:
            del self._until[deployment_id]
            return False
        return True

    def get(self, deployment_id: str, now: float) -> Cooling | None:
        return self._until.get(deployment_id) if self.cooling(deployment_id, now) else None

    def min_remaining(self, ids: Iterable[str], now: float) -> float | None:
        left = [c.until - now for i in ids if (c := self._until.get(i)) is not None and c.until > now]
        return min(left) if left else None

    def set(self, deployment_id: str, until: float, reason: str = "", now: float | None = None) -> None:
        current = self._until.get(deployment_id)
        if current is None or until > current.until:
            self._until[deployment_id] = Cooling(until, reason or (current.reason if current else ""))
            if self._on_start is not None and (current is None or (now is not None and current.until <= now)):
                self._on_start()

    def merge(self, snapshot: Mapping[str, Cooling], now: float) -> None:
        """Adopt the shared view: cooldowns set elsewhere appear, expired ones go. A cooldown
        only ends by expiring, so local ones the shared view lacks (decided while Redis was
        away, not yet written back) are kept."""
        merged = {k: v for k, v in self._until.items() if v.until > now}
        started = False
        for k, v in snapshot.items():
            if v.until > now and (k not in merged or v.until > merged[k].until):
                started = started or k not in merged
                merged[k] = v
        self._until = merged
        if started and self._on_start is not None:
            self._on_start()

    def snapshot(self, now: float) -> dict[str, Cooling]:
        return {k: v for k, v in self._until.items() if v.until > now}

    def record(self, deployment_id: str, decision: Decision, now: float, reason: str = "") -> float | None:
        """Apply one outcome locally; returns the cooldown's end when it starts one."""
        if decision.action == Action.IGNORE:
            return None
        w = self._windows.get(deployment_id)
        if w is None or now - w.start >= WINDOW_SECONDS:
            w = self._windows[deployment_id] = _Window(start=now)
        w.total += 1
        if decision.action == Action.SUCCESS:
            return None
        w.fails += 1
        trip = decision.action == Action.IMMEDIATE or w.fails > decision.allowed
        if not trip and decision.rate_rule and w.total >= RATE_RULE_MIN_REQUESTS and w.fails * 2 > w.total:
            trip = True
        if not trip:
            return None
        until = now + decision.seconds
        self.set(deployment_id, until, reason, now)
        if decision.action == Action.COUNT:
            self._windows[deployment_id] = _Window(start=now)
        return until
