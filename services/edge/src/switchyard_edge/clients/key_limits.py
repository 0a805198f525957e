"""A caller's rate limits (``rpm_limit``, ``tpm_limit`` and ``max_parallel_requests`` of its key,
team, user, organisation, team membership and the end user it names, and the key's
``model_rpm_limit``/``model_tpm_limit``), shared by every edge replica through Redis with the
gateway's one rate limiter (``switchyard_common.rate_limiter``: one Lua script per limited
request, atomic across all of the request's scopes, a local fallback while Redis does not
answer). Which scopes apply is ``domain.tenancy.rate_scopes``; requests with no limit on any
scope cost nothing: no Redis call is made for them.

Degraded mode: when Redis does not answer (every call is bounded by the client's socket
timeout), this replica enforces the limits by itself for ``retry_seconds`` before trying Redis
again, so a Redis outage never blocks or slows requests, and limits then hold per replica rather
than across them."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass

from redis.asyncio import Redis

from switchyard.auth.v1 import auth_pb2, customers_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_common.aio import BackgroundTasks
from switchyard_common.rate_limiter import Breaker, RateLimiter, RedisGuard
from switchyard_common.rate_limits import PARALLEL, RPM, TPM, Admission
from switchyard_edge.domain.tenancy import Limited, rate_scopes
from switchyard_edge.errors import GatewayError

_WHAT = {
    RPM: ("rpm_limit", "requests per minute"),
    TPM: ("tpm_limit", "tokens per minute"),
    PARALLEL: ("max_parallel_requests", "requests in flight"),
}


@dataclass
class Ticket:
    """One admitted request; released once when it ends."""

    admission: Admission
    ticket_id: str
    limited: Limited
    estimate: int
    released: bool = False

    @property
    def local(self) -> bool:
        return self.admission.local


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

    async def acquire(
        self,
        principal: auth_pb2.Principal,
        estimated_tokens: int,
        seconds: float,
        *,
        model: str = "",
        end_user: str = "",
        customer: customers_pb2.Customer | None = None,
    ) -> Ticket | None:
        """Admit one request of ``principal`` for ``model`` naming ``end_user`` on every scope
        that limits it (``admit``); None when no scope has a limit."""
        limited = rate_scopes(principal, model, end_user, customer)
        return None if limited is None else await self.admit(limited, estimated_tokens, seconds)

    async def admit(self, limited: Limited, estimated_tokens: int, seconds: float) -> Ticket:
        """Admit one request on all of ``limited``'s scopes at once, or raise a 429 GatewayError
        naming the scope and the limit that refused."""
        ticket_id = uuid.uuid4().hex
        est = max(0, estimated_tokens)
        result = await self._limiter.admit(
            (limited.candidate,), ticket=ticket_id, estimate=est, ttl_seconds=max(1.0, seconds + 5.0)
        )
        if result.index < 0:
            _refuse(limited, result.scope, result.which, result.wait)
        return Ticket(result, ticket_id, limited, est)

    def release(self, ticket: Ticket | None, total_tokens: int) -> None:
        """The request ended having used ``total_tokens``: free its in-flight slot and count its
        actual tokens instead of the estimate (off the response path)."""
        if ticket is None or ticket.released:
            return
        ticket.released = True
        limited = ticket.limited
        delta = total_tokens - ticket.estimate if limited.counts_tokens else 0
        self._limiter.release(ticket.admission, ticket.ticket_id, limited.candidate, delta, self._bg)


def _refuse(limited: Limited, at: int, which: str, wait: float) -> None:
    at = at if 0 <= at < len(limited.names) else 0
    name, unit = _WHAT.get(which, ("rate limit", "requests"))
    value = getattr(limited.limits[at], name, 0)
    wait = max(1.0, math.ceil(wait))
    raise GatewayError.of(
        ErrorKind.ERROR_KIND_RATE_LIMIT,
        f"Rate limit reached for {limited.names[at]}: {name} {value} ({unit}). Try again in {wait:g} seconds.",
        retry_after=wait,
    )
