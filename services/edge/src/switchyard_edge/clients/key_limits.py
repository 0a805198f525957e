"""Per-key rate limits (a key's ``rpm_limit``, ``tpm_limit`` and ``max_parallel_requests``),
shared by every edge replica through Redis.

One Lua script per request admits or refuses atomically: requests in the last 60 s (a sorted
set of admission times), tokens in the last 60 s (per-second buckets: the prompt estimate at
admission, corrected by the actual total when the request ends) and requests in flight (a sorted
set of deadlines, so a replica that dies mid-request cannot hold a slot past the request's own
deadline). Keys without limits cost nothing: no Redis call is made for them.

Degraded mode: when Redis does not answer (every call is bounded by the client's socket
timeout), this replica enforces the limits by itself from local counters for ``retry_seconds``
before trying Redis again, so a Redis outage never blocks or slows requests, and limits then hold
per replica rather than across them."""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections import deque
from dataclasses import dataclass, field

from redis.asyncio import Redis
from redis.exceptions import RedisError

from switchyard.auth.v1 import auth_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_common.aio import BackgroundTasks
from switchyard_edge.errors import GatewayError

log = logging.getLogger(__name__)

WINDOW_MS = 60_000

# KEYS: rpm zset, tpm hash, in-flight zset. ARGV: ticket, rpm, tpm, parallel, estimate, ttl ms.
# Returns {1, second} admitted (the second its tokens were counted in) or {0, wait ms, which}.
_ADMIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rpm, tpm, par = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local est, ttl = tonumber(ARGV[5]), tonumber(ARGV[6])
if rpm > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 60000)
  if redis.call('ZCARD', KEYS[1]) >= rpm then
    local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    return {0, tonumber(first[2]) + 60000 - now, 'rpm'}
  end
end
local sec = math.floor(now / 1000)
if tpm > 0 then
  local all = redis.call('HGETALL', KEYS[2])
  local used, oldest = 0, nil
  for i = 1, #all, 2 do
    local s = tonumber(all[i])
    if s <= sec - 60 then
      redis.call('HDEL', KEYS[2], all[i])
    else
      used = used + tonumber(all[i + 1])
      if not oldest or s < oldest then oldest = s end
    end
  end
  if used >= tpm or (used > 0 and used + est > tpm) then
    return {0, ((oldest or sec) + 60) * 1000 - now, 'tpm'}
  end
end
if par > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  if redis.call('ZCARD', KEYS[3]) >= par then
    return {0, 1000, 'parallel'}
  end
end
if rpm > 0 then
  redis.call('ZADD', KEYS[1], now, ARGV[1])
  redis.call('PEXPIRE', KEYS[1], 61000)
end
if tpm > 0 and est > 0 then
  redis.call('HINCRBY', KEYS[2], sec, est)
  redis.call('PEXPIRE', KEYS[2], 61000)
end
if par > 0 then
  redis.call('ZADD', KEYS[3], now + ttl, ARGV[1])
  redis.call('PEXPIRE', KEYS[3], ttl + 1000)
