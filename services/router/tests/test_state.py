"""Shared routing state on a real Redis: two SharedState objects play two router replicas."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_common.rate_limiter import scope_key
from switchyard_common.rate_limits import MODE_FIRST, MODE_LEAST_BUSY
from switchyard_common.redis_client import create_redis
from switchyard_router.clients.state import OutcomeUpdate, SharedState
from switchyard_router.domain.cooldown import Action, Cooldowns, Decision, decide
from switchyard_router.domain.health import HealthBook, HealthResult
from switchyard_router.domain.limits import LimitSpec
from switchyard_router.domain.policy import RouterPolicy


def make_state(url: str, prefix: str, **kw: float) -> SharedState:
    return SharedState(
        create_redis(url, socket_timeout=0.4, connect_timeout=0.4, max_connections=16),
        prefix=prefix,
        cooldowns=Cooldowns(),
        health=HealthBook(),
        latency={},
        call_timeout=0.45,
        open_seconds=kw.get("open_seconds", 0.5),
        sync_seconds=kw.get("sync_seconds", 0.2),
    )


@pytest.fixture
def prefix() -> str:
    return f"t:{uuid.uuid4().hex[:8]}:"


@pytest.fixture
async def replicas(redis_url: str, prefix: str) -> AsyncIterator[tuple[SharedState, SharedState]]:
    a, b = make_state(redis_url, prefix), make_state(redis_url, prefix)
    for s in (a, b):
        await s.warm_up(15)
        s.start()
    await asyncio.sleep(0.1)  # subscribed
    yield a, b
    for s in (a, b):
        await s.stop()


def outcome(dep: str, decision: Decision, lease: str = "", delta: int = 0, lat: float = 0.0) -> OutcomeUpdate:
    return OutcomeUpdate(dep, lease, delta, lat, 0.0, decision, "429 RATE_LIMIT")


async def test_rpm_limit_holds_across_replicas_under_concurrency(replicas: tuple[SharedState, SharedState]) -> None:
    a, b = replicas
    spec = [LimitSpec("d", rpm=10)]
    results = await asyncio.gather(
        *(s.admit(spec, mode=MODE_FIRST, estimated_tokens=0, lease_seconds=30) for s in (a, b) * 25)
    )
    admitted = [r for r, _ in results if r.index == 0]
    refused = [r for r, _ in results if r.index < 0]
    assert len(admitted) == 10 and len(refused) == 40
    assert all(r.reason == "rpm limit reached" and 59 < r.wait <= 60 for r in refused)


async def test_tpm_and_parallel_limits_with_release(replicas: tuple[SharedState, SharedState]) -> None:
    a, b = replicas
    tpm = [LimitSpec("t", tpm=100)]
    first, lease = await a.admit(tpm, mode=MODE_FIRST, estimated_tokens=60, lease_seconds=30)
    assert first.index == 0
    await a.report([outcome("t", Decision(Action.SUCCESS), lease, delta=35)])  # 95 tokens in all
    r, _ = await b.admit(tpm, mode=MODE_FIRST, estimated_tokens=10, lease_seconds=30)
    assert r.index == -1 and r.reason == "tpm limit reached"
    par = [LimitSpec("p", max_parallel=2)]
    (r1, l1), (r2, _) = [await s.admit(par, mode=MODE_FIRST, estimated_tokens=0, lease_seconds=30) for s in (a, b)]
    assert r1.index == r2.index == 0
    r3, _ = await a.admit(par, mode=MODE_FIRST, estimated_tokens=0, lease_seconds=30)
    assert r3.reason == "max_parallel_requests reached"
    await b.report([outcome("p", Decision(Action.SUCCESS), l1)])  # released by the other replica
    r4, _ = await a.admit(par, mode=MODE_FIRST, estimated_tokens=0, lease_seconds=30)
    assert r4.index == 0


async def test_lost_outcome_lease_expires(replicas: tuple[SharedState, SharedState]) -> None:
    a, _ = replicas
    par = [LimitSpec("x", max_parallel=1)]
    assert (await a.admit(par, mode=MODE_FIRST, estimated_tokens=0, lease_seconds=0.3))[0].index == 0
    assert (await a.admit(par, mode=MODE_FIRST, estimated_tokens=0, lease_seconds=0.3))[0].index == -1
    await asyncio.sleep(0.35)
    assert (await a.admit(par, mode=MODE_FIRST, estimated_tokens=0, lease_seconds=0.3))[0].index == 0


async def test_least_busy_counts_every_replicas_in_flight(replicas: tuple[SharedState, SharedState]) -> None:
    a, b = replicas
    specs = [LimitSpec("a"), LimitSpec("b"), LimitSpec("c")]
    picks = []
    for s in (a, b, a, b):
        r, _ = await s.admit(specs, mode=MODE_LEAST_BUSY, estimated_tokens=0, lease_seconds=30)
        picks.append(specs[r.index].id)
    assert sorted(picks[:3]) == ["a", "b", "c"] and picks[3] in ("a", "b", "c")


async def test_cooldown_reaches_the_other_replica_at_once(replicas: tuple[SharedState, SharedState]) -> None:
    a, b = replicas
    d = decide(RouterPolicy(cooldown_time=5), success=False, kind=ErrorKind.ERROR_KIND_RATE_LIMIT)
    t0 = time.monotonic()
    await a.report([outcome("dep-1", d)])
    assert a.cooldowns.cooling("dep-1", time.time())
    while not b.cooldowns.cooling("dep-1", time.time()):
        assert time.monotonic() - t0 < 0.5, "the other replica did not learn of the cooldown"
        await asyncio.sleep(0.005)
    assert b.events >= 1  # pushed over pub/sub, not found by the periodic sync
    c = b.cooldowns.get("dep-1", time.time())
    assert c is not None and c.reason == "429 RATE_LIMIT" and 4 < c.until - time.time() <= 5
    r, _ = await b.admit([LimitSpec("dep-1")], mode=MODE_FIRST, estimated_tokens=0, lease_seconds=5)
    assert r.index == -1 and r.reason == "cooling down" and 4 < r.wait <= 5


async def test_allowed_fails_are_counted_across_replicas(replicas: tuple[SharedState, SharedState]) -> None:
    a, b = replicas
    fail = decide(
        RouterPolicy(allowed_fails=3, allowed_fails_set=True), success=False, kind=ErrorKind.ERROR_KIND_INTERNAL_SERVER
    )
    for s in (a, b, a):
        await s.report([outcome("flaky", fail)])
    assert not a.cooldowns.cooling("flaky", time.time())
    await b.report([outcome("flaky", fail)])
    assert b.cooldowns.cooling("flaky", time.time())


async def test_latency_and_health_are_shared(replicas: tuple[SharedState, SharedState]) -> None:
    a, b = replicas
    ok = Decision(Action.SUCCESS)
    await a.report([outcome("fast", ok, lat=100.0), outcome("fast", ok, lat=200.0)])
    await a.put_health("fast", HealthResult(False, "401 invalid key", time.time(), 12.0))
    await b.sync()
    s = b.latency["fast"]
    assert s.latency_ms == pytest.approx(130.0) and s.count == 2
    h = b.health.get("fast")
    assert h is not None and not h.healthy and h.error == "401 invalid key"
    assert await a.claim_health_check("fast", 5) and not await b.claim_health_check("fast", 5)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_unreachable_redis_degrades_to_local_state_without_hanging() -> None:
    state = make_state(f"redis://127.0.0.1:{_free_port()}/0", "t:", open_seconds=30)
    spec = [LimitSpec("d", rpm=2)]
    t0 = time.monotonic()
    results = [await state.admit(spec, mode=MODE_FIRST, estimated_tokens=0, lease_seconds=5) for _ in range(3)]
    took = time.monotonic() - t0
    assert took < 0.5, f"admission waited {took:.2f}s on a dead Redis"
    assert state.degraded
    assert [r.index for r, _ in results] == [0, 0, -1]  # the limit still holds, locally
    assert all(lease.startswith("L:") for _, lease in results[:2])
    d = decide(RouterPolicy(), success=False, kind=ErrorKind.ERROR_KIND_RATE_LIMIT)
    await state.report([outcome("d", d, results[0][1])])
    assert state.cooldowns.cooling("d", time.time())


class Proxy:
    """A TCP proxy in front of Redis that can be cut and restored (a Redis outage we control)."""

    def __init__(self, target_port: int) -> None:
        self.target = target_port
        self.port = _free_port()
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def _pipe(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        try:
            while data := await r.read(65536):
                w.write(data)
                await w.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            w.close()

    async def _handle(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        ur, uw = await asyncio.open_connection("127.0.0.1", self.target)
        self._writers += [w, uw]
        await asyncio.gather(self._pipe(r, uw), self._pipe(ur, w))

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, reuse_address=True)

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for w in self._writers:
            w.transport.abort()
        self._writers.clear()
        await self._server.wait_closed()


async def test_catch_up_when_redis_returns(redis_url: str, prefix: str) -> None:
    real: Redis = create_redis(redis_url)
    proxy = Proxy(int(redis_url.rsplit(":", 1)[1].split("/", maxsplit=1)[0]))
    await proxy.start()
    state = make_state(f"redis://127.0.0.1:{proxy.port}/0", prefix, open_seconds=0.3)
    try:
        spec = [LimitSpec("d", rpm=100)]
        assert (await state.admit(spec, mode=MODE_FIRST, estimated_tokens=0, lease_seconds=5))[0].index == 0
        one = [LimitSpec("solo", max_parallel=1)]
        held, lease = await state.admit(one, mode=MODE_FIRST, estimated_tokens=0, lease_seconds=60)
        assert held.index == 0 and not state.degraded
        await proxy.cut()
        d = decide(RouterPolicy(cooldown_time=20), success=False, kind=ErrorKind.ERROR_KIND_RATE_LIMIT)
        t0 = time.monotonic()
        # Released while Redis is away: the release waits for Redis instead of being lost.
        await state.report([outcome("solo", Decision(Action.SUCCESS), lease)])
        await state.report([outcome("down-dep", d)])
        assert time.monotonic() - t0 < 0.5 and state.degraded
        assert state.cooldowns.cooling("down-dep", time.time())  # decided locally
        assert await real.zscore(f"{prefix}cd", "down-dep") is None
        await proxy.start()
        await asyncio.sleep(0.35)  # the breaker lets a call through again
        # The periodic sync is the first to reach Redis: it must not forget the local cooldown
        # before the catch-up writes it back.
        await state.sync()
        assert not state.degraded and state.cooldowns.cooling("down-dep", time.time())
        # The catch-up writes the local cooldowns first, then replays the backlog of releases.
        for _ in range(100):
            if await real.zscore(f"{prefix}cd", "down-dep") is not None and not await real.zcard(
                scope_key(prefix, "solo", "inf")
            ):
                break
            await asyncio.sleep(0.02)
        score = await real.zscore(f"{prefix}cd", "down-dep")
        assert score is not None and 19 < score / 1000 - time.time() <= 20
        assert await real.zcard(scope_key(prefix, "solo", "inf")) == 0
        again, lease2 = await state.admit(one, mode=MODE_FIRST, estimated_tokens=0, lease_seconds=60)
        assert again.index == 0 and not lease2.startswith("L:")
    finally:
        await state.stop()
        await real.aclose()


def test_breaker_opens_on_a_refused_connection_or_repeated_timeouts_and_retries_later() -> None:
    from switchyard_router.clients.state import Breaker

    now = [0.0]
    b = Breaker(open_seconds=2.0, timeouts_to_open=3, clock=lambda: now[0])
    b.failure(timeout=True)
    b.failure(timeout=True)
    assert not b.is_open  # two slow answers under load are not an outage
    b.success()
    b.failure(timeout=True)
    b.failure(timeout=True)
    assert not b.is_open
    b.failure(timeout=True)
    assert b.is_open and not b.allow()
    now[0] = 2.0
    assert b.allow()  # one call may try Redis again
    assert b.success() and not b.is_open
    b.failure()
    assert b.is_open
