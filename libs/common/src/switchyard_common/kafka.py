"""Kafka helpers.

``EventProducer``: an idempotent producer whose ``publish`` never blocks the request path. Records
wait in a bounded in-memory buffer while the broker is unreachable, spill to an on-disk spool when
the buffer is full and at shutdown, and are sent (in order) when the broker is back. Delivery is
at-least-once; consumers apply each event id at most once.

``EventConsumer``: a consumer-group loop that commits an offset only after the handler has stored
the record's effect, and retries a failing handler instead of skipping the record."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from opentelemetry import trace
from opentelemetry.trace import Link, SpanKind
from prometheus_client import Counter, Gauge
from pydantic import BaseModel

from switchyard_common.telemetry import extract_headers

log = logging.getLogger(__name__)
_tracer = trace.get_tracer(__name__)

EVENTS_BUFFERED = Gauge("switchyard_kafka_events_buffered", "Events waiting to be sent", ["topic_group"])
EVENTS_SPOOLED = Gauge("switchyard_kafka_events_spooled", "Events waiting in the on-disk spool")
EVENTS_SENT = Counter("switchyard_kafka_events_sent_total", "Events acknowledged by Kafka", ["topic"])
EVENTS_CONSUMED = Counter("switchyard_kafka_events_consumed_total", "Events applied", ["topic"])
HANDLER_FAILURES = Counter("switchyard_kafka_handler_failures_total", "Handler failures (retried)", ["topic"])


class KafkaSettings(BaseModel):
    """Connection settings; services embed these fields in their own Settings."""

    bootstrap_servers: str
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: str | None = None
    ssl_cafile: str | None = None
    topic_prefix: str = ""
    topic_partitions: int = 3
    replication_factor: int = 1

    def client_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers,
            "security_protocol": self.security_protocol,
        }
        if self.security_protocol in ("SSL", "SASL_SSL"):
            from aiokafka.helpers import create_ssl_context

            kwargs["ssl_context"] = create_ssl_context(cafile=self.ssl_cafile)
        if self.sasl_mechanism:
            kwargs["sasl_mechanism"] = self.sasl_mechanism
            kwargs["sasl_plain_username"] = self.sasl_username
            kwargs["sasl_plain_password"] = self.sasl_password
        return kwargs

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"


class PoisonMessage(Exception):
    """Raised by a handler for a record that can never be applied (undecodable); it is logged
    and skipped. Any other exception makes the consumer retry the record."""


async def ensure_topics(settings: KafkaSettings, names: Sequence[str]) -> None:
    """Create the topics if they do not exist (the broker does not auto-create them)."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(**settings.client_kwargs(), request_timeout_ms=10_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in names if n not in existing]
        if missing:
            await admin.create_topics(
                [
                    NewTopic(
                        name=n, num_partitions=settings.topic_partitions, replication_factor=settings.replication_factor
                    )
                    for n in missing
                ]
            )
            log.info("created Kafka topics", extra={"topics": missing})
    except Exception as exc:
        # Another replica may have created them between list and create.
        if "TopicAlreadyExists" not in type(exc).__name__:
            raise
    finally:
        await admin.close()


@dataclass(slots=True)
class _Record:
    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]

    def to_line(self) -> bytes:
        return (
            orjson.dumps(
                {
                    "t": self.topic,
                    "k": base64.b64encode(self.key).decode() if self.key is not None else None,
                    "v": base64.b64encode(self.value).decode(),
                    "h": [[k, base64.b64encode(v).decode()] for k, v in self.headers],
                }
            )
            + b"\n"
        )

    @staticmethod
    def from_line(line: bytes) -> _Record:
        d = orjson.loads(line)
        return _Record(
            topic=d["t"],
            key=base64.b64decode(d["k"]) if d["k"] is not None else None,
            value=base64.b64decode(d["v"]),
            headers=[(k, base64.b64decode(v)) for k, v in d["h"]],
        )


