"""asyncio helpers: the event loop policy and background tasks that are never lost."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


def install_uvloop() -> None:
    import uvloop

    uvloop.install()


class BackgroundTasks:
    """Holds references to fire-and-forget tasks (so they are not garbage collected mid-flight),
    logs their failures, and can wait for the rest at shutdown."""

    def __init__(self, limit: int = 10_000) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._limit = limit

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> bool:
        """Start ``coro`` in the background; returns False (and drops it) when over the limit."""
        if len(self._tasks) >= self._limit:
            coro.close()
            log.warning("background task limit reached; task dropped", extra={"limit": self._limit})
            return False
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return True

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task failed", exc_info=task.exception())

    def __len__(self) -> int:
        return len(self._tasks)

    async def drain(self, timeout: float) -> None:
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)
