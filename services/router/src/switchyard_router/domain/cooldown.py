"""Deployment cooldowns (this process's view)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from switchyard.llm.v1 import error_pb2

K = error_pb2.ErrorKind

# Errors that cool a deployment down at once (LiteLLM: 429, and 401/404/408 are not retryable).
_IMMEDIATE = frozenset(
    {K.ERROR_KIND_RATE_LIMIT, K.ERROR_KIND_AUTHENTICATION, K.ERROR_KIND_NOT_FOUND, K.ERROR_KIND_TIMEOUT}
)
# Errors that say nothing about the deployment's health.
_IGNORED = frozenset(
    {
        K.ERROR_KIND_BAD_REQUEST,
        K.ERROR_KIND_CONTEXT_WINDOW_EXCEEDED,
        K.ERROR_KIND_CONTENT_POLICY_VIOLATION,
        K.ERROR_KIND_UNSUPPORTED_PARAMS,
        K.ERROR_KIND_UNPROCESSABLE,
        K.ERROR_KIND_GUARDRAIL_BLOCKED,
    }
)


class Cooldowns:
    def __init__(
        self, *, cooldown_seconds: float = 5.0, allowed_fails: int = 3, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.cooldown_seconds = cooldown_seconds
        self.allowed_fails = allowed_fails
        self._clock = clock
        self._until: dict[str, float] = {}
        self._fails: dict[str, list[float]] = {}

    def cooling(self, deployment_id: str) -> bool:
        until = self._until.get(deployment_id)
        if until is None:
            return False
        if until <= self._clock():
            del self._until[deployment_id]
            return False
        return True

    def min_remaining(self, ids: Iterable[str]) -> float | None:
        now = self._clock()
        left = [self._until[i] - now for i in ids if i in self._until and self._until[i] > now]
        return min(left) if left else None

    def record(self, deployment_id: str, *, success: bool, kind: int, retry_after: float | None = None) -> None:
        if success or kind in _IGNORED:
            return
        now = self._clock()
        if kind in _IMMEDIATE:
            self._until[deployment_id] = now + max(self.cooldown_seconds, retry_after or 0)
            return
        fails = [t for t in self._fails.get(deployment_id, []) if t > now - 60] + [now]
        self._fails[deployment_id] = fails
        if len(fails) > self.allowed_fails:
            self._until[deployment_id] = now + self.cooldown_seconds
            self._fails[deployment_id] = []
