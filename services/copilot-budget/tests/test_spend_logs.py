"""ListSpendLogs answers within a byte budget and pages on from where it stopped (real PostgreSQL)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import orjson
from google.protobuf import timestamp_pb2

from switchyard.budget.v1 import budget_pb2
from switchyard.events.v1 import usage_pb2
from switchyard_copilot_budget.clients.ledger import Ledger
from switchyard_copilot_budget.clients.reservations import Reservations
from switchyard_copilot_budget.domain.spend_pages import MAX_PAGE_BYTES
from switchyard_copilot_budget.handlers.budget import BudgetServicer


async def _pages(servicer: BudgetServicer, **filters: Any) -> list[budget_pb2.ListSpendLogsResponse]:
    pages = []
    token = ""
    while True:
        req = budget_pb2.ListSpendLogsRequest(page_token=token, **filters)
        page = await servicer.ListSpendLogs(req, None)  # type: ignore[arg-type]
        pages.append(page)
        if not page.next_page_token:
            return pages
        token = page.next_page_token


async def test_answers_stop_at_the_byte_budget_and_page_on(parts: tuple[Ledger, Reservations]) -> None:
    ledger, res = parts
    account = uuid.uuid4().hex
    now = timestamp_pb2.Timestamp()
    now.GetCurrentTime()  # one start time for all: the page token orders by attempt and event id too
    events = []
    for i in range(40):
        request_id = str(uuid.uuid4())
        e = usage_pb2.UsageEvent(
            event_id=f"{request_id}:0",
            request_id=request_id,
            account_id=account,
            success=True,
            cost_usd="0.001",
            start_time=now,
            end_time=now,
            metadata_json=orjson.dumps({"i": i, "blob": "m" * 60_000}),
        )
        events.append((e, Decimal(e.cost_usd), ""))
    await ledger.record_usage_batch(events)
    servicer = BudgetServicer(ledger, res, max_ttl=60)

    pages = await _pages(servicer, account_id=account, limit=1000)
    assert len(pages) == 2 and all(p.ByteSize() <= MAX_PAGE_BYTES for p in pages)
    ids = [log.event_id for p in pages for log in p.logs]
    assert sorted(ids) == sorted(e.event_id for e, _, _ in events), "every row once"

    small = await _pages(servicer, account_id=account, limit=1000, max_bytes=200_000)
    assert len(small) == 14 and all(len(p.logs) == 3 for p in small[:-1])
    assert [log.event_id for p in small for log in p.logs] == ids, "the same rows in the same order"

    by_count = await _pages(servicer, account_id=account, limit=7)
    assert [len(p.logs) for p in by_count] == [7, 7, 7, 7, 7, 5]
    assert [log.event_id for p in by_count for log in p.logs] == ids
