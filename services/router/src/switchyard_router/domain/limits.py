"""Per-deployment rpm/tpm/parallel admission, in the router's words: a plan's candidates are
rate-limit candidates of one scope each (the deployment), closed while the deployment cools down.
The rules and the limiter are shared with the edge (``switchyard_common.rate_limits`` and, in
Redis, ``switchyard_common.rate_limiter``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from switchyard_common import rate_limits
from switchyard_common.rate_limits import Candidate, Scope

REASONS = {
    rate_limits.RPM: "rpm limit reached",
    rate_limits.TPM: "tpm limit reached",
    rate_limits.PARALLEL: "max_parallel_requests reached",
    rate_limits.CLOSED: "cooling down",
}


@dataclass(frozen=True, slots=True)
class LimitSpec:
    id: str
    rpm: int = 0
    tpm: int = 0
    max_parallel: int = 0
    order: int = 0


@dataclass(frozen=True, slots=True)
class Admission:
    # Position of the admitted candidate, -1 when none has room.
    index: int
    # When refused: seconds until one of them may have room.
    wait: float = 0.0
    reason: str = ""


def candidates(specs: Sequence[LimitSpec]) -> list[Candidate]:
    """The deployments as candidates: one scope each, named by the deployment id (which is also
    the name it cools down under)."""
    return [
        Candidate((Scope(s.id, rpm=s.rpm, tpm=s.tpm, parallel=s.max_parallel),), order=s.order, gate=s.id)
        for s in specs
    ]


def admission(result: rate_limits.Admission) -> Admission:
    if result.index >= 0:
        return Admission(result.index)
    return Admission(-1, result.wait, REASONS.get(result.which, "no deployment"))
