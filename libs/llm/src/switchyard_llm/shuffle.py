"""Weighted random orders (LiteLLM's simple-shuffle), shared by the router that plans and the
edge that reorders cached plans per request."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence


def weighted_order(weights: Sequence[float], rng: random.Random) -> list[int]:
    """Indexes in a random order where each position is drawn in proportion to weight
    (Efraimidis-Spirakis keys); zero-weight entries go last."""
    n = len(weights)
    if n < 2:
        return list(range(n))
    if all(w == weights[0] for w in weights) and weights[0] > 0:
        order = list(range(n))
        rng.shuffle(order)
        return order
    keyed = []
    for i, w in enumerate(weights):
        key = math.log(rng.random() or 1e-300) / w if w > 0 else -math.inf
        keyed.append((key, rng.random(), i))
    keyed.sort(reverse=True)
    return [i for _, _, i in keyed]


def tiered_weighted_order(weights: Sequence[float], tiers: Sequence[int], rng: random.Random) -> list[int]:
    """``weighted_order`` inside each tier, lower tiers first."""
    if not tiers or all(t == tiers[0] for t in tiers):
        return weighted_order(weights, rng)
    out: list[int] = []
    for tier in sorted(set(tiers)):
        idx = [i for i, t in enumerate(tiers) if t == tier]
        out.extend(idx[j] for j in weighted_order([weights[i] for i in idx], rng))
    return out
