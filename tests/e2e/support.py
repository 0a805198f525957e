"""Helpers shared by the end-to-end tests."""

from __future__ import annotations

import time
from typing import Any

import httpx

MASTER_KEY = "sk-e2e-master-key-not-secret-0000"
# The signing key of the fake identity provider's webhook (a Zitadel Actions v2 target).
ACTIONS_SIGNING_KEY = "e2e-actions-signing-key-not-secret"


def wait_for_spend(
    http: httpx.Client, request_id: str, *, count: int = 1, timeout: float = 30.0
) -> list[dict[str, Any]]:
    """Poll /spend/logs until the request's rows arrive (they travel through Kafka)."""
    deadline = time.monotonic() + timeout
    rows: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        resp = http.get("/spend/logs", params={"request_id": request_id})
        resp.raise_for_status()
        rows = resp.json()
        if len(rows) >= count:
            return rows
        time.sleep(0.2)
    raise AssertionError(f"spend rows for {request_id} did not arrive within {timeout}s (have {len(rows)})")
