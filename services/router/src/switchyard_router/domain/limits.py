"""Per-deployment rpm/tpm/parallel admission. The shared version is a Redis script
(clients/state.py) so every router replica counts against the same numbers; this in-process
one has the same rules and serves while Redis is unreachable (degraded mode: each replica then
enforces the full limit on its own).

Rules: rpm is a sliding 60 s window of admitted attempts; tpm is a sliding 60 s window of
tokens (the prompt estimate at admission, corrected by the outcome); parallel counts leases
not yet released (a lease whose outcome is lost expires with the request's deadline)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

WINDOW = 60.0

MODE_FIRST = "first"
MODE_LEAST_BUSY = "least_busy"
MODE_USAGE = "usage"


@dataclass(frozen=True, slots=True)
class LimitSpec:
    id: str
    rpm: int = 0
    tpm: int = 0
    max_parallel: int = 0
    order: int = 0


@dataclass(frozen=True, slots=True)
class Admission:
    # Position of the admitted candidate, -1 when none has room.
    index: int
    # When refused: seconds until one of them may have room.
    wait: float = 0.0
    reason: str = ""


@dataclass
class _Counters:
    requests: deque[float] = field(default_factory=deque)
    tokens: deque[tuple[float, int]] = field(default_factory=deque)
    leases: dict[str, float] = field(default_factory=dict)

    def trim(self, now: float) -> None:
        while self.requests and self.requests[0] <= now - WINDOW:
            self.requests.popleft()
        while self.tokens and self.tokens[0][0] <= now - WINDOW:
            self.tokens.popleft()
        for lease, expires in list(self.leases.items()):
            if expires <= now:
                del self.leases[lease]

    def token_sum(self) -> int:
        return sum(t for _, t in self.tokens)


class LocalLimiter:
    def __init__(self) -> None:
        self._c: dict[str, _Counters] = {}

    def _get(self, deployment_id: str, now: float) -> _Counters:
        c = self._c.get(deployment_id)
        if c is None:
            c = self._c[deployment_id] = _Counters()
        c.trim(now)
        return c

    def admit(
        self,
        cands: Sequence[LimitSpec],
        *,
        mode: str,
        lease_id: str,
        estimated_tokens: int,
        lease_seconds: float,
        now: float,
        cooling: Callable[[str], float | None] | None = None,
    ) -> Admission:
        best: int = -1
        best_key: tuple[int, float] | None = None
        wait: float | None = None
        reasons: list[str] = []
        for i, spec in enumerate(cands):
            left = cooling(spec.id) if cooling else None
            if left is not None:
                wait = left if wait is None else min(wait, left)
                reasons.append("cooling down")
                continue
            c = self._get(spec.id, now)
            if spec.rpm and len(c.requests) >= spec.rpm:
                free = c.requests[0] + WINDOW - now
                wait = free if wait is None else min(wait, free)
                reasons.append("rpm limit reached")
                continue
            used = c.token_sum()
            if spec.tpm and used + estimated_tokens > spec.tpm and used > 0:
                free = c.tokens[0][0] + WINDOW - now if c.tokens else 1.0
                wait = free if wait is None else min(wait, free)
                reasons.append("tpm limit reached")
                continue
            if spec.max_parallel and len(c.leases) >= spec.max_parallel:
                wait = 1.0 if wait is None else min(wait, 1.0)
                reasons.append("max_parallel_requests reached")
                continue
            if mode == MODE_FIRST:
                best = i
                break
            metric = float(len(c.leases)) if mode == MODE_LEAST_BUSY else (used / spec.tpm if spec.tpm else used)
            key = (spec.order, metric)
            if best_key is None or key < best_key:
                best, best_key = i, key
        if best < 0:
            return Admission(-1, max(wait or 1.0, 0.001), reasons[0] if reasons else "no deployment")
        spec = cands[best]
        c = self._get(spec.id, now)
        c.requests.append(now)
        if estimated_tokens:
            c.tokens.append((now, estimated_tokens))
        c.leases[lease_id] = now + lease_seconds
        return Admission(best)

    def release(self, deployment_id: str, lease_id: str, token_delta: int, now: float) -> None:
        c = self._get(deployment_id, now)
        c.leases.pop(lease_id, None)
        if token_delta:
            c.tokens.append((now, token_delta))

    def add_tokens(self, deployment_id: str, tokens: int, now: float) -> None:
        if tokens:
            self._get(deployment_id, now).tokens.append((now, tokens))

    def in_flight(self, deployment_id: str, now: float) -> int:
        return len(self._get(deployment_id, now).leases)

    def tpm_used(self, deployment_id: str, now: float) -> int:
        return self._get(deployment_id, now).token_sum()

    def rpm_used(self, deployment_id: str, now: float) -> int:
        return len(self._get(deployment_id, now).requests)