end
return {1, sec}
"""

# KEYS: tpm hash, in-flight zset. ARGV: ticket, second counted in, token correction.
_RELEASE = """
redis.call('ZREM', KEYS[2], ARGV[1])
local delta = tonumber(ARGV[3])
if delta ~= 0 and redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HINCRBY', KEYS[1], ARGV[2], delta)
end
return 1
"""

_WHAT = {
    "rpm": ("rpm_limit", "requests per minute"),
    "tpm": ("tpm_limit", "tokens per minute"),
    "parallel": ("max_parallel_requests", "requests in flight"),
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

    key: str
    ticket_id: str
    second: int
    estimate: int
    tpm: bool
    local: bool
    released: bool = False


@dataclass
class _LocalKey:
    admitted: deque[float] = field(default_factory=deque)  # admission times (s)
    tokens: dict[int, int] = field(default_factory=dict)  # second -> tokens
    inflight: dict[str, float] = field(default_factory=dict)  # ticket -> deadline


class KeyLimiter:
    def __init__(
        self,
        redis: Redis | None,
        background: BackgroundTasks,
        *,
        prefix: str = "",
        retry_seconds: float = 5.0,
    ) -> None:
        self._redis = redis
        self._bg = background
        self._prefix = prefix
        self._retry_seconds = retry_seconds
        self._down_until = 0.0
        self._local: dict[str, _LocalKey] = {}
        self._admit = redis.register_script(_ADMIT) if redis is not None else None
        self._release = redis.register_script(_RELEASE) if redis is not None else None

    def _keys(self, key: str) -> list[str]:
        # One hash tag per key: the script's keys share a slot on Redis Cluster.
        base = f"{self._prefix}{{sy:keylim:{key}}}"
        return [f"{base}:rpm", f"{base}:tpm", f"{base}:inf"]

    async def acquire(self, principal: auth_pb2.Principal, estimated_tokens: int, seconds: float) -> Ticket | None:
        """Admit one request of ``principal`` or raise a 429 GatewayError naming the limit."""
        if not has_limits(principal):
            return None
        limits = principal.limits
        key = principal.key_hash
        ticket_id = uuid.uuid4().hex
        est = max(0, estimated_tokens)
        ttl_ms = max(1000, int(seconds * 1000) + 5000)
        if self._admit is not None and time.monotonic() >= self._down_until:
            try:
                raw = await self._admit(
                    keys=self._keys(key),
                    args=[ticket_id, limits.rpm_limit, limits.tpm_limit, limits.max_parallel_requests, est, ttl_ms],
                )
            except (RedisError, OSError, TimeoutError) as exc:
                self._down_until = time.monotonic() + self._retry_seconds
                log.warning(
                    "Redis unreachable: key rate limits enforced by this replica alone",
                    extra={"error": type(exc).__name__},
                )
            else:
                # Local counters only stand in while Redis is away; drop them once it answers.
                self._local.clear()
                if int(raw[0]) != 1:
                    _refuse(limits, _s(raw[2]), float(raw[1]) / 1000)
                return Ticket(key, ticket_id, int(raw[1]), est, limits.tpm_limit > 0, local=False)
        return self._acquire_local(key, limits, ticket_id, est, ttl_ms / 1000)

    def _acquire_local(self, key: str, limits: auth_pb2.RateLimits, ticket_id: str, est: int, ttl: float) -> Ticket:
        now = time.time()
        state = self._local.setdefault(key, _LocalKey())
        while state.admitted and state.admitted[0] <= now - WINDOW_MS / 1000:
            state.admitted.popleft()
        if limits.rpm_limit > 0 and len(state.admitted) >= limits.rpm_limit:
            _refuse(limits, "rpm", state.admitted[0] + 60 - now)
        sec = math.floor(now)
        for s in [s for s in state.tokens if s <= sec - 60]:
            del state.tokens[s]
        used = sum(state.tokens.values())
        if limits.tpm_limit > 0 and (used >= limits.tpm_limit or (used > 0 and used + est > limits.tpm_limit)):
            _refuse(limits, "tpm", min(state.tokens, default=sec) + 60 - now)
        state.inflight = {t: d for t, d in state.inflight.items() if d > now}
        if limits.max_parallel_requests > 0 and len(state.inflight) >= limits.max_parallel_requests:
            _refuse(limits, "parallel", 1.0)
        state.admitted.append(now)
        if limits.tpm_limit > 0 and est:
            state.tokens[sec] = state.tokens.get(sec, 0) + est
        if limits.max_parallel_requests > 0:
            state.inflight[ticket_id] = now + ttl
        return Ticket(key, ticket_id, sec, est, limits.tpm_limit > 0, local=True)

    def release(self, ticket: Ticket | None, total_tokens: int) -> None:
        """The request ended having used ``total_tokens``: free its in-flight slot and count its
        actual tokens instead of the estimate (off the response path)."""
        if ticket is None or ticket.released:
            return
        ticket.released = True
        delta = total_tokens - ticket.estimate if ticket.tpm else 0
        if ticket.local:
            state = self._local.get(ticket.key)
            if state is not None:
                state.inflight.pop(ticket.ticket_id, None)
                if delta and ticket.second in state.tokens:
                    state.tokens[ticket.second] += delta
            return
        self._bg.spawn(self._release_shared(ticket, delta))

    async def _release_shared(self, ticket: Ticket, delta: int) -> None:
        assert self._release is not None
        _, tpm_key, inf_key = self._keys(ticket.key)
        try:
            await self._release(keys=[tpm_key, inf_key], args=[ticket.ticket_id, ticket.second, delta])
        except (RedisError, OSError, TimeoutError):
            # The slot frees itself at the request's deadline; the estimate stands for the tokens.
            log.debug("key rate-limit release failed", exc_info=True)


def _refuse(limits: auth_pb2.RateLimits, which: str, wait: float) -> None:
    name, unit = _WHAT.get(which, ("rate limit", "requests"))
    value = getattr(limits, name, 0)
    wait = max(1.0, math.ceil(wait))
    raise GatewayError.of(
        ErrorKind.ERROR_KIND_RATE_LIMIT,
        f"Rate limit reached for this key: {name} {value} ({unit}). Try again in {wait:g} seconds.",
        retry_after=wait,
    )


def _s(v: object) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)
