"""Routing state shared by every router replica, in Redis: cooldowns, rpm/tpm/in-flight
counters, latency statistics and health results. Every update that reads and writes is one Lua
script (atomic); cooldowns are also broadcast on a pub/sub channel so each replica's in-memory
mirror learns of them within milliseconds, and a periodic snapshot is the backstop.

Degraded mode: every Redis call is short (socket timeouts of a fraction of a second) and
guarded by a circuit breaker. While Redis is unreachable the router keeps routing from its
local state (its own cooldown decisions, its own counters: each replica then enforces the full
limit by itself) and tries Redis again every ``open_seconds``. When Redis answers again the
cooldowns decided meanwhile are written back and the shared view is read in."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from switchyard_router.domain.cooldown import Action, Cooldowns, Cooling, Decision
from switchyard_router.domain.health import HealthBook, HealthResult
from switchyard_router.domain.limits import Admission, LimitSpec, LocalLimiter
from switchyard_router.domain.strategies import LatencySample

log = logging.getLogger(__name__)
T = TypeVar("T")

# Smoothing of the latency statistics (weight of the newest sample).
LATENCY_ALPHA = 0.3
LOCAL_LEASE_PREFIX = "L:"

_ADMIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local P = ARGV[1]
local lease = ARGV[2]
local ttl = tonumber(ARGV[3])
local est = tonumber(ARGV[4])
local mode = ARGV[5]
local n = tonumber(ARGV[6])
local best, best_order, best_metric = 0, nil, nil
local wait, reason = nil, ''
local function tpm_window(key)
  local all = redis.call('HGETALL', key)
  local sum, oldest = 0, nil
  local cutoff = math.floor(now / 1000) - 59
  for i = 1, #all, 2 do
    local sec = tonumber(all[i])
    if sec < cutoff then
      redis.call('HDEL', key, all[i])
    else
      sum = sum + tonumber(all[i + 1])
      if not oldest or sec < oldest then oldest = sec end
    end
  end
  return sum, oldest
end
for i = 1, n do
  local b = 6 + (i - 1) * 5
  local id = ARGV[b + 1]
  local rpm, tpm, par, order = tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3]), tonumber(ARGV[b + 4]), tonumber(ARGV[b + 5])
  local skip = nil
  local used, inflight = 0, 0
  local cd = redis.call('ZSCORE', P .. 'cd', id)
  if cd and tonumber(cd) > now then
    skip = tonumber(cd) - now
    reason = 'cooling down'
  end
  if not skip and rpm > 0 then
    local k = P .. 'rpm:' .. id
    redis.call('ZREMRANGEBYSCORE', k, '-inf', now - 60000)
    if redis.call('ZCARD', k) >= rpm then
      local first = redis.call('ZRANGE', k, 0, 0, 'WITHSCORES')
      skip = tonumber(first[2]) + 60000 - now
      reason = 'rpm limit reached'
    end
  end
  if not skip and (tpm > 0 or mode == 'usage') then
    local oldest
    used, oldest = tpm_window(P .. 'tpm:' .. id)
    if tpm > 0 and used > 0 and used + est > tpm then
      skip = ((oldest or math.floor(now / 1000)) + 60) * 1000 - now
      reason = 'tpm limit reached'
    end
  end
  if not skip and (par > 0 or mode == 'least_busy') then
    local k = P .. 'inf:' .. id
    redis.call('ZREMRANGEBYSCORE', k, '-inf', now)
    inflight = redis.call('ZCARD', k)
    if par > 0 and inflight >= par then
      skip = 1000
      reason = 'max_parallel_requests reached'
    end
  end
  if skip then
    if not wait or skip < wait then wait = skip end
  else
    if mode == 'first' then
      best = i
      break
    end
    local metric = inflight
    if mode == 'usage' then
      if tpm > 0 then metric = used / tpm else metric = used end
    end
    if not best_order or order < best_order or (order == best_order and metric < best_metric) then
      best, best_order, best_metric = i, order, metric
    end
  end
end
if best == 0 then
  return {0, math.max(wait or 1000, 1), reason}
end
local b = 6 + (best - 1) * 5
local id = ARGV[b + 1]
local rk = P .. 'rpm:' .. id
redis.call('ZADD', rk, now, lease)
redis.call('PEXPIRE', rk, 61000)
if est > 0 then
  local tk = P .. 'tpm:' .. id
  redis.call('HINCRBY', tk, math.floor(now / 1000), est)
  redis.call('PEXPIRE', tk, 61000)
end
local ik = P .. 'inf:' .. id
redis.call('ZADD', ik, now + ttl, lease)
redis.call('PEXPIRE', ik, ttl + 1000)
return {best, 0, ''}
"""