class _Spool:
    """Append-only files of records not yet acknowledged, oldest first."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self._active: Path | None = None
        self.count = 0
        for path in self.files():
            with path.open("rb") as fh:
                self.count += sum(1 for _ in fh)

    def files(self) -> list[Path]:
        return sorted(self.dir.glob("spool-*.jsonl"))

    def append(self, records: Sequence[_Record]) -> None:
        if not records:
            return
        if self._active is None:
            self._active = self.dir / f"spool-{time.time_ns():020d}.jsonl"
        with self._active.open("ab") as fh:
            fh.write(b"".join(r.to_line() for r in records))
            fh.flush()
            os.fsync(fh.fileno())
        self.count += len(records)
        EVENTS_SPOOLED.set(self.count)

    def take_oldest(self) -> tuple[Path, list[_Record]] | None:
        """Read the oldest file; it is deleted by ``done`` once its records are acknowledged."""
        files = self.files()
        if not files:
            return None
        path = files[0]
        if path == self._active:
            self._active = None  # new spills go to a new file
        records = []
        with path.open("rb") as fh:
            for line in fh:
                line = line.strip()
                if line:
                    try:
                        records.append(_Record.from_line(line))
                    except (ValueError, KeyError):
                        log.error("unreadable spool line skipped", extra={"file": str(path)})
        return path, records

    def done(self, path: Path, n: int) -> None:
        path.unlink(missing_ok=True)
        self.count = max(0, self.count - n)
        EVENTS_SPOOLED.set(self.count)


class EventProducer:
    """Non-blocking, buffering, idempotent Kafka producer (see module docstring)."""

    def __init__(
        self,
        settings: KafkaSettings,
        *,
        client_id: str,
        topics: Sequence[str] = (),
        spool_dir: Path | None = None,
        max_memory_records: int = 100_000,
        batch_size: int = 500,
        linger_ms: int = 20,
    ) -> None:
        self._settings = settings
        self._client_id = client_id
        self._topics = list(topics)
        self._max_memory = max_memory_records
        self._batch = batch_size
        self._linger_ms = linger_ms
        self._pending: deque[_Record] = deque()
        self._spool = _Spool(spool_dir) if spool_dir else None
        self._loaded: tuple[Path, int] | None = None  # spool file being drained, records left
        self._wake = asyncio.Event()
        self._producer: AIOKafkaProducer | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._in_flight = 0
        self._connected = False
        self._topics_ready = False

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def backlog(self) -> int:
        spooled = self._spool.count if self._spool else 0
        return len(self._pending) + self._in_flight + spooled

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="kafka-producer")

    def publish(
        self, topic: str, value: bytes, *, key: bytes | None = None, headers: list[tuple[str, bytes]] | None = None
    ) -> None:
        """Queue one record; never blocks and never raises for a broker outage."""
        record = _Record(topic, key, value, headers or [])
        if len(self._pending) >= self._max_memory:
            if self._spool is None:
                # Without a spool the oldest record has to go; counted and logged loudly.
                self._pending.popleft()
                log.error("event buffer full without a spool; oldest event dropped")
            else:
                self._spool.append([record])
                return
        self._pending.append(record)
        if len(self._pending) == 1:
            self._wake.set()

    async def flush(self, timeout: float) -> bool:
        """Wait until everything queued so far is acknowledged; False on timeout."""
        deadline = time.monotonic() + timeout
        while self.backlog:
            if time.monotonic() > deadline:
                return False
            self._wake.set()
            await asyncio.sleep(0.02)
        return True

    async def stop(self, timeout: float = 5.0) -> None:
        """Flush for up to ``timeout`` seconds, spool what is left, close the connection."""
        await self.flush(timeout)
        self._closing = True
        self._wake.set()
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        if self._pending:
            if self._spool:
                self._spool.append(list(self._pending))
                log.warning("events spooled to disk at shutdown", extra={"count": len(self._pending)})
            else:
                log.error("events lost at shutdown (no spool configured)", extra={"count": len(self._pending)})
            self._pending.clear()
        await self._close_producer()

    async def _close_producer(self) -> None:
        producer, self._producer = self._producer, None
        self._connected = False
        if producer is not None:
            try:
                async with asyncio.timeout(5):
                    await producer.stop()
            except Exception:
                log.debug("producer close failed", exc_info=True)

    async def _connect(self) -> None:
        if not self._topics_ready and self._topics:
            await ensure_topics(self._settings, self._topics)
            self._topics_ready = True
        producer = AIOKafkaProducer(
            **self._settings.client_kwargs(),
            client_id=self._client_id,
            enable_idempotence=True,
            acks="all",
            linger_ms=0,  # batches are formed above
            request_timeout_ms=10_000,
            retry_backoff_ms=200,
            max_batch_size=1024 * 1024,
        )
        try:
            await producer.start()
        except BaseException:
            await producer.stop()
            raise
        self._producer = producer
        self._connected = True
        log.info("connected to Kafka", extra={"backlog": self.backlog})

    def _refill_from_spool(self) -> None:
        # Only when memory is empty, so the loaded file's records are the front of the queue and
        # the file can be deleted exactly when they have all been acknowledged.
        if self._spool is None or self._loaded is not None or self._pending:
            return
        taken = self._spool.take_oldest()
        if taken is None:
            return
        path, records = taken
        self._pending.extend(records)
        self._loaded = (path, len(records))

    async def _run(self) -> None:
        backoff = 0.2
        while not self._closing:
            if self._producer is None:
                try:
                    await self._connect()
                    backoff = 0.2
                except Exception as exc:
                    log.warning(
                        "Kafka unreachable; events are buffered",
                        extra={"error": type(exc).__name__, "backlog": self.backlog},
                    )
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
            self._refill_from_spool()
            if not self._pending:
                self._wake.clear()
                try:
                    async with asyncio.timeout(1.0):
                        await self._wake.wait()
                except TimeoutError:
                    pass
                continue
            if len(self._pending) < self._batch and self._linger_ms:
                # Let a batch form: one send of many events costs far less CPU than many sends,
                # and usage events are not on any response path.
                await asyncio.sleep(self._linger_ms / 1000)
            batch = [self._pending.popleft() for _ in range(min(self._batch, len(self._pending)))]
            self._in_flight = len(batch)
            EVENTS_BUFFERED.labels("all").set(len(self._pending))
            ok = await self._send(batch)
            self._in_flight = 0
            if ok:
                if self._loaded is not None:
                    path, left = self._loaded
                    left -= len(batch)
                    if left <= 0 and self._spool is not None:
                        self._spool.done(path, self._loaded[1])
                        self._loaded = None
                    else:
                        self._loaded = (path, left)
            else:
                self._pending.extendleft(reversed(batch))
                await self._close_producer()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def _send(self, batch: list[_Record]) -> bool:
        assert self._producer is not None
        futures = []
        try:
            for r in batch:
                futures.append(await self._producer.send(r.topic, r.value, key=r.key, headers=r.headers))
            results = await asyncio.gather(*futures, return_exceptions=True)
        except Exception as exc:
            log.warning("Kafka send failed; will retry", extra={"error": repr(exc), "batch": len(batch)})
            return False
        failed = [res for res in results if isinstance(res, BaseException)]
        if failed:
            log.warning(
                "Kafka send failed; will retry",
                extra={"error": repr(failed[0]), "failed": len(failed), "batch": len(batch)},
            )
            return False
        for r in batch:
            EVENTS_SENT.labels(r.topic).inc()
        return True


Handler = Callable[[ConsumerRecord[bytes, bytes]], Awaitable[None]]
BatchHandler = Callable[[list[ConsumerRecord[bytes, bytes]]], Awaitable[None]]


class EventConsumer:
    """Consumer-group loop: handle each record, then commit its offset (see module docstring)."""

    def __init__(
        self,
        settings: KafkaSettings,
        *,
        group_id: str | None,
        topics: Sequence[str],
        handler: Handler | None = None,
        batch_handler: BatchHandler | None = None,
        client_id: str,
        max_batch: int = 500,
    ) -> None:
        """``group_id=None`` makes a broadcast reader: every instance reads every partition from
        the latest offset and commits nothing (e.g. cache invalidation in each edge replica).
        ``batch_handler`` receives each partition's fetched records at once (one transaction for
        many events); it skips records it cannot decode itself, and any exception retries the batch."""
        if (handler is None) == (batch_handler is None):
            raise ValueError("give exactly one of handler and batch_handler")
        self._settings = settings
        self._group = group_id
        self._topics = list(topics)
        self._handler = handler
        self._batch_handler = batch_handler
        self._client_id = client_id
        self._max_batch = max_batch
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.connected = False

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"consumer-{self._group}")

    async def stop(self) -> None:
        self._stopping = True
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def _run(self) -> None:
        backoff = 0.2
        while not self._stopping:
            consumer = None
            try:
                await ensure_topics(self._settings, self._topics)
                # Without a group (a broadcast reader: every replica sees every event) the client
                # assigns itself all partitions of the topics and starts at their end.
                broadcast = self._group is None
                consumer = AIOKafkaConsumer(
                    *self._topics,
                    **self._settings.client_kwargs(),
                    group_id=self._group,
                    client_id=self._client_id,
                    enable_auto_commit=False,
                    auto_offset_reset="latest" if broadcast else "earliest",
                    request_timeout_ms=15_000,
                    session_timeout_ms=10_000,
                    heartbeat_interval_ms=2_000,
                    max_poll_interval_ms=300_000,
                )
                await consumer.start()
                if broadcast:
                    # Fix the starting offsets now, so every event published after this point
                    # is read (the reset to "latest" would otherwise happen at the first fetch).
                    for tp in consumer.assignment():
                        await consumer.position(tp)
                self.connected = True
                backoff = 0.2
                await self._loop(consumer)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.connected = False
                log.warning(
                    "Kafka consumer interrupted; reconnecting", extra={"group": self._group, "error": repr(exc)}
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                self.connected = False
                if consumer is not None:
                    try:
                        async with asyncio.timeout(5):
                            await consumer.stop()
                    except Exception:
                        log.debug("consumer close failed", exc_info=True)

    async def _loop(self, consumer: AIOKafkaConsumer) -> None:
        while not self._stopping:
            batches = await consumer.getmany(timeout_ms=500, max_records=self._max_batch)
            for tp, records in batches.items():
                if self._batch_handler is not None:
                    await self._apply_batch(records)
                else:
                    for record in records:
                        await self._apply(record)
                if self._group is not None:
                    await consumer.commit({tp: records[-1].offset + 1})

    async def _apply_batch(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        assert self._batch_handler is not None
        backoff = 0.2
        links = [
            Link(c)
            for c in (trace.get_current_span(extract_headers(r.headers)).get_span_context() for r in records[:128])
            if c.is_valid
        ]
        topic = records[0].topic
        while True:
            with _tracer.start_as_current_span(f"{topic} process", kind=SpanKind.CONSUMER, links=links) as span:
                span.set_attribute("messaging.system", "kafka")
                span.set_attribute("messaging.destination.name", topic)
                span.set_attribute("messaging.batch.message_count", len(records))
                try:
                    await self._batch_handler(records)
                    EVENTS_CONSUMED.labels(topic).inc(len(records))
                    return
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    HANDLER_FAILURES.labels(topic).inc()
                    log.warning(
                        "batch handler failed; retrying the batch",
                        extra={"topic": topic, "first_offset": records[0].offset, "error": repr(exc)},
                    )
            if self._stopping:
                raise asyncio.CancelledError
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    async def _apply(self, record: ConsumerRecord[bytes, bytes]) -> None:
        assert self._handler is not None
        backoff = 0.2
        ctx = extract_headers(record.headers)
        while True:
            with _tracer.start_as_current_span(f"{record.topic} process", context=ctx, kind=SpanKind.CONSUMER) as span:
                span.set_attribute("messaging.system", "kafka")
                span.set_attribute("messaging.destination.name", record.topic)
                span.set_attribute("messaging.kafka.offset", record.offset)
                try:
                    await self._handler(record)
                    EVENTS_CONSUMED.labels(record.topic).inc()
                    return
                except PoisonMessage as exc:
                    log.error(
                        "record cannot be applied; skipped",
                        extra={"topic": record.topic, "offset": record.offset, "error": str(exc)},
                    )
                    return
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    HANDLER_FAILURES.labels(record.topic).inc()
                    log.warning(
                        "handler failed; retrying the record",
                        extra={"topic": record.topic, "offset": record.offset, "error": repr(exc)},
                    )
            if self._stopping:
                raise asyncio.CancelledError
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)
