"""Routing strategies: the order in which a group's deployments are tried.

Every strategy keeps LiteLLM's `order` tiers (lower first) and ranks deployments inside a tier.
``least-busy`` and ``usage-based-routing`` rank by shared counters; their final choice is made
atomically at admission (clients/state.py), so this order is the tie-breaker there."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from switchyard_llm.shuffle import weighted_order
from switchyard_router.domain.registry import Candidate


@dataclass(frozen=True, slots=True)
class LatencySample:
    """Smoothed latency of one deployment (milliseconds) and when it was last updated."""

    latency_ms: float
    ttft_ms: float
    updated_at: float
    count: int = 1


def shuffle_weights(cands: Sequence[Candidate]) -> list[float]:
    """LiteLLM's simple-shuffle weights: `weight`, else `rpm`, else `tpm`, else uniform. A
    deployment that leaves the chosen field unset gets the others' mean."""
    for pick in (
        lambda c: c.weight,
        lambda c: float(c.rpm) if c.rpm else None,
        lambda c: float(c.tpm) if c.tpm else None,
    ):
        values = [pick(c) for c in cands]
        given = [v for v in values if v is not None]
        if given:
            mean = sum(given) / len(given)
            return [max(0.0, v if v is not None else mean) for v in values]
    return [1.0] * len(cands)


def weighted_shuffle(cands: Sequence[Candidate], rng: random.Random) -> list[Candidate]:
    """A random order where each position is drawn in proportion to weight; zero-weight
    deployments go last."""
    return [cands[i] for i in weighted_order(shuffle_weights(cands), rng)]


def _by_tier(cands: Sequence[Candidate], rank: Callable[[Sequence[Candidate]], list[Candidate]]) -> list[Candidate]:
    if all(c.order == cands[0].order for c in cands):
        return rank(cands)
    tiers: dict[int, list[Candidate]] = {}
    for c in cands:
        tiers.setdefault(c.order, []).append(c)
    out: list[Candidate] = []
    for order in sorted(tiers):
        out.extend(rank(tiers[order]))
    return out


def order_candidates(
    strategy: str,
    cands: Sequence[Candidate],
    *,
    rng: random.Random,
    stream: bool = False,
    latency: Mapping[str, LatencySample] | None = None,
    latency_ttl: float = 3600.0,
    latency_buffer: float = 0.0,
    in_flight: Mapping[str, int] | None = None,
    usage_tpm: Mapping[str, int] | None = None,
    now: float = 0.0,
) -> list[Candidate]:
    if strategy == "latency-based-routing":
        return _by_tier(
            cands, lambda t: lowest_latency(t, latency or {}, rng, stream, now, latency_ttl, latency_buffer)
        )
    if strategy == "cost-based-routing":
        return _by_tier(cands, lambda t: lowest_cost(t, rng))
    if strategy == "least-busy":
        return _by_tier(cands, lambda t: least_busy(t, in_flight or {}, rng))
    if strategy in ("usage-based-routing", "usage-based-routing-v2"):
        return _by_tier(cands, lambda t: lowest_usage(t, usage_tpm or {}, rng))
    return _by_tier(cands, lambda t: weighted_shuffle(t, rng))


def lowest_latency(
    cands: Sequence[Candidate],
    stats: Mapping[str, LatencySample],
    rng: random.Random,
    stream: bool,
    now: float,
    ttl: float,
    buffer: float,
) -> list[Candidate]:
    """Fastest first (time to first token for streams). Deployments without a recent sample
    go first so they get measured; those within ``buffer`` of the fastest share the lead."""
    measured: list[tuple[float, Candidate]] = []
    unknown: list[Candidate] = []
    for c in cands:
        s = stats.get(c.id)
        value = None
        if s is not None and (not ttl or now - s.updated_at <= ttl):
            value = (s.ttft_ms or s.latency_ms) if stream else s.latency_ms
        if value is None or value <= 0:
            unknown.append(c)
        else:
            measured.append((value, c))
    rng.shuffle(unknown)
    measured.sort(key=lambda t: t[0])
    if measured and buffer > 0:
        limit = measured[0][0] * (1 + buffer)
        lead = [t for t in measured if t[0] <= limit]
        rest = measured[len(lead) :]
        rng.shuffle(lead)
        measured = lead + rest
    return unknown + [c for _, c in measured]


def lowest_cost(cands: Sequence[Candidate], rng: random.Random) -> list[Candidate]:
    """Cheapest per token first; deployments with no known price last."""
    shuffled = list(cands)
    rng.shuffle(shuffled)
    return sorted(shuffled, key=lambda c: (c.cost is None, c.cost or 0.0))


def least_busy(cands: Sequence[Candidate], in_flight: Mapping[str, int], rng: random.Random) -> list[Candidate]:
    shuffled = list(cands)
    rng.shuffle(shuffled)
    return sorted(shuffled, key=lambda c: in_flight.get(c.id, 0))


def lowest_usage(cands: Sequence[Candidate], tpm_used: Mapping[str, int], rng: random.Random) -> list[Candidate]:
    """Lowest share of its tpm used this minute first (raw tokens when no tpm is set)."""
    shuffled = list(cands)
    rng.shuffle(shuffled)

    def share(c: Candidate) -> float:
        used = tpm_used.get(c.id, 0)
        return used / c.tpm if c.tpm else float(used)

    return sorted(shuffled, key=share)
