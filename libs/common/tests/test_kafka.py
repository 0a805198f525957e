"""The Kafka helpers against a real broker: buffering through an outage, the on-disk spool,
and commit-after-effect consumption."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from aiokafka.structs import ConsumerRecord

from switchyard_common.kafka import EventConsumer, EventProducer, KafkaSettings, PoisonMessage


async def _collect(
    settings: KafkaSettings, topic: str, n: int, group: str, fail_once: set[bytes] | None = None, timeout: float = 30
) -> list[bytes]:
    got: list[bytes] = []
    done = asyncio.Event()
    failed: set[bytes] = set()

    async def handler(rec: ConsumerRecord[bytes, bytes]) -> None:
        value = rec.value or b""
        if value == b"poison":
            raise PoisonMessage("test poison")
        if fail_once and value in fail_once and value not in failed:
            failed.add(value)
            raise RuntimeError("transient failure")
        got.append(value)
        if len(got) >= n:
            done.set()

    consumer = EventConsumer(settings, group_id=group, topics=[topic], handler=handler, client_id="test")
    await consumer.start()
    try:
        await asyncio.wait_for(done.wait(), timeout)
        await asyncio.sleep(0.5)  # let the commit of the last batch happen
    finally:
        await consumer.stop()
    return got


async def test_events_survive_an_unreachable_broker_via_the_spool(kafka_bootstrap: str, tmp_path: Path) -> None:
    topic = f"t-{uuid.uuid4().hex[:8]}"
    dead = KafkaSettings(bootstrap_servers="127.0.0.1:9")  # nothing listens there
    producer = EventProducer(dead, client_id="t", topics=[topic], spool_dir=tmp_path / "spool")
    await producer.start()
    values = [f"event-{i}".encode() for i in range(20)]
    for v in values:
        producer.publish(topic, v, key=b"acct")  # never blocks while the broker is away
    await asyncio.sleep(0.5)
    assert producer.backlog == 20
    await producer.stop(timeout=0.2)
    assert list((tmp_path / "spool").glob("spool-*.jsonl")), "unsent events are kept on disk"

    live = KafkaSettings(bootstrap_servers=kafka_bootstrap)
    producer2 = EventProducer(live, client_id="t", topics=[topic], spool_dir=tmp_path / "spool")
    await producer2.start()
    assert await producer2.flush(30)
    await producer2.stop()
    assert not list((tmp_path / "spool").glob("spool-*.jsonl")), "the spool is emptied once acknowledged"
    got = await _collect(live, topic, 20, group=f"g-{uuid.uuid4().hex[:6]}")
    assert got == values


async def test_consumer_retries_a_failing_record_and_skips_poison(kafka_bootstrap: str, tmp_path: Path) -> None:
    topic = f"t-{uuid.uuid4().hex[:8]}"
    live = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_partitions=1)
    producer = EventProducer(live, client_id="t", topics=[topic], spool_dir=tmp_path)
    await producer.start()
    for v in (b"a", b"poison", b"b", b"c"):
        producer.publish(topic, v)
    assert await producer.flush(30)
    await producer.stop()
    group = f"g-{uuid.uuid4().hex[:6]}"
    got = await _collect(live, topic, 3, group=group, fail_once={b"b"})
    assert got == [b"a", b"b", b"c"], "the failed record was applied after its retry, in order"
    # Everything was committed: the same group sees only new records.
    producer = EventProducer(live, client_id="t", topics=[topic], spool_dir=tmp_path)
    await producer.start()
    producer.publish(topic, b"d")
    assert await producer.flush(30)
    await producer.stop()
    assert await _collect(live, topic, 1, group=group) == [b"d"]


async def test_broadcast_readers_each_get_every_new_event(kafka_bootstrap: str, tmp_path: Path) -> None:
    """Readers without a group (the edge's identity reader) each see every event published after
    they connect, and none from before."""
    topic = f"t-{uuid.uuid4().hex[:8]}"
    live = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_partitions=3)
    producer = EventProducer(live, client_id="t", topics=[topic], spool_dir=tmp_path)
    await producer.start()
    producer.publish(topic, b"old", key=b"k0")
    assert await producer.flush(30)
    seen: list[list[bytes]] = [[], []]

    def reader(i: int) -> EventConsumer:
        async def handler(rec: ConsumerRecord[bytes, bytes]) -> None:
            seen[i].append(rec.value or b"")

        return EventConsumer(live, group_id=None, topics=[topic], handler=handler, client_id=f"r{i}")

    readers = [reader(0), reader(1)]
    for r in readers:
        await r.start()
    try:
        for _ in range(300):
            if all(r.connected for r in readers):
                break
            await asyncio.sleep(0.05)
        assert all(r.connected for r in readers)
        new = [f"new-{i}".encode() for i in range(6)]
        for i, v in enumerate(new):
            producer.publish(topic, v, key=f"k{i}".encode())  # spread over the partitions
        assert await producer.flush(30)
        for _ in range(200):
            if all(len(s) >= len(new) for s in seen):
                break
            await asyncio.sleep(0.05)
        assert [sorted(s) for s in seen] == [sorted(new), sorted(new)]
    finally:
        for r in readers:
            await r.stop()
        await producer.stop()
