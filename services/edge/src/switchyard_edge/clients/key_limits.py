"""Per-key rate limits (a key's ``rpm_limit``, ``tpm_limit`` and ``max_parallel_requests``),
shared by every edge replica through Redis with the gateway's one rate limiter
(``switchyard_common.rate_limiter``: one Lua script per limited request, a local fallback while
Redis does not answer). Keys without limits cost nothing: no Redis call is made for them.

Degraded mode: when Redis does not answer (every call is bounded by the client's socket
timeout), this replica enforces the limits by itself for ``retry_seconds`` before trying Redis
again, so a Redis outage never blocks or slows requests, and limits then hold per replica rather
than across them."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass

from redis.asyncio import Redis

from switchyard.auth.v1 import auth_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_common.aio import BackgroundTasks
from switchyard_common.rate_limiter import Breaker, RateLimiter, RedisGuard
from switchyard_common.rate_limits import PARALLEL, RPM, TPM, Admission, Candidate, Scope
from switchyard_edge.errors import GatewayError

_WHAT = {
    RPM: ("rpm_limit", "requests per minute"),
    TPM: ("tpm_limit", "tokens per minute"),
    PARALLEL: ("max_parallel_requests", "requests in flight"),
}


def has_limits(principal: auth_pb2.Principal) -> bool:
    """Whether requests of ``principal`` are rate limited (only virtual keys carry limits)."""
    limits = principal.limits
    return bool(principal.key_hash) and (
        limits.rpm_limit > 0 or limits.tpm_limit > 0 or limits.max_parallel_requests > 0
    )


@dataclass
class Ticket:
    """One admitted request; released once when it ends."""

    admission: Admission
    ticket_id: str
    candidate: Candidate
    estimate: int
    released: bool = False

    @property
    def local(self) -> bool:
        return self.admission.local


def _candidate_of(principal: auth_pb2.Principal) -> Candidate:
    """The scopes whose limits a request of ``principal`` is admitted against: its key."""
    limits = principal.limits
    return Candidate(
        (
            Scope(
                f"key:{principal.key_hash}",
                rpm=limits.rpm_limit,
                tpm=limits.tpm_limit,
                parallel=limits.max_parallel_requests,
            ),
        )
    )


class KeyLimiter:
    def __init__(
        self,
        redis: Redis | None,
        background: BackgroundTasks,
        *,
        prefix: str = "",
        retry_seconds: float = 5.0,
    ) -> None:
        self._bg = background
        # Any failure switches to local limits at once (the client's socket timeout already
        # bounds each call), for retry_seconds.
        guard = RedisGuard(redis, Breaker(open_seconds=retry_seconds, timeouts_to_open=1), what="key rate limits")
        self._limiter = RateLimiter(guard, prefix=prefix)

    async def acquire(self, principal: auth_pb2.Principal, estimated_tokens: int, seconds: float) -> Ticket | None:
        """Admit one request of ``principal`` or raise a 429 GatewayError naming the limit."""
        if not has_limits(principal):
            return None
        ticket_id = uuid.uuid4().hex
        candidate = _candidate_of(principal)
        est = max(0, estimated_tokens)
        result = await self._limiter.admit(
            (candidate,), ticket=ticket_id, estimate=est, ttl_seconds=max(1.0, seconds + 5.0)
        )
        if result.index < 0:
            _refuse(principal.limits, result.which, result.wait)
        return Ticket(result, ticket_id, candidate, est)

    def release(self, ticket: Ticket | None, total_tokens: int) -> None:
        """The request ended having used ``total_tokens``: free its in-flight slot and count its
        actual tokens instead of the estimate (off the response path)."""
        if ticket is None or ticket.released:
            return
        ticket.released = True
        limited_tokens = any(s.tpm > 0 for s in ticket.candidate.scopes)
        delta = total_tokens - ticket.estimate if limited_tokens else 0
        self._limiter.release(ticket.admission, ticket.ticket_id, ticket.candidate, delta, self._bg)


def _refuse(limits: auth_pb2.RateLimits, which: str, wait: float) -> None:
    name, unit = _WHAT.get(which, ("rate limit", "requests"))
    value = getattr(limits, name, 0)
    wait = max(1.0, math.ceil(wait))
    raise GatewayError.of(
        ErrorKind.ERROR_KIND_RATE_LIMIT,
        f"Rate limit reached for this key: {name} {value} ({unit}). Try again in {wait:g} seconds.",
        retry_after=wait,
    )
