"""The Kafka helpers against a real broker: buffering through an outage, the on-disk spool,
commit-after-effect consumption, and records set aside (dead-lettered) instead of blocking."""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka.structs import ConsumerRecord

from switchyard.events.v1 import dead_letter_pb2
from switchyard_common.kafka import (
    EventConsumer,
    EventProducer,
    KafkaSettings,
    PoisonMessage,
    Rejected,
    ensure_topics,
)


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


def _prefixed(kafka_bootstrap: str, **kw: Any) -> KafkaSettings:
    """Settings whose topics (the dead-letter topic too) belong to this test alone."""
    return KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=f"t{uuid.uuid4().hex[:8]}-", **kw)


async def _dead_letters(settings: KafkaSettings, n: int) -> list[dead_letter_pb2.DeadLetter]:
    got = await _collect(settings, settings.topic("dead-letter"), n, group=f"g-{uuid.uuid4().hex[:6]}")
    return [dead_letter_pb2.DeadLetter.FromString(v) for v in got]


async def test_a_record_too_large_for_kafka_is_dead_lettered_and_the_rest_go_on(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    live = _prefixed(kafka_bootstrap, topic_partitions=1)
    topic = live.topic("usage")
    producer = EventProducer(live, client_id="edge", topics=[topic], spool_dir=tmp_path)
    await producer.start()
    good = [f"event-{i}".encode() for i in range(10)]
    big = b"x" * (2 * 1024 * 1024)  # over the producer's 1 MiB record limit
    for v in good[:5]:
        producer.publish(topic, v, key=b"acct")
    producer.publish(topic, big, key=b"acct", headers=[("traceparent", b"00-abc")])
    for v in good[5:]:
        producer.publish(topic, v, key=b"acct")
    assert await producer.flush(20), "the records after the big one were held up"
    await producer.stop()
    assert await _collect(live, topic, 10, group=f"g-{uuid.uuid4().hex[:6]}") == good
    [dl] = await _dead_letters(live, 1)
    assert dl.source_topic == topic and dl.source_offset == -1 and dl.key == b"acct"
    assert dl.stage == dead_letter_pb2.DEAD_LETTER_STAGE_PRODUCE and dl.service == "edge"
    assert "MessageSizeTooLarge" in dl.reason and dl.value_size == len(big) and big.startswith(dl.value)
    assert [(h.key, h.value) for h in dl.headers] == [("traceparent", b"00-abc")]


async def test_a_batch_the_broker_refuses_as_too_large_goes_on_without_its_big_record(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """A broker (or topic) limit below the producer's: Kafka refuses the whole batch holding the
    big record; each record of it is tried alone and only the big one is set aside."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    live = _prefixed(kafka_bootstrap, topic_partitions=1)
    topic = live.topic("usage")
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 1, 1, topic_configs={"max.message.bytes": "20000"})])
    finally:
        await admin.close()
    producer = EventProducer(live, client_id="edge", topics=[topic], spool_dir=tmp_path)
    await producer.start()
    good = [f"event-{i}".encode() for i in range(6)]
    for v in good[:3]:
        producer.publish(topic, v, key=b"acct")
    producer.publish(topic, b"y" * 50_000, key=b"acct")
    for v in good[3:]:
        producer.publish(topic, v, key=b"acct")
    assert await producer.flush(20), "the batch holding the big record was retried for ever"
    await producer.stop()
    assert await _collect(live, topic, 6, group=f"g-{uuid.uuid4().hex[:6]}") == good
    [dl] = await _dead_letters(live, 1)
    assert dl.source_topic == topic and dl.value_size == 50_000 and "TooLarge" in dl.reason


async def test_a_poison_event_is_dead_lettered_and_the_rest_of_its_batch_applied(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    live = _prefixed(kafka_bootstrap, topic_partitions=1)
    topic = live.topic("usage")
    producer = EventProducer(live, client_id="copilot-budget", topics=[topic], spool_dir=tmp_path)
    await producer.start()
    values = [b"a", b"b", b"c", b"poison", b"d", b"e", b"f"]
    for v in values:
        producer.publish(topic, v, key=b"acct")
    assert await producer.flush(30)
    applied: list[bytes] = []
    done = asyncio.Event()

    async def handler(records: list[ConsumerRecord[bytes, bytes]]) -> list[Rejected]:
        # Like the ledger: one transaction for the batch, refused as a whole for one bad value.
        if any(r.value == b"poison" for r in records):
            raise ValueError("value the store refuses")
        applied.extend(r.value or b"" for r in records)
        if len(applied) >= 6:
            done.set()
        return []

    group = f"g-{uuid.uuid4().hex[:6]}"
    consumer = EventConsumer(
        live, group_id=group, topics=[topic], batch_handler=handler, client_id="copilot-budget", dead_letters=producer
    )
    await consumer.start()
    try:
        async with asyncio.timeout(30):
            await done.wait()
    finally:
        await consumer.stop()
    assert applied == [b"a", b"b", b"c", b"d", b"e", b"f"]
    [dl] = await _dead_letters(live, 1)
    await producer.stop()
    assert dl.source_topic == topic and dl.source_partition == 0 and dl.source_offset == 3
    assert dl.value == b"poison" and dl.key == b"acct" and dl.consumer_group == group
    assert dl.stage == dead_letter_pb2.DEAD_LETTER_STAGE_CONSUME and dl.reason == "ValueError: value the store refuses"


async def test_a_transient_failure_is_retried_not_dead_lettered(kafka_bootstrap: str, tmp_path: Path) -> None:
    live = _prefixed(kafka_bootstrap, topic_partitions=1)
    topic = live.topic("usage")
    producer = EventProducer(live, client_id="t", topics=[topic], spool_dir=tmp_path)
    await producer.start()
    producer.publish(topic, b"only")
    assert await producer.flush(30)
    calls: list[int] = []
    done = asyncio.Event()

    async def handler(records: list[ConsumerRecord[bytes, bytes]]) -> list[Rejected]:
        calls.append(len(records))
        if len(calls) <= 4:  # more failures than a poison record is allowed: an outage
            raise ConnectionRefusedError("database unreachable")
        done.set()
        return []

    consumer = EventConsumer(
        live, group_id="g", topics=[topic], batch_handler=handler, client_id="t", dead_letters=producer
    )
    await consumer.start()
    try:
        async with asyncio.timeout(30):
            await done.wait()
    finally:
        await consumer.stop()
        await producer.stop()
    assert calls == [1, 1, 1, 1, 1]


async def test_the_spool_rotates_by_size_and_drains_in_order(kafka_bootstrap: str, tmp_path: Path) -> None:
    topic = f"t-{uuid.uuid4().hex[:8]}"
    dead = KafkaSettings(bootstrap_servers="127.0.0.1:9")
    spool = tmp_path / "spool"
    producer = EventProducer(dead, client_id="t", topics=[topic], spool_dir=spool, spool_file_bytes=4096)
    await producer.start()
    values = [f"event-{i:04d}".encode() for i in range(300)]
    for v in values:
        producer.publish(topic, v, key=b"acct")
    await producer.stop(timeout=0.5)
    files = sorted(spool.glob("spool-*.jsonl"))
    assert len(files) >= 4 and all(f.stat().st_size <= 4096 for f in files), "files are closed at 4 KiB"

    live = KafkaSettings(bootstrap_servers=kafka_bootstrap)
    producer = EventProducer(live, client_id="t", topics=[topic], spool_dir=spool, batch_size=50)
    await producer.start()
    assert await producer.flush(30)
    await producer.stop()
    assert not list(spool.glob("spool-*.jsonl"))
    assert await _collect(live, topic, 300, group=f"g-{uuid.uuid4().hex[:6]}") == values


def test_the_spool_reads_a_file_a_chunk_at_a_time(tmp_path: Path) -> None:
    from switchyard_common.spool import Record, Spool

    spool = Spool(tmp_path, instance=None, max_file_bytes=1 << 30)
    assert spool.open() == 0
    spool.append([Record("t", None, f"v{i}".encode(), []) for i in range(1000)])
    records, consumed = spool.read(10)
    assert [r.value for r in records] == [f"v{i}".encode() for i in range(10)] and consumed == 10
    records, _ = spool.read(10)
    assert records[0].value == b"v10", "the next chunk starts where the last one stopped"
    assert len(list(tmp_path.glob("spool-*.jsonl"))) == 1


async def test_a_slow_disk_never_stalls_the_event_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from switchyard_common import spool

    slow_append = spool.Spool.append

    def append(self: Any, records: Any) -> None:
        time.sleep(0.3)  # a disk that takes its time (fsync on a busy volume)
        slow_append(self, records)

    monkeypatch.setattr(spool.Spool, "append", append)
    dead = KafkaSettings(bootstrap_servers="127.0.0.1:9")
    producer = EventProducer(dead, client_id="t", spool_dir=tmp_path, max_memory_records=20)
    await producer.start()
    loop = asyncio.get_running_loop()
    gaps: list[float] = []

    async def tick() -> None:
        last = loop.time()
        while True:
            await asyncio.sleep(0.01)
            gaps.append(loop.time() - last)
            last = loop.time()

    ticker = loop.create_task(tick())
    for i in range(40):
        producer.publish("usage", f"event-{i}".encode())
        await asyncio.sleep(0.01)
    ticker.cancel()
    await producer.stop(timeout=0.1)
    assert max(gaps) < 0.2, f"the event loop stalled for {max(gaps):.2f}s"
    lines = b"".join(f.read_bytes() for f in sorted(tmp_path.glob("spool-*.jsonl"))).splitlines()
    assert len(lines) == 40, "every event reached the spool, in order"
    assert [orjson.loads(line)["v"] for line in lines] == [
        base64.b64encode(f"event-{i}".encode()).decode() for i in range(40)
    ]


async def test_a_send_cancelled_at_shutdown_puts_its_batch_back_into_the_spool(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    live = _prefixed(kafka_bootstrap)
    topic = live.topic("later")  # not created yet: the send waits for its metadata
    producer = EventProducer(live, client_id="t", spool_dir=tmp_path)
    await producer.start()
    producer.publish(topic, b"in flight", key=b"acct")
    for _ in range(200):
        if producer.connected and producer.backlog == 1 and not producer._pending:
            break
        await asyncio.sleep(0.05)
    await producer.stop(timeout=0.3)  # cancels the send in the middle
    assert list(tmp_path.glob("spool-*.jsonl")), "the batch in flight was lost"

    await ensure_topics(live, [topic])
    producer = EventProducer(live, client_id="t", spool_dir=tmp_path)
    await producer.start()
    assert await producer.flush(30)
    await producer.stop()
    assert await _collect(live, topic, 1, group=f"g-{uuid.uuid4().hex[:6]}") == [b"in flight"]


async def test_a_new_instance_adopts_the_spool_of_a_stopped_one(kafka_bootstrap: str, tmp_path: Path) -> None:
    """Replicas sharing a spool volume each write their own directory; one that starts takes
    over the files of one that is gone, so a pod replaced while Kafka was down loses nothing."""
    topic = f"t-{uuid.uuid4().hex[:8]}"
    dead = KafkaSettings(bootstrap_servers="127.0.0.1:9")
    gone = EventProducer(dead, client_id="t", topics=[topic], spool_dir=tmp_path, spool_instance="edge-a")
    await gone.start()
    alive = EventProducer(dead, client_id="t", topics=[topic], spool_dir=tmp_path, spool_instance="edge-b")
    await alive.start()
    for i in range(5):
        gone.publish(topic, f"a-{i}".encode(), key=b"acct")
    await gone.stop(timeout=0.1)
    assert list((tmp_path / "edge-a").glob("spool-*.jsonl"))

    live = KafkaSettings(bootstrap_servers=kafka_bootstrap)
    newcomer = EventProducer(live, client_id="t", topics=[topic], spool_dir=tmp_path, spool_instance="edge-c")
    await newcomer.start()
    assert await newcomer.flush(30)
    await newcomer.stop()
    assert not (tmp_path / "edge-a").exists(), "the stopped instance's spool was adopted"
    assert (tmp_path / "edge-b").exists(), "a live instance's spool is left alone"
    await alive.stop(timeout=0.1)
    assert await _collect(live, topic, 5, group=f"g-{uuid.uuid4().hex[:6]}") == [f"a-{i}".encode() for i in range(5)]


async def test_an_unreadable_spool_file_is_dropped_and_the_rest_goes_on(kafka_bootstrap: str, tmp_path: Path) -> None:
    topic = f"t-{uuid.uuid4().hex[:8]}"
    (tmp_path / "spool-00000000000000000001.jsonl").write_bytes(b"torn by a crash\n")
    live = KafkaSettings(bootstrap_servers=kafka_bootstrap)
    producer = EventProducer(live, client_id="t", topics=[topic], spool_dir=tmp_path)
    await producer.start()
    producer.publish(topic, b"after", key=b"acct")
    assert await producer.flush(30)
    await producer.stop()
    assert not list(tmp_path.glob("spool-*.jsonl"))
    assert await _collect(live, topic, 1, group=f"g-{uuid.uuid4().hex[:6]}") == [b"after"]
