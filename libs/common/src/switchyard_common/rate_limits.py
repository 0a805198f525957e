"""Rate limits, the rules: requests per minute, tokens per minute and requests in flight, for any
scope (a virtual key at the edge, a deployment at the router; a team, user, organisation or end
customer next), checked together for the scopes one request touches.

The rules are the same here and in the Redis script of ``rate_limiter`` (the ``[redis]`` extra),
which applies them across replicas; ``Windows`` applies them in one process, where a replica
falls back to them while Redis does not answer (each replica then enforces the full limit by
itself). Keep the two in step.

- rpm: a sliding 60 s window of admissions; refused while it holds ``rpm`` of them, until the
  oldest leaves it.
- tpm: tokens counted per second over the last 60 s (the estimate at admission, corrected when
  the request ends); refused when the window is full, or when it holds any tokens and the
  estimate would overfill it (a prompt larger than the limit still passes an empty window).
- parallel: requests admitted and not released, each until its own deadline at the latest (a
  replica that dies mid-request cannot hold a slot for ever); refused while ``parallel`` are.

A request may have several candidates (the router's deployments of one group): the first one (or
the least busy or least used, within the lowest ``order``) all of whose scopes have room is
admitted, and counted on every one of its scopes; a candidate may also be closed for a while (a
cooling-down deployment)."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

WINDOW_SECONDS = 60

RPM = "rpm"
TPM = "tpm"
PARALLEL = "parallel"
CLOSED = "closed"

# How a request with several candidates picks one (the router's routing strategies).
MODE_FIRST = "first"
MODE_LEAST_BUSY = "least_busy"
MODE_USAGE = "usage"

# A refused request may try again this many seconds later when no window says sooner (a full
# set of requests in flight frees a slot whenever one ends).
PARALLEL_WAIT = 1.0


@dataclass(frozen=True, slots=True)
class Scope:
    """One counted thing and its limits (0: none). ``id`` names its counters, e.g. ``key:<hash>``."""

    id: str
    rpm: int = 0
    tpm: int = 0
    parallel: int = 0


@dataclass(frozen=True, slots=True)
class Candidate:
    """Scopes admitted together, all or none. ``order``: lower tiers are preferred by the least
    busy and least used modes; ``gate``: the name under which the candidate may be closed."""

    scopes: tuple[Scope, ...]
    order: int = 0
    gate: str = ""


@dataclass(frozen=True, slots=True)
class Admission:
    """``index`` of the admitted candidate (-1: none) and the second its tokens were counted in;
    when refused, the seconds until one may have room, which limit refused the first candidate
    refused (RPM, TPM, PARALLEL or CLOSED) and the position of its scope. ``local``: decided by
    this replica alone (Redis did not answer)."""

    index: int
    second: int = 0
    wait: float = 0.0
    which: str = ""
    scope: int = -1
    local: bool = False


def tpm_refuses(limit: int, used: int, estimate: int) -> bool:
    return limit > 0 and (used >= limit or (used > 0 and used + estimate > limit))


@dataclass
class _Counters:
    admitted: deque[float] = field(default_factory=deque)  # admission times (s)
    tokens: dict[int, int] = field(default_factory=dict)  # second -> tokens
    inflight: dict[str, float] = field(default_factory=dict)  # ticket -> deadline (s)

    def trim(self, now: float) -> None:
        while self.admitted and self.admitted[0] <= now - WINDOW_SECONDS:
            self.admitted.popleft()
        oldest = math.floor(now) - WINDOW_SECONDS
        for s in [s for s in self.tokens if s <= oldest]:
            del self.tokens[s]
        for t in [t for t, deadline in self.inflight.items() if deadline <= now]:
            del self.inflight[t]


class Windows:
    """The counters of one process: the rules above, applied without Redis."""

    def __init__(self) -> None:
        self._c: dict[str, _Counters] = {}

    def _get(self, scope_id: str, now: float) -> _Counters:
        c = self._c.get(scope_id)
        if c is None:
            c = self._c[scope_id] = _Counters()
        c.trim(now)
        return c

    def clear(self) -> None:
        self._c.clear()

    def _refusal(self, scope: Scope, estimate: int, now: float) -> tuple[float, str] | None:
        c = self._get(scope.id, now)
        if scope.rpm > 0 and len(c.admitted) >= scope.rpm:
            return c.admitted[0] + WINDOW_SECONDS - now, RPM
        if tpm_refuses(scope.tpm, sum(c.tokens.values()), estimate):
            return min(c.tokens, default=math.floor(now)) + WINDOW_SECONDS - now, TPM
        if scope.parallel > 0 and len(c.inflight) >= scope.parallel:
            return PARALLEL_WAIT, PARALLEL
        return None

    def _metric(self, scope: Scope, mode: str, now: float) -> float:
        c = self._get(scope.id, now)
        if mode == MODE_USAGE:
            used = sum(c.tokens.values())
            return used / scope.tpm if scope.tpm else float(used)
        return float(len(c.inflight))

    def admit(
        self,
        candidates: Sequence[Candidate],
        *,
        ticket: str,
        estimate: int,
        ttl: float,
        now: float,
        mode: str = MODE_FIRST,
        track: bool = False,
        closed: Callable[[str], float | None] | None = None,
    ) -> Admission:
        """Admit one candidate (see the module's rules) and count ``ticket`` on its scopes.
        ``track``: count on scopes without limits too (the router's least busy and least used
        modes read them); ``closed(gate)``: seconds a candidate stays closed, or None."""
        best, best_key = -1, (0, 0.0)
        wait: float | None = None
        which, where = "", -1
        for i, cand in enumerate(candidates):
            refusal: tuple[float, str] | None = None
            at = -1
            left = closed(cand.gate) if closed is not None and cand.gate else None
            if left is not None:
                refusal = (left, CLOSED)
            else:
                for j, scope in enumerate(cand.scopes):
                    refusal = self._refusal(scope, estimate, now)
                    if refusal is not None:
                        at = j
                        break
            if refusal is not None:
                wait = refusal[0] if wait is None else min(wait, refusal[0])
                if not which:
                    which, where = refusal[1], at
                continue
            if mode == MODE_FIRST:
                best = i
                break
            key = (cand.order, self._metric(cand.scopes[0], mode, now) if cand.scopes else 0.0)
            if best < 0 or key < best_key:
                best, best_key = i, key
        if best < 0:
            return Admission(
                -1, wait=max(wait if wait is not None else 1.0, 0.001), which=which, scope=where, local=True
            )
        second = math.floor(now)
        for scope in candidates[best].scopes:
            c = self._get(scope.id, now)
            if scope.rpm > 0 or track:
                c.admitted.append(now)
            if estimate > 0 and (scope.tpm > 0 or track):
                c.tokens[second] = c.tokens.get(second, 0) + estimate
            if scope.parallel > 0 or track:
                c.inflight[ticket] = now + ttl
        return Admission(best, second=second, local=True)

    def release(self, scope_id: str, ticket: str, now: float) -> None:
        """The request ``ticket`` ended: its slot in flight is free."""
        c = self._c.get(scope_id)
        if c is not None:
            c.inflight.pop(ticket, None)

    def add_tokens(self, scope_id: str, second: int, tokens: int, now: float) -> None:
        """Correct the tokens counted in ``second`` (ignored once it left the window)."""
        if tokens and second > math.floor(now) - WINDOW_SECONDS:
            c = self._get(scope_id, now)
            c.tokens[second] = c.tokens.get(second, 0) + tokens

    def tpm_used(self, scope_id: str, now: float) -> int:
        return sum(self._get(scope_id, now).tokens.values())
