"""The usage consumer never stops for one event: values PostgreSQL cannot store are cleaned, an
event that cannot be read is dead-lettered, and the rest of the batch lands (real PostgreSQL,
Redis and Kafka)."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from aiokafka.structs import ConsumerRecord
from google.protobuf import timestamp_pb2

from switchyard.budget.v1 import budget_pb2
from switchyard.events.v1 import dead_letter_pb2, usage_pb2
from switchyard_common.db import transient_error
from switchyard_common.kafka import EventConsumer, EventProducer, KafkaSettings
from switchyard_copilot_budget.clients.ledger import Ledger
from switchyard_copilot_budget.clients.reservations import Reservations
from switchyard_copilot_budget.consumers import UsageHandler


def _event(account: str, **fields: Any) -> usage_pb2.UsageEvent:
    now = timestamp_pb2.Timestamp()
    now.GetCurrentTime()
    request_id = str(uuid.uuid4())
    return usage_pb2.UsageEvent(
        event_id=f"{request_id}:0",
        request_id=request_id,
        account_id=account,
        key_hash="k" * 64,
        success=True,
        cost_usd="0.01",
        start_time=now,
        end_time=now,
        **fields,
    )


def _record(value: bytes, offset: int) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord("usage", 0, offset, 0, 0, b"acct", value, None, len(value), 0, [])


async def _rows(ledger: Ledger, account: str) -> dict[str, Any]:
    req = budget_pb2.ListSpendLogsRequest(account_id=account)
    return {r["event_id"]: r async for r in ledger.spend_logs(req, 100)}


async def test_values_postgresql_cannot_store_are_cleaned_and_the_batch_lands(
    parts: tuple[Ledger, Reservations],
) -> None:
    ledger, res = parts
    account = uuid.uuid4().hex
    # As an older edge (before requests were checked) would have sent them.
    dirty = _event(
        account,
        end_user="cust\x00omer",
        tags=["a\x00b", "ok"],
        metadata_json=orjson.dumps({"k\x00ey": ["v\x00", {"n": 1}]}),
        error_message="provider said \x00",
    )
    huge = _event(account, metadata_json=orjson.dumps({"blob": "x" * 100_000}))
    broken = _event(account, metadata_json=b"{not json")
    before, after = _event(account), _event(account)
    batch = [before, dirty, huge, broken, after]
    rejected = await UsageHandler(ledger, res)([_record(e.SerializeToString(), i) for i, e in enumerate(batch)])
    assert rejected == []
    rows = await _rows(ledger, account)
    assert set(rows) == {e.event_id for e in batch}, "every event of the batch is in the ledger"
    row = rows[dirty.event_id]
    assert row["end_user"] == "customer" and list(row["tags"]) == ["ab", "ok"]
    assert row["metadata"] == {"key": ["v", {"n": 1}]} and row["error_message"] == "provider said "
    assert rows[huge.event_id]["metadata"] == {"switchyard_metadata_dropped_bytes": len(huge.metadata_json)}
    assert rows[broken.event_id]["metadata"] == {}
    assert sum((r["spend"] for r in rows.values()), Decimal(0)) == Decimal("0.05")


async def test_an_unreadable_event_is_dead_lettered_and_the_rest_applied(
    parts: tuple[Ledger, Reservations], kafka_bootstrap: str, tmp_path: Path
) -> None:
    ledger, res = parts
    account = uuid.uuid4().hex
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=f"t{uuid.uuid4().hex[:8]}-")
    topic = kafka.topic("usage")
    producer = EventProducer(kafka, client_id="copilot-budget", topics=[topic], spool_dir=tmp_path)
    await producer.start()
    good = [_event(account), _event(account, end_user="nul\x00"), _event(account)]
    producer.publish(topic, good[0].SerializeToString(), key=account.encode())
    producer.publish(topic, b"\xff not a usage event", key=account.encode())
    for e in good[1:]:
        producer.publish(topic, e.SerializeToString(), key=account.encode())
    assert await producer.flush(30)
    consumer = EventConsumer(
        kafka,
        group_id="copilot-budget.usage",
        topics=[topic],
        batch_handler=UsageHandler(ledger, res),
        client_id="copilot-budget",
        dead_letters=producer,
        transient=transient_error,
    )
    await consumer.start()
    try:
        async with asyncio.timeout(30):
            while len(await _rows(ledger, account)) < 3:
                await asyncio.sleep(0.1)
    finally:
        await consumer.stop()
    assert set(await _rows(ledger, account)) == {e.event_id for e in good}
    letters: list[dead_letter_pb2.DeadLetter] = []
    reader = EventConsumer(
        kafka,
        group_id="operator",
        topics=[producer.dead_letter_topic],
        handler=lambda r: _append(letters, r),
        client_id="operator",
    )
    await reader.start()
    try:
        async with asyncio.timeout(30):
            while not letters:
                await asyncio.sleep(0.1)
    finally:
        await reader.stop()
        await producer.stop()
    [dl] = letters
    assert dl.source_topic == topic and dl.value == b"\xff not a usage event" and dl.key == account.encode()
    assert dl.consumer_group == "copilot-budget.usage" and dl.reason.startswith("undecodable usage event")


async def _append(letters: list[dead_letter_pb2.DeadLetter], record: ConsumerRecord[bytes, bytes]) -> None:
    letters.append(dead_letter_pb2.DeadLetter.FromString(record.value or b""))
