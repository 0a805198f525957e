"""The rate limiter shared by every replica, in Redis (the ``[redis]`` extra): the rules of
``rate_limits`` as one Lua script per admission, atomic across all the scopes and candidates of
a request, with the Redis-down switch and the local fallback.

Redis-down switch: every call goes through a ``RedisGuard``. A refused or broken connection opens
its ``Breaker`` at once, timeouts after a few in a row; while it is open the limiter decides from
this replica's own ``Windows`` at once (limits then hold per replica rather than across them) and
after ``open_seconds`` one call tries Redis again. A Redis outage never blocks or slows a request.

Counters of a scope live under one hash tag (``{sy:lim:<scope id>}``), so the script's keys for
one scope share a slot on Redis Cluster; the router's outcome script releases leases by the same
names (``scope_key``)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from switchyard_common.aio import BackgroundTasks
from switchyard_common.rate_limits import MODE_FIRST, Admission, Candidate, Windows

log = logging.getLogger(__name__)
T = TypeVar("T")

# KEYS: for each scope of each candidate, in order: its rpm zset, tpm hash and in-flight zset;
#       last, when ARGV[6] is '1', the zset of closed gates (score: closed until, ms).
# ARGV: ticket, ttl ms, estimate, mode, track ('1': count on scopes without limits too), gated,
#       the number of candidates, then per candidate: order, gate, its number of scopes, then per
#       scope: rpm, tpm, parallel.
# Returns {candidate (1-based), second counted in} when admitted, else
#         {0, wait ms, which limit refused the first refused candidate, its scope (1-based; 0: gate)}.
ADMIT_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local sec = math.floor(now / 1000)
local ticket, ttl, est, mode = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local track, n = ARGV[5] == '1', tonumber(ARGV[7])
local gates = nil
if ARGV[6] == '1' then gates = KEYS[#KEYS] end
local function tokens(key)
  local all = redis.call('HGETALL', key)
  local used, oldest = 0, nil
  for i = 1, #all, 2 do
    local s = tonumber(all[i])
    if s <= sec - 60 then
      redis.call('HDEL', key, all[i])
    else
      used = used + tonumber(all[i + 1])
      if not oldest or s < oldest then oldest = s end
    end
  end
  return used, oldest
end
local function refusal(k, rpm, tpm, par)
  if rpm > 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[k], '-inf', now - 60000)
    if redis.call('ZCARD', KEYS[k]) >= rpm then
      local first = redis.call('ZRANGE', KEYS[k], 0, 0, 'WITHSCORES')
      return tonumber(first[2]) + 60000 - now, 'rpm', 0, 0
    end
  end
  local used, inflight = 0, 0
  if tpm > 0 or mode == 'usage' then
    local oldest
    used, oldest = tokens(KEYS[k + 1])
    if tpm > 0 and (used >= tpm or (used > 0 and used + est > tpm)) then
      return ((oldest or sec) + 60) * 1000 - now, 'tpm', used, 0
    end
  end
  if par > 0 or mode == 'least_busy' then
    redis.call('ZREMRANGEBYSCORE', KEYS[k + 2], '-inf', now)
    inflight = redis.call('ZCARD', KEYS[k + 2])
    if par > 0 and inflight >= par then return 1000, 'parallel', used, inflight end
  end
  return nil, nil, used, inflight
end
local best, best_order, best_metric = 0, nil, nil
local wait, which, where = nil, nil, 0
local a, k = 8, 1
local starts = {}
for c = 1, n do
  local order, gate, m = tonumber(ARGV[a]), ARGV[a + 1], tonumber(ARGV[a + 2])
  a = a + 3
  starts[c] = {a, k, m}
  local skip, why, at = nil, nil, 0
  if gates and gate ~= '' then
    local closed = redis.call('ZSCORE', gates, gate)
    if closed and tonumber(closed) > now then skip, why = tonumber(closed) - now, 'closed' end
  end
  local metric = 0
  for s = 1, m do
    if not skip then
      local tpm = tonumber(ARGV[a + 1])
      local w, what, used, inflight = refusal(k, tonumber(ARGV[a]), tpm, tonumber(ARGV[a + 2]))
      if w then
        skip, why, at = w, what, s
      elseif s == 1 then
        metric = inflight
        if mode == 'usage' then
          if tpm > 0 then metric = used / tpm else metric = used end
        end
      end
    end
    a, k = a + 3, k + 3
  end
  if skip then
    if not wait or skip < wait then wait = skip end
    if not which then which, where = why, at end
  else
    if mode == 'first' then
      best = c
      break
    end
    if not best_order or order < best_order or (order == best_order and metric < best_metric) then
      best, best_order, best_metric = c, order, metric
    end
  end
end
if best == 0 then
  return {0, math.max(wait or 1000, 1), which or '', where}
end
a, k = starts[best][1], starts[best][2]
for s = 1, starts[best][3] do
  local rpm, tpm, par = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  if rpm > 0 or track then
    redis.call('ZADD', KEYS[k], now, ticket)
    redis.call('PEXPIRE', KEYS[k], 61000)
  end
  if est > 0 and (tpm > 0 or track) then
    redis.call('HINCRBY', KEYS[k + 1], sec, est)
    redis.call('PEXPIRE', KEYS[k + 1], 61000)
  end
  if par > 0 or track then
    redis.call('ZADD', KEYS[k + 2], now + ttl, ticket)
    redis.call('PEXPIRE', KEYS[k + 2], ttl + 1000)
  end
  a, k = a + 3, k + 3
end
return {best, sec}
"""

