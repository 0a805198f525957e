"""Redis client with bounded waits: every command has a socket timeout and the pool blocks
for at most a short time, so an unreachable Redis fails fast instead of hanging requests."""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis


def create_redis(
    url: str,
    *,
    socket_timeout: float = 0.25,
    connect_timeout: float = 0.25,
    max_connections: int = 64,
    pool_timeout: float = 0.25,
) -> Redis:
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=pool_timeout,
        socket_timeout=socket_timeout,
        socket_connect_timeout=connect_timeout,
        socket_keepalive=True,
        health_check_interval=30,
        retry_on_timeout=False,
    )
    return Redis(connection_pool=pool)
