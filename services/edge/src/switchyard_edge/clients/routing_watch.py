"""Follows the router's routing generation (RouterService.WatchRouting) and keeps the plan cache
honest: cached plans are dropped whenever the generation moves, and nothing is cached while the
stream is down or silent for longer than its heartbeat allows."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import grpc

from switchyard.router.v1 import router_pb2
from switchyard_edge.clients.peers import Peers
from switchyard_edge.domain.plan_cache import PlanCache

log = logging.getLogger(__name__)

# The router sends a heartbeat every 10 s; a stream silent for longer is treated as down.
_SILENCE_SECONDS = 25.0


class RoutingWatch:
    def __init__(self, peers: Peers, cache: PlanCache) -> None:
        self._peers = peers
        self._cache = cache
        self._generation: int | None = None
        self._last_message = 0.0
        self._task: asyncio.Task[None] | None = None

    @property
    def live(self) -> bool:
        """Whether cached plans may be used now."""
        return self._generation is not None and time.monotonic() - self._last_message < _SILENCE_SECONDS

    def invalidate(self) -> None:
        self._cache.clear()

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="routing-watch")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        backoff = 0.2
        while True:
            try:
                async for msg in self._peers.router.WatchRouting(router_pb2.WatchRoutingRequest()):
                    self._last_message = time.monotonic()
                    if msg.generation != self._generation:
                        self._cache.clear()
                        self._generation = msg.generation
                    backoff = 0.2
            except grpc.aio.AioRpcError as exc:
                log.debug("routing watch interrupted", extra={"code": exc.code().name})
            self._generation = None
            self._cache.clear()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)