_REPORT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local P = ARGV[1]
local n = tonumber(ARGV[2])
local alpha = tonumber(ARGV[3])
local cooled = {}
for i = 1, n do
  local b = 3 + (i - 1) * 10
  local id, lease = ARGV[b + 1], ARGV[b + 2]
  local delta, lat, ttft = tonumber(ARGV[b + 3]), tonumber(ARGV[b + 4]), tonumber(ARGV[b + 5])
  local action, allowed, cd_ms, rate_rule = tonumber(ARGV[b + 6]), tonumber(ARGV[b + 7]), tonumber(ARGV[b + 8]), ARGV[b + 9]
  local reason = ARGV[b + 10]
  if lease ~= '' then redis.call('ZREM', P .. 'inf:' .. id, lease) end
  if delta ~= 0 then
    local tk = P .. 'tpm:' .. id
    redis.call('HINCRBY', tk, math.floor(now / 1000), delta)
    redis.call('PEXPIRE', tk, 61000)
  end
  if lat > 0 or ttft > 0 then
    local cur = redis.call('HGET', P .. 'lat', id)
    local l, f, c = lat, ttft, 0
    if cur then
      local a, b2, c2 = string.match(cur, '([^|]*)|([^|]*)|([^|]*)|')
      local ol, of = tonumber(a), tonumber(b2)
      c = tonumber(c2) or 0
      if lat > 0 and ol and ol > 0 then l = ol + alpha * (lat - ol) elseif lat <= 0 then l = ol or 0 end
      if ttft > 0 and of and of > 0 then f = of + alpha * (ttft - of) elseif ttft <= 0 then f = of or 0 end
    end
    redis.call('HSET', P .. 'lat', id, string.format('%.3f|%.3f|%d|%d', l, f, c + 1, now))
  end
  if action > 0 then
    local fk = P .. 'fw:' .. id
    local w = redis.call('HMGET', fk, 'start', 'fails', 'total')
    local start, fails, total = tonumber(w[1]), tonumber(w[2]) or 0, tonumber(w[3]) or 0
    if not start or now - start >= 60000 then
      start, fails, total = now, 0, 0
    end
    total = total + 1
    local trip = false
    if action ~= 1 then
      fails = fails + 1
      trip = action == 2 or fails > allowed
      if not trip and rate_rule == '1' and total >= 10 and fails * 2 > total then trip = true end
    end
    if trip then
      local untl = now + cd_ms
      redis.call('ZADD', P .. 'cd', 'GT', untl, id)
      untl = tonumber(redis.call('ZSCORE', P .. 'cd', id))
      redis.call('HSET', P .. 'cdr', id, reason)
      redis.call('PUBLISH', P .. 'events', 'cd\\t' .. id .. '\\t' .. untl .. '\\t' .. reason)
      if action == 3 then
        redis.call('DEL', fk)
      else
        redis.call('HSET', fk, 'start', start, 'fails', fails, 'total', total)
        redis.call('PEXPIRE', fk, 61000)
      end
      cooled[#cooled + 1] = id
      cooled[#cooled + 1] = tostring(untl)
      cooled[#cooled + 1] = reason
    else
      redis.call('HSET', fk, 'start', start, 'fails', fails, 'total', total)
      redis.call('PEXPIRE', fk, 61000)
    end
  end
end
return cooled
"""


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


@dataclass(frozen=True, slots=True)
class OutcomeUpdate:
    deployment_id: str
    lease_id: str
    token_delta: int
    latency_ms: float
    ttft_ms: float
    decision: Decision
    reason: str


class SharedState:
    def __init__(
        self,
        redis: Redis | None,
        *,
        prefix: str,
        cooldowns: Cooldowns,
        limiter: LocalLimiter,
        health: HealthBook,
        latency: dict[str, LatencySample],
        call_timeout: float = 0.3,
        open_seconds: float = 2.0,
        sync_seconds: float = 1.0,
    ) -> None:
        self._redis = redis
        self.prefix = prefix
        self.cooldowns = cooldowns
        self.limiter = limiter
        self.health = health
        self.latency = latency
        self.breaker = Breaker(open_seconds)
        self._timeout = call_timeout
        self._sync_seconds = sync_seconds
        self._admit = redis.register_script(_ADMIT) if redis is not None else None
        self._report = redis.register_script(_REPORT) if redis is not None else None
        self._tasks: list[asyncio.Task[None]] = []
        self._last_cleanup = 0.0
        self.events = 0
        # Lease releases and token corrections that could not reach Redis: replayed when it is
        # back, so in-flight counts do not stay inflated until the leases expire.
        self._backlog: deque[OutcomeUpdate] = deque(maxlen=50_000)

    @property
    def degraded(self) -> bool:
        return self._redis is None or self.breaker.is_open

    async def _call(self, fn: Callable[[], Awaitable[T]]) -> T:
        if self._redis is None or not self.breaker.allow():
            raise RedisDown
        try:
            async with asyncio.timeout(self._timeout):
                result = await fn()
        except ResponseError:
            # Redis answered (an error of ours, e.g. in a script): not an outage.
            log.exception("Redis refused a routing-state command")
            raise RedisDown from None
        except (RedisError, OSError, TimeoutError) as exc:
            was_open = self.breaker.is_open
            timed_out = isinstance(exc, TimeoutError | RedisTimeoutError)
            self.breaker.failure(timeout=timed_out)
            if self.breaker.is_open and not was_open:
                log.warning("Redis unreachable: routing from local state", extra={"error": type(exc).__name__})
            raise RedisDown from None
        if self.breaker.success():
            log.info("Redis reachable again: catching up")
            task = asyncio.get_running_loop().create_task(self._catch_up())
            self._tasks = [t for t in self._tasks if not t.done()] + [task]
        return result

    # --- admission ------------------------------------------------------------------------
    async def admit(
        self, specs: Sequence[LimitSpec], *, mode: str, estimated_tokens: int, lease_seconds: float
    ) -> tuple[Admission, str]:
        """Admit the first (or least busy / least used) candidate with room; returns the
        admission and its lease id."""
        lease = uuid.uuid4().hex
        argv: list[Any] = [self.prefix, lease, int(lease_seconds * 1000), max(0, estimated_tokens), mode, len(specs)]
        for s in specs:
            argv += [s.id, s.rpm, s.tpm, s.max_parallel, s.order]
        try:
            script = self._admit
            assert script is not None
            raw = await self._call(lambda: script(args=argv))
            idx, wait_ms, reason = int(raw[0]), float(raw[1]), raw[2]
            reason_s = reason.decode() if isinstance(reason, bytes) else str(reason)
            return Admission(idx - 1, wait_ms / 1000, reason_s), lease
        except RedisDown:
            now = time.time()
            lease = LOCAL_LEASE_PREFIX + lease
            result = self.limiter.admit(
                specs,
                mode=mode,
                lease_id=lease,
                estimated_tokens=estimated_tokens,
                lease_seconds=lease_seconds,
                now=now,
                cooling=lambda i: self._cooling_left(i, now),
            )
            return result, lease

    def _cooling_left(self, deployment_id: str, now: float) -> float | None:
        c = self.cooldowns.get(deployment_id, now)
        return c.until - now if c else None

    # --- outcomes -------------------------------------------------------------------------
    def _apply_local_latency(self, u: OutcomeUpdate, now: float) -> None:
        if u.latency_ms <= 0 and u.ttft_ms <= 0:
            return
        cur = self.latency.get(u.deployment_id)
        if cur is None:
            self.latency[u.deployment_id] = LatencySample(u.latency_ms, u.ttft_ms, now)
            return

        def mix(old: float, new: float) -> float:
            if new <= 0:
                return old
            return new if old <= 0 else old + LATENCY_ALPHA * (new - old)

        self.latency[u.deployment_id] = LatencySample(
            mix(cur.latency_ms, u.latency_ms), mix(cur.ttft_ms, u.ttft_ms), now, cur.count + 1
        )

    async def report(self, updates: Sequence[OutcomeUpdate]) -> None:
        if not updates:
            return
        now = time.time()
        for u in updates:
            self._apply_local_latency(u, now)
        shared = [u for u in updates if not u.lease_id.startswith(LOCAL_LEASE_PREFIX)]
        local = [u for u in updates if u.lease_id.startswith(LOCAL_LEASE_PREFIX)]
        for u in local:
            self.limiter.release(u.deployment_id, u.lease_id, u.token_delta, now)
        if not shared:
            for u in local:
                self.cooldowns.record(u.deployment_id, u.decision, now, u.reason)
            return
        argv: list[Any] = [self.prefix, len(shared), LATENCY_ALPHA]
        for u in shared:
            d = u.decision
            argv += [
                u.deployment_id,
                u.lease_id,
                u.token_delta,
                round(u.latency_ms, 3),
                round(u.ttft_ms, 3),
                int(d.action),
                d.allowed,
                int(d.seconds * 1000),
                "1" if d.rate_rule else "0",
                u.reason,
            ]
        try:
            script = self._report
            assert script is not None
            cooled = await self._call(lambda: script(args=argv))
        except RedisDown:
            ignore = Decision(Action.IGNORE)
            for u in shared:
                self.limiter.add_tokens(u.deployment_id, u.token_delta, now)
                if u.lease_id or u.token_delta:
                    self._backlog.append(OutcomeUpdate(u.deployment_id, u.lease_id, u.token_delta, 0, 0, ignore, ""))
            for u in updates:
                self.cooldowns.record(u.deployment_id, u.decision, now, u.reason)
            return
        for u in local:
            self.cooldowns.record(u.deployment_id, u.decision, now, u.reason)
        for i in range(0, len(cooled), 3):
            dep = _s(cooled[i])
            self.cooldowns.set(dep, float(_s(cooled[i + 1])) / 1000, _s(cooled[i + 2]), time.time())

    # --- health ---------------------------------------------------------------------------
    async def claim_health_check(self, deployment_id: str, seconds: float) -> bool:
        """One replica checks each deployment per interval; without Redis every replica checks."""
        redis = self._redis
        try:
            assert redis is not None
            got = await self._call(
                lambda: redis.set(f"{self.prefix}hlock:{deployment_id}", b"1", nx=True, px=max(1, int(seconds * 1000)))
            )
        except RedisDown:
            return True
        return bool(got)

    async def release_health_check(self, deployment_id: str) -> None:
        redis = self._redis
        try:
            assert redis is not None
            await self._call(lambda: redis.delete(f"{self.prefix}hlock:{deployment_id}"))
        except RedisDown:
            pass

    async def put_health(self, deployment_id: str, result: HealthResult) -> None:
        self.health.put(deployment_id, result)
        redis = self._redis
        blob = orjson.dumps({"h": result.healthy, "e": result.error, "t": result.checked_at, "l": result.latency_ms})
        try:
            assert redis is not None
            await self._call(lambda: redis.hset(f"{self.prefix}health", deployment_id, blob))
        except RedisDown:
            pass

    # --- sync -----------------------------------------------------------------------------
    async def sync(self) -> None:
        """Read the shared view: cooldowns, latency statistics, health results."""
        redis = self._redis
        if redis is None:
            return
        now = time.time()

        async def read() -> list[Any]:
            pipe = redis.pipeline(transaction=False)
            pipe.zrangebyscore(f"{self.prefix}cd", int(now * 1000), "+inf", withscores=True)
            pipe.hgetall(f"{self.prefix}cdr")
            pipe.hgetall(f"{self.prefix}lat")
            pipe.hgetall(f"{self.prefix}health")
            return list(await pipe.execute())

        try:
            cds, reasons, lat, health = await self._call(read)
        except RedisDown:
            return
        snapshot = {}
        for member, score in cds:
            dep = _s(member)
            snapshot[dep] = Cooling(float(score) / 1000, _s(reasons.get(member, b"")))
        self.cooldowns.merge(snapshot, now)
        for k, v in lat.items():
            parts = _s(v).split("|")
            try:
                self.latency[_s(k)] = LatencySample(
                    float(parts[0]), float(parts[1]), float(parts[3]) / 1000, int(parts[2])
                )
            except (ValueError, IndexError):
                continue
        for k, v in health.items():
            try:
                d = orjson.loads(v)
                self.health.put(_s(k), HealthResult(bool(d["h"]), str(d["e"]), float(d["t"]), float(d["l"])))
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                continue
        if now - self._last_cleanup > 60:
            self._last_cleanup = now
            stale = [k for k in reasons if _s(k) not in snapshot]
            if stale:
                try:
                    await self._call(lambda: redis.hdel(f"{self.prefix}cdr", *stale))
                    await self._call(lambda: redis.zremrangebyscore(f"{self.prefix}cd", "-inf", int(now * 1000)))
                except RedisDown:
                    pass

    async def _catch_up(self) -> None:
        """Redis is back: write the cooldowns decided locally, then adopt the shared view."""
        redis = self._redis
        if redis is None:
            return
        local = self.cooldowns.snapshot(time.time())
        if local:

            async def push() -> None:
                pipe = redis.pipeline(transaction=False)
                for dep, c in local.items():
                    pipe.zadd(f"{self.prefix}cd", {dep: int(c.until * 1000)}, gt=True)
                    pipe.hset(f"{self.prefix}cdr", dep, c.reason)
                await pipe.execute()

            try:
                await self._call(push)
            except RedisDown:
                return
        while self._backlog:
            batch = [self._backlog.popleft() for _ in range(min(500, len(self._backlog)))]
            await self.report(batch)
            if self.breaker.is_open:
                return
        await self.sync()

    async def _listen(self) -> None:
        """Cooldowns from other replicas, as they happen."""
        redis = self._redis
        assert redis is not None
        channel = f"{self.prefix}events"
        while True:
            pubsub = redis.pubsub()
            try:
                await pubsub.subscribe(channel)
                while True:
                    msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if msg is None:
                        continue
                    parts = _s(msg["data"]).split("\t")
                    if parts[0] == "cd" and len(parts) >= 4:
                        self.events += 1
                        self.cooldowns.set(parts[1], float(parts[2]) / 1000, parts[3], time.time())
            except (RedisError, OSError, TimeoutError):
                await asyncio.sleep(self.breaker.open_seconds)
            finally:
                try:
                    await pubsub.aclose()
                except (RedisError, OSError):
                    pass

    async def _sync_loop(self) -> None:
        while True:
            await asyncio.sleep(self._sync_seconds)
            try:
                await self.sync()
            except Exception:
                log.exception("routing state sync failed")

    async def warm_up(self, connections: int) -> None:
        """Open the pool's connections now: a burst of plans then waits for Redis, not for
        connection set-ups (which can take longer than a call's deadline on a busy host)."""
        redis = self._redis
        if redis is None:
            return
        try:
            async with asyncio.timeout(5.0):
                await asyncio.gather(*(redis.ping() for _ in range(max(1, connections))))
        except (RedisError, OSError, TimeoutError):
            log.warning("Redis unreachable at start: routing from local state until it answers")

    def start(self) -> None:
        if self._redis is None:
            return
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._listen(), name="router-state-listen"),
            loop.create_task(self._sync_loop(), name="router-state-sync"),
        ]

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


__all__ = ["Action", "Breaker", "OutcomeUpdate", "SharedState"]
