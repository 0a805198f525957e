"""Per-key rate limits on a real Redis: rpm, tpm and requests in flight, shared by replicas, and
enforced locally while Redis is unreachable."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from switchyard.auth.v1 import auth_pb2, customers_pb2
from switchyard.llm.v1 import error_pb2
from switchyard_common.aio import BackgroundTasks
from switchyard_common.redis_client import create_redis
from switchyard_edge.clients.key_limits import KeyLimiter
from switchyard_edge.errors import GatewayError


def principal(rpm: int = 0, tpm: int = 0, parallel: int = 0) -> auth_pb2.Principal:
    return auth_pb2.Principal(
        account_id="acct",
        key_hash=uuid.uuid4().hex,
        limits=auth_pb2.RateLimits(rpm_limit=rpm, tpm_limit=tpm, max_parallel_requests=parallel),
    )


@pytest.fixture
async def limiters(redis_url: str) -> AsyncIterator[tuple[KeyLimiter, KeyLimiter, BackgroundTasks]]:
    """Two replicas' limiters on one Redis."""
    bg = BackgroundTasks()
    clients = [create_redis(redis_url, socket_timeout=5, connect_timeout=5, pool_timeout=5) for _ in range(2)]
    prefix = f"t:{uuid.uuid4().hex[:8]}:"
    yield KeyLimiter(clients[0], bg, prefix=prefix), KeyLimiter(clients[1], bg, prefix=prefix), bg
    await bg.drain(5.0)
    for c in clients:
        await c.aclose()


async def refused(limiter: KeyLimiter, p: auth_pb2.Principal, tokens: int = 0) -> error_pb2.Error:
    with pytest.raises(GatewayError) as exc:
        await limiter.acquire(p, tokens, 30)
    return exc.value.error


async def test_rpm_limit_holds_across_replicas(limiters: tuple[KeyLimiter, KeyLimiter, BackgroundTasks]) -> None:
    a, b, _ = limiters
    p = principal(rpm=5)
    results = await asyncio.gather(*[(a if i % 2 else b).acquire(p, 10, 30) for i in range(12)], return_exceptions=True)
    admitted = [r for r in results if not isinstance(r, BaseException)]
    assert len(admitted) == 5, results
    err = await refused(a, p)
    assert err.kind == error_pb2.ERROR_KIND_RATE_LIMIT and err.http_status == 429
    assert "rpm_limit 5" in err.message and 55 <= err.retry_after_seconds <= 60
    # Finishing requests does not give rpm back: it counts requests started in the window.
    for t in admitted:
        a.release(t, 10)
    await refused(b, p)


async def test_parallel_limit_frees_slots_when_requests_end(
    limiters: tuple[KeyLimiter, KeyLimiter, BackgroundTasks],
) -> None:
    a, b, bg = limiters
    p = principal(parallel=2)
    first = await a.acquire(p, 0, 30)
    await b.acquire(p, 0, 30)
    err = await refused(a, p)
    assert "max_parallel_requests 2" in err.message
    a.release(first, 0)
    a.release(first, 0)  # a second release of the same request changes nothing
    await bg.drain(5.0)
    await b.acquire(p, 0, 30)
    await refused(a, p)


async def test_tpm_counts_actual_tokens_once_known(limiters: tuple[KeyLimiter, KeyLimiter, BackgroundTasks]) -> None:
    a, b, bg = limiters
    p = principal(tpm=100)
    t = await a.acquire(p, 60, 30)
    err = await refused(b, p, 60)  # 60 estimated + 60 > 100
    assert "tpm_limit 100" in err.message
    a.release(t, 15)  # the answer came back: 15 tokens in all
    await bg.drain(5.0)
    t2 = await b.acquire(p, 60, 30)  # 15 + 60 <= 100
    b.release(t2, 90)  # 15 + 90 = 105: over the limit now
    await bg.drain(5.0)
    await refused(a, p, 1)


async def test_keys_without_limits_never_touch_redis() -> None:
    # No Redis at all: a key without limits is admitted without a call.
    limiter = KeyLimiter(None, BackgroundTasks())
    assert await limiter.acquire(principal(), 10**6, 30) is None


async def test_redis_outage_falls_back_to_local_limits() -> None:
    bg = BackgroundTasks()
    dead = create_redis("redis://127.0.0.1:9/0", socket_timeout=0.2, connect_timeout=0.2)
    limiter = KeyLimiter(dead, bg, retry_seconds=60)
    p = principal(rpm=2, parallel=1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    first = await limiter.acquire(p, 0, 30)
    assert first is not None and first.local
    assert "max_parallel_requests 1" in (await refused(limiter, p)).message
    limiter.release(first, 0)
    await limiter.acquire(p, 0, 30)
    assert "rpm_limit 2" in (await refused(limiter, p)).message
    assert loop.time() - started < 1.0, "one failed Redis call, then local decisions without waiting"
    await dead.aclose()


async def test_a_team_limit_holds_across_its_keys_and_replicas_and_names_the_team(
    limiters: tuple[KeyLimiter, KeyLimiter, BackgroundTasks],
) -> None:
    a, b, _ = limiters
    team = uuid.uuid4().hex
    keys = [
        auth_pb2.Principal(
            account_id="acct",
            key_hash=uuid.uuid4().hex,
            team_id=team,
            team_rate_limits=auth_pb2.RateLimits(rpm_limit=3),
        )
        for _ in range(2)
    ]
    for i in range(3):
        await (a if i % 2 else b).acquire(keys[i % 2], 0, 30)
    for p in keys:
        err = await refused(a, p)
        assert err.http_status == 429 and f"Rate limit reached for team '{team}': rpm_limit 3" in err.message
    # The same team id in another account is another team.
    elsewhere = auth_pb2.Principal(
        account_id="other", key_hash=uuid.uuid4().hex, team_id=team, team_rate_limits=auth_pb2.RateLimits(rpm_limit=3)
    )
    assert await b.acquire(elsewhere, 0, 30) is not None


async def test_an_end_users_limit_holds_across_keys(limiters: tuple[KeyLimiter, KeyLimiter, BackgroundTasks]) -> None:
    a, b, _ = limiters
    customer = customers_pb2.Customer(user_id="c", rate_limits=auth_pb2.RateLimits(max_parallel_requests=1))
    first, second = principal(), principal()
    await a.acquire(first, 0, 30, end_user="c", customer=customer)
    with pytest.raises(GatewayError) as exc:
        await b.acquire(second, 0, 30, end_user="c", customer=customer)
    assert "end user 'c': max_parallel_requests 1" in exc.value.error.message
    assert await b.acquire(second, 0, 30, end_user="d", customer=None) is None
