"""Pooled HTTP/1.1 keep-alive connections, one aiohttp session per upstream origin."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import aiohttp


class HttpPool:
    def __init__(self, *, max_per_host: int, keepalive: float, connect_timeout: float) -> None:
        self._sessions: dict[str, aiohttp.ClientSession] = {}
        self._max = max_per_host
        self._keepalive = keepalive
        self._connect_timeout = connect_timeout
        self._lock = asyncio.Lock()

    def session(self, url: str) -> aiohttp.ClientSession:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        s = self._sessions.get(origin)
        if s is None or s.closed:
            connector = aiohttp.TCPConnector(
                limit=0,
                limit_per_host=self._max,
                keepalive_timeout=self._keepalive,
                ttl_dns_cache=300,
                enable_cleanup_closed=True,
            )
            s = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=self._connect_timeout),
                auto_decompress=True,
                skip_auto_headers=("User-Agent",),
                headers={"user-agent": "switchyard/0.1"},
            )
            self._sessions[origin] = s
        return s

    async def close(self) -> None:
        sessions, self._sessions = list(self._sessions.values()), {}
        for s in sessions:
            await s.close()
