"""The shared rate limiter: several scopes admitted together, all or none, the same in the Redis
script (two replicas on one real Redis) and in the local windows it falls back to."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest

from switchyard_common.aio import BackgroundTasks
from switchyard_common.rate_limiter import Breaker, RateLimiter, RedisGuard, scope_key
from switchyard_common.rate_limits import CLOSED, PARALLEL, RPM, TPM, Admission, Candidate, Scope
from switchyard_common.redis_client import create_redis

Replicas = tuple[RateLimiter, RateLimiter]


@pytest.fixture(params=["redis", "local"])
async def replicas(request: pytest.FixtureRequest, redis_url: str) -> AsyncIterator[Replicas]:
    """Two replicas' limiters: on one Redis, or (one process) on the same local windows."""
    if request.param == "local":
        one = RateLimiter(RedisGuard(None, Breaker(), what="test"))
        yield one, one
        return
    clients = [create_redis(redis_url, socket_timeout=5, connect_timeout=5, pool_timeout=5) for _ in range(2)]
    prefix = f"t:{uuid.uuid4().hex[:8]}:"
    yield tuple(RateLimiter(RedisGuard(c, Breaker(), what="test"), prefix=prefix) for c in clients)  # type: ignore[misc]
    for c in clients:
        await c.aclose()


def request_of(key: str, team: str, *, key_rpm: int = 0, team_rpm: int = 0, team_tpm: int = 0) -> Candidate:
    return Candidate((Scope(f"key:{key}", rpm=key_rpm), Scope(f"team:{team}", rpm=team_rpm, tpm=team_tpm)))


async def admit(limiter: RateLimiter, cand: Candidate, estimate: int = 0) -> Admission:
    return await limiter.admit([cand], ticket=uuid.uuid4().hex, estimate=estimate, ttl_seconds=30)


async def test_all_scopes_of_a_request_or_none(replicas: Replicas) -> None:
    a, b = replicas
    team = uuid.uuid4().hex
    k1, k2 = uuid.uuid4().hex, uuid.uuid4().hex
    results = await asyncio.gather(
        *[admit(a if i % 2 else b, request_of(k1 if i < 4 else k2, team, key_rpm=2, team_rpm=3)) for i in range(8)]
    )
    assert sum(r.index == 0 for r in results) == 3  # the team's limit across both replicas and keys
    refused = [r for r in results if r.index < 0]
    assert {(r.which, r.scope) for r in refused} <= {(RPM, 0), (RPM, 1)}
    assert all(55 <= r.wait <= 60 for r in refused)
    # A refusal counts on none of the request's scopes.
    solo_team, key = uuid.uuid4().hex, uuid.uuid4().hex
    assert (await admit(a, request_of(uuid.uuid4().hex, solo_team, team_rpm=1))).index == 0
    r = await admit(b, request_of(key, solo_team, key_rpm=1, team_rpm=1))
    assert (r.index, r.which, r.scope) == (-1, RPM, 1)
    assert (await admit(a, request_of(key, uuid.uuid4().hex, key_rpm=1, team_rpm=1))).index == 0


async def test_tokens_and_requests_in_flight_across_scopes(replicas: Replicas) -> None:
    a, b = replicas
    team = uuid.uuid4().hex
    bg = BackgroundTasks()
    cand = request_of(uuid.uuid4().hex, team, team_tpm=100)
    first = await a.admit([cand], ticket="t", estimate=60, ttl_seconds=30)
    assert first.index == 0
    r = await admit(b, request_of(uuid.uuid4().hex, team, team_tpm=100), 60)
    assert (r.index, r.which, r.scope) == (-1, TPM, 1)
    a.release(first, "t", cand, 15 - 60, bg)  # 15 tokens in all
    await bg.drain(5.0)
    assert (await admit(b, request_of(uuid.uuid4().hex, team, team_tpm=100), 60)).index == 0
    par = Candidate((Scope(f"key:{uuid.uuid4().hex}", parallel=1),))
    held = await a.admit([par], ticket="held", estimate=0, ttl_seconds=30)
    assert held.index == 0
    busy = await b.admit([par], ticket="other", estimate=0, ttl_seconds=30)
    assert (busy.index, busy.which) == (-1, PARALLEL)
    a.release(held, "held", par, 0, bg)
    await bg.drain(5.0)
    assert (await b.admit([par], ticket="other", estimate=0, ttl_seconds=30)).index == 0


async def test_candidates_closed_or_full_are_passed_over(replicas: Replicas, redis_url: str) -> None:
    a, _ = replicas
    ids = [uuid.uuid4().hex for _ in range(3)]
    cands = [Candidate((Scope(i, rpm=1),), gate=i) for i in ids]
    gates = f"t:{uuid.uuid4().hex[:8]}:cd"
    redis = create_redis(redis_url)
    closed_for = {ids[0]: 5.0}
    await redis.zadd(gates, {ids[0]: int((time.time() + 5) * 1000)})
    try:
        got = [
            await a.admit(
                cands, ticket=uuid.uuid4().hex, estimate=0, ttl_seconds=30, gates=gates, closed=closed_for.get
            )
            for _ in range(3)
        ]
        assert [g.index for g in got] == [1, 2, -1]
        assert got[2].which == CLOSED and 4 < got[2].wait <= 5  # the soonest: the closed one
    finally:
        await redis.delete(gates)
        await redis.aclose()


def test_counters_are_named_under_one_hash_tag_per_scope() -> None:
    names = [scope_key("p:", "key:abc", w) for w in ("rpm", "tpm", "inf")]
    assert names == ["p:{sy:lim:key:abc}:rpm", "p:{sy:lim:key:abc}:tpm", "p:{sy:lim:key:abc}:inf"]
