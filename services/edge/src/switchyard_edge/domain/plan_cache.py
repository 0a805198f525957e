"""Plans the router marked cacheable, reused for identical requests.

A plan that depends on no per-request state (static strategy, no admission) is the same for
every request with the same model, caller permissions, tags and options, except for the random
order of its deployments, which each reuse redraws from the weights the router gave. Entries
expire after the router's TTL and are all dropped when the routing generation moves or this edge
sees a deployment fail."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from switchyard.router.v1 import router_pb2
from switchyard_llm.shuffle import tiered_weighted_order


def cache_key(req: router_pb2.PlanRequest) -> bytes:
    """The request without the fields a cacheable plan does not depend on."""
    k = router_pb2.PlanRequest()
    k.CopyFrom(req)
    k.ClearField("estimated_input_tokens")
    k.ClearField("timeout_seconds")
    return k.SerializeToString(deterministic=True)


def reorder(plan: router_pb2.PlanResponse, rng: random.Random) -> router_pb2.PlanResponse:
    """A copy of ``plan`` with each group's deployments in a fresh weighted random order."""
    out = router_pb2.PlanResponse()
    out.CopyFrom(plan)
    for group in out.groups:
        weights = list(group.shuffle_weights)
        if len(weights) < 2 or len(weights) != len(group.deployments):
            continue
        order = tiered_weighted_order(weights, list(group.tiers), rng)
        deps = [group.deployments[i] for i in order]
        del group.deployments[:]
        group.deployments.extend(deps)
    return out


class PlanCache:
    def __init__(
        self,
        *,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self._entries: dict[bytes, tuple[router_pb2.PlanResponse, float]] = {}
        self._max = max_entries
        self._clock = clock
        self._rng = rng or random.Random()

    def get(self, key: bytes) -> router_pb2.PlanResponse | None:
        entry = self._entries.get(key)
        if entry is None or entry[1] <= self._clock():
            return None
        return reorder(entry[0], self._rng)

    def put(self, key: bytes, plan: router_pb2.PlanResponse) -> None:
        if not plan.cache_ttl_ms:
            return
        if len(self._entries) >= self._max:
            self._entries.clear()
        self._entries[key] = (plan, self._clock() + plan.cache_ttl_ms / 1000)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
