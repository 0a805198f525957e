"""LiteLLM-style durations (``30s``, ``15m``, ``1h``, ``7d``, ``2w``, ``1mo``) as used by
``duration`` and ``budget_duration`` on keys."""

from __future__ import annotations

import re

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w|mo)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "mo": 30 * 86400}
MAX_DURATION_SECONDS = 100 * 365 * 86400


def duration_seconds(value: str) -> int:
    """Seconds in ``value``; ValueError when it is not a duration or is longer than 100 years
    (or zero: a window must have a length)."""
    m = _DURATION.match(value or "")
    if not m:
        raise ValueError("must look like 30s, 1h, 7d or 1mo")
    seconds = int(m.group(1)) * _UNIT_SECONDS[m.group(2)]
    if seconds > MAX_DURATION_SECONDS:
        raise ValueError("must be at most 100 years")
    if seconds == 0:
        raise ValueError("must be longer than zero")
    return seconds