# KEYS: per scope, its tpm hash and in-flight zset. ARGV: ticket, second counted in, correction.
RELEASE_LUA = """
local delta = tonumber(ARGV[3])
for i = 1, #KEYS, 2 do
  redis.call('ZREM', KEYS[i + 1], ARGV[1])
  if delta ~= 0 and redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('HINCRBY', KEYS[i], ARGV[2], delta)
  end
end
return 1
"""

# In Lua, for scripts that release by the same names: scope_key(prefix, id, 'inf' | 'tpm').
SCOPE_KEY_LUA = "local function scope_key(p, id, what) return p .. '{sy:lim:' .. id .. '}:' .. what end\n"


def scope_key(prefix: str, scope_id: str, what: str) -> str:
    """The name of a scope's counter: ``what`` is 'rpm', 'tpm' or 'inf' (requests in flight)."""
    return f"{prefix}{{sy:lim:{scope_id}}}:{what}"


class Breaker:
    """Closed while Redis answers. A refused or broken connection opens it at once, timeouts
    after ``timeouts_to_open`` in a row (one slow answer under load is not an outage); while
    open, calls go to the local state at once, and after ``open_seconds`` one call tries Redis
    again."""

    def __init__(
        self, open_seconds: float = 2.0, timeouts_to_open: int = 3, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.open_seconds = open_seconds
        self.timeouts_to_open = timeouts_to_open
        self._clock = clock
        self._open_until = 0.0
        self._timeouts = 0
        self.is_open = False

    def allow(self) -> bool:
        return not self.is_open or self._clock() >= self._open_until

    def failure(self, *, timeout: bool = False) -> None:
        if timeout and not self.is_open:
            self._timeouts += 1
            if self._timeouts < self.timeouts_to_open:
                return
        self.is_open = True
        self._timeouts = 0
        self._open_until = self._clock() + self.open_seconds

    def success(self) -> bool:
        """Record a success; True when it closes an open breaker (Redis is back)."""
        was_open = self.is_open
        self.is_open = False
        self._timeouts = 0
        return was_open


class RedisDown(Exception):
    """Redis could not be used for this call (the caller falls back to local state)."""


class RedisGuard:
    """Calls to Redis behind a ``Breaker``, each within ``call_timeout`` (None: the client's own
    socket timeouts bound it). ``on_recovered`` runs when a call closes an open breaker."""

    def __init__(
        self,
        redis: Redis | None,
        breaker: Breaker,
        *,
        what: str,
        call_timeout: float | None = None,
        on_recovered: Callable[[], None] | None = None,
    ) -> None:
        self.redis = redis
        self.breaker = breaker
        self._what = what
        self._timeout = call_timeout
        self._on_recovered = on_recovered

    @property
    def degraded(self) -> bool:
        return self.redis is None or self.breaker.is_open

    async def call(self, fn: Callable[[], Awaitable[T]]) -> T:
        if self.redis is None or not self.breaker.allow():
            raise RedisDown
        try:
            async with asyncio.timeout(self._timeout):
                result = await fn()
        except ResponseError:
            # Redis answered (an error of ours, e.g. in a script): not an outage.
            log.exception("Redis refused a command", extra={"what": self._what})
            raise RedisDown from None
        except (RedisError, OSError, TimeoutError) as exc:
            was_open = self.breaker.is_open
            self.breaker.failure(timeout=isinstance(exc, TimeoutError | RedisTimeoutError))
            if self.breaker.is_open and not was_open:
                log.warning(
                    "Redis unreachable: %s decided by this replica alone",
                    self._what,
                    extra={"error": type(exc).__name__},
                )
            raise RedisDown from None
        if self.breaker.success():
            log.info("Redis reachable again", extra={"what": self._what})
            if self._on_recovered is not None:
                self._on_recovered()
        return result


class RateLimiter:
    """Admits requests against the limits of their scopes, across replicas (see the module)."""

    def __init__(self, guard: RedisGuard, *, prefix: str = "", track: bool = False) -> None:
        self.guard = guard
        self.windows = Windows()
        self.prefix = prefix
        self._track = track
        redis = guard.redis
        self._admit = redis.register_script(ADMIT_LUA) if redis is not None else None
        self._release = redis.register_script(RELEASE_LUA) if redis is not None else None

    async def admit(
        self,
        candidates: Sequence[Candidate],
        *,
        ticket: str,
        estimate: int,
        ttl_seconds: float,
        mode: str = MODE_FIRST,
        gates: str = "",
        closed: Callable[[str], float | None] | None = None,
    ) -> Admission:
        """One candidate admitted and counted on all its scopes, or the refusal; decided from
        this replica's windows (``local``) while Redis does not answer. ``gates``: the Redis zset
        of closed gates (``closed`` says the same locally)."""
        est = max(0, estimate)
        script = self._admit
        if script is not None:
            keys: list[str] = []
            args: list[Any] = [ticket, max(1, int(ttl_seconds * 1000)), est, mode, int(self._track), int(bool(gates))]
            args.append(len(candidates))
            for cand in candidates:
                args += [cand.order, cand.gate, len(cand.scopes)]
                for s in cand.scopes:
                    keys += [scope_key(self.prefix, s.id, "rpm"), scope_key(self.prefix, s.id, "tpm")]
                    keys.append(scope_key(self.prefix, s.id, "inf"))
                    args += [s.rpm, s.tpm, s.parallel]
            if gates:
                keys.append(gates)
            try:
                raw = await self.guard.call(lambda: script(keys=keys, args=args))
            except RedisDown:
                pass
            else:
                # Local windows only stand in while Redis is away; drop them once it answers.
                self.windows.clear()
                if int(raw[0]) > 0:
                    return Admission(int(raw[0]) - 1, second=int(raw[1]))
                return Admission(-1, wait=float(raw[1]) / 1000, which=_s(raw[2]), scope=int(raw[3]) - 1)
        return self.windows.admit(
            candidates,
            ticket=ticket,
            estimate=est,
            ttl=ttl_seconds,
            now=time.time(),
            mode=mode,
            track=self._track,
            closed=closed,
        )

    def release(
        self, admission: Admission, ticket: str, candidate: Candidate, correction: int, background: BackgroundTasks
    ) -> None:
        """The request ``ticket`` ended: free its slots in flight and correct its tokens by
        ``correction`` (the actual total less the estimate) in the second they were counted in;
        in Redis off the caller's path (``background``). A release that cannot reach Redis is
        dropped: the slots free themselves at the request's deadline and the estimate stands for
        the tokens."""
        if admission.local:
            now = time.time()
            for s in candidate.scopes:
                self.windows.release(s.id, ticket, now)
                if s.tpm > 0 or self._track:
                    self.windows.add_tokens(s.id, admission.second, correction, now)
            return
        script = self._release
        if script is None:
            return
        keys: list[str] = []
        for s in candidate.scopes:
            keys += [scope_key(self.prefix, s.id, "tpm"), scope_key(self.prefix, s.id, "inf")]
        background.spawn(self._release_shared(script, keys, [ticket, admission.second, correction]))

    async def _release_shared(self, script: AsyncScript, keys: list[str], args: list[Any]) -> None:
        try:
            await self.guard.call(lambda: script(keys=keys, args=args))
        except RedisDown:
            log.debug("rate limit release dropped: Redis did not answer")


def _s(v: object) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)
