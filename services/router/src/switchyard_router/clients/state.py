"""Routing state shared by every router replica, in Redis: cooldowns, rpm/tpm/in-flight
counters (the shared rate limiter, ``switchyard_common.rate_limiter``), latency statistics and
health results. Every update that reads and writes is one Lua script (atomic); cooldowns are also
broadcast on a pub/sub channel so each replica's in-memory mirror learns of them within
milliseconds, and a periodic snapshot is the backstop.

Degraded mode: every Redis call is short (socket timeouts of a fraction of a second) and
guarded by a circuit breaker. While Redis is unreachable the router keeps routing from its
local state (its own cooldown decisions, its own counters: each replica then enforces the full
limit by itself) and tries Redis again every ``open_seconds``. When Redis answers again the
cooldowns decided meanwhile are written back and the shared view is read in."""

from __future__ import annotations

import asyncio
import logging
import math
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from switchyard_common.rate_limiter import SCOPE_KEY_LUA, Breaker, RateLimiter, RedisDown, RedisGuard
from switchyard_router.domain.cooldown import Action, Cooldowns, Cooling, Decision
from switchyard_router.domain.health import HealthBook, HealthResult
from switchyard_router.domain.limits import Admission, LimitSpec, admission, candidates
from switchyard_router.domain.strategies import LatencySample

log = logging.getLogger(__name__)
T = TypeVar("T")

# Smoothing of the latency statistics (weight of the newest sample).
LATENCY_ALPHA = 0.3
LOCAL_LEASE_PREFIX = "L:"

_REPORT = (
    SCOPE_KEY_LUA
    + """
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
  if lease ~= '' then redis.call('ZREM', scope_key(P, id, 'inf'), lease) end
  if delta ~= 0 then
    local tk = scope_key(P, id, 'tpm')
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
)


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
        health: HealthBook,
        latency: dict[str, LatencySample],
        call_timeout: float = 0.3,
        open_seconds: float = 2.0,
        sync_seconds: float = 1.0,
    ) -> None:
        self._redis = redis
        self.prefix = prefix
        self.cooldowns = cooldowns
        self.health = health
        self.latency = latency
        self.breaker = Breaker(open_seconds)
        self._guard = RedisGuard(
            redis, self.breaker, what="routing", call_timeout=call_timeout, on_recovered=self._start_catch_up
        )
        # Deployments are counted whether limited or not: the least busy and least used modes read
        # their requests in flight and tokens.
        self.limiter = RateLimiter(self._guard, prefix=prefix, track=True)
        self._sync_seconds = sync_seconds
        self._report = redis.register_script(_REPORT) if redis is not None else None
        self._tasks: list[asyncio.Task[None]] = []
        self._last_cleanup = 0.0
        self.events = 0
        # Lease releases and token corrections that could not reach Redis: replayed when it is
        # back, so in-flight counts do not stay inflated until the leases expire.
        self._backlog: deque[OutcomeUpdate] = deque(maxlen=50_000)

    @property
    def degraded(self) -> bool:
        return self._guard.degraded

    def _start_catch_up(self) -> None:
        task = asyncio.get_running_loop().create_task(self._catch_up())
        self._tasks = [t for t in self._tasks if not t.done()] + [task]

    async def _call(self, fn: Callable[[], Awaitable[T]]) -> T:
        return await self._guard.call(fn)

    # --- admission ------------------------------------------------------------------------
    async def admit(
        self, specs: Sequence[LimitSpec], *, mode: str, estimated_tokens: int, lease_seconds: float
    ) -> tuple[Admission, str]:
        """Admit the first (or least busy / least used) candidate with room; returns the
        admission and its lease id."""
        lease = uuid.uuid4().hex
        result = await self.limiter.admit(
            candidates(specs),
            ticket=lease,
            estimate=estimated_tokens,
            ttl_seconds=lease_seconds,
            mode=mode,
            gates=f"{self.prefix}cd",
            closed=self._cooling_left,
        )
        # A lease counted by this replica alone is marked, so that its outcome releases it from
        # this replica's windows rather than from Redis.
        return admission(result), LOCAL_LEASE_PREFIX + lease if result.local else lease

    def _cooling_left(self, deployment_id: str) -> float | None:
        now = time.time()
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
            self.limiter.windows.release(u.deployment_id, u.lease_id.removeprefix(LOCAL_LEASE_PREFIX), now)
            self.limiter.windows.add_tokens(u.deployment_id, math.floor(now), u.token_delta, now)
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
                self.limiter.windows.add_tokens(u.deployment_id, math.floor(now), u.token_delta, now)
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
