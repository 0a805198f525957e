"""Results of the background health checks (a real minimal call per deployment)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class HealthResult:
    healthy: bool
    error: str = ""
    checked_at: float = 0.0
    latency_ms: float = 0.0


class HealthBook:
    """The latest result per deployment id (this replica's checks and those shared by others)."""

    def __init__(self, on_flip: Callable[[], None] | None = None) -> None:
        self._results: dict[str, HealthResult] = {}
        # Called when a deployment turns healthy or unhealthy.
        self._on_flip = on_flip

    def get(self, deployment_id: str) -> HealthResult | None:
        return self._results.get(deployment_id)

    def put(self, deployment_id: str, result: HealthResult) -> None:
        current = self._results.get(deployment_id)
        if current is None or result.checked_at >= current.checked_at:
            self._results[deployment_id] = result
            flipped = (current.healthy if current else True) != result.healthy
            if flipped and self._on_flip is not None:
                self._on_flip()

    def merge(self, results: Mapping[str, HealthResult]) -> None:
        for k, v in results.items():
            self.put(k, v)

    def unhealthy(self, deployment_id: str) -> bool:
        r = self._results.get(deployment_id)
        return r is not None and not r.healthy

    def any_checked(self) -> bool:
        return bool(self._results)
