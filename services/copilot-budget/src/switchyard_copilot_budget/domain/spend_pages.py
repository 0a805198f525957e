"""Pages of spend log rows: a byte budget per answer, and the token that continues after it.

Rows come newest first, ordered by (start_time, attempt, event_id), all descending; the token
names the last row returned, so the next page starts strictly after it (keyset paging: rows
recorded meanwhile never shift a page, and a page costs an index range, not an OFFSET scan)."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

import orjson

# Largest answer (serialized rows) ListSpendLogs gives; the edge renders it as JSON of about the
# same size. Each row may hold 64 KiB of metadata, so 1000 rows could be 64 MiB without it.
MAX_PAGE_BYTES = 2 * 1024 * 1024


def page_bytes(requested: int) -> int:
    return min(requested, MAX_PAGE_BYTES) if requested > 0 else MAX_PAGE_BYTES


def page_token(start_time: datetime, attempt: int, event_id: str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([start_time.isoformat(), attempt, event_id])).decode()


def parse_page_token(token: str) -> tuple[datetime, int, str]:
    """The (start_time, attempt, event_id) a token names; ValueError when it is not a token."""
    try:
        start, attempt, event_id = orjson.loads(base64.urlsafe_b64decode(token.encode()))
        when = datetime.fromisoformat(start)
    except (ValueError, TypeError, binascii.Error):
        raise ValueError("'page_token' is not a token this server gave") from None
    if not isinstance(attempt, int) or not isinstance(event_id, str) or when.tzinfo is None:
        raise ValueError("'page_token' is not a token this server gave")
    return when, attempt, event_id
