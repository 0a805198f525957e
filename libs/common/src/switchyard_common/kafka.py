"""Kafka helpers.

``EventProducer``: an idempotent producer whose ``publish`` never blocks the request path. Records
wait in a bounded in-memory buffer while the broker is unreachable, spill to an on-disk spool
(written and read in worker threads, rotated by size) when the buffer is full and at shutdown,
and are sent (in order) when the broker is back. Delivery is at-least-once; consumers apply each
event id at most once. A record Kafka can never take (larger than its limit) is set aside on the
dead-letter topic instead of blocking the records behind it.

``EventConsumer``: a consumer-group loop that commits an offset only after the handler has stored
the record's effect. A failure of the infrastructure is retried for as long as it lasts; a record
that fails on its own (a batch is halved until it is found) is set aside on the dead-letter topic
with the reason, and the records after it go on."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import MessageSizeTooLargeError, RecordListTooLargeError, RecordTooLargeError
from aiokafka.structs import ConsumerRecord
from opentelemetry import trace
from opentelemetry.trace import Link, SpanKind
from prometheus_client import Counter, Gauge
from pydantic import BaseModel, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from switchyard.events.v1 import dead_letter_pb2
from switchyard_common.spool import SPOOL_FILE_BYTES, Record, Spool, SpoolFile
from switchyard_common.telemetry import extract_headers

log = logging.getLogger(__name__)
_tracer = trace.get_tracer(__name__)

EVENTS_BUFFERED = Gauge("switchyard_kafka_events_buffered", "Events waiting to be sent", ["topic_group"])
EVENTS_SENT = Counter("switchyard_kafka_events_sent_total", "Events acknowledged by Kafka", ["topic"])
EVENTS_CONSUMED = Counter("switchyard_kafka_events_consumed_total", "Events applied", ["topic"])
HANDLER_FAILURES = Counter("switchyard_kafka_handler_failures_total", "Handler failures", ["topic"])
DEAD_LETTERS = Counter(
    "switchyard_kafka_dead_letters_total",
    "Records set aside on the dead-letter topic (stage: produce or consume)",
    ["topic", "stage"],
)
EVENTS_DROPPED = Counter(
    "switchyard_kafka_events_dropped_total", "Records given up without a dead letter", ["topic", "cause"]
)

# One dead-letter topic for every source topic (see dead_letter.proto).
DEAD_LETTER_TOPIC = "dead-letter"
# A dead letter keeps its record's headers up to this size (trace context is a few hundred bytes).
_DEAD_LETTER_HEADER_BYTES = 16 * 1024
# Kafka's answers for a record (or a batch holding one) over the broker's size limit.
_TOO_LARGE = (MessageSizeTooLargeError, RecordListTooLargeError, RecordTooLargeError)
# A record that fails alone this many times (with an error that is not the infrastructure's) is
# set aside; fewer would dead-letter records over a momentary glitch.
POISON_ATTEMPTS = 3


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
    # Largest record the producer sends (aiokafka's max_request_size); keep it at or below the
    # broker's message.max.bytes (Kafka's default is 1 MiB). Larger records are dead-lettered.
    max_record_bytes: int = 1024 * 1024

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


class KafkaEnv(BaseSettings):
    """Kafka connection settings (``KAFKA_*``)."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    kafka_bootstrap_servers: str
    kafka_security_protocol: str = "PLAINTEXT"
    kafka_sasl_mechanism: str | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: str | None = None
    kafka_topic_prefix: str = ""
    kafka_topic_partitions: int = 3
    kafka_replication_factor: int = 1
    # Largest record produced; at or below the broker's message.max.bytes (larger: dead-lettered).
    kafka_max_record_bytes: int = 1024 * 1024
    # Where produced events wait on disk while Kafka is unreachable (and across restarts).
    event_spool_dir: str = "/var/lib/switchyard/spool"

    def kafka(self) -> KafkaSettings:
        return KafkaSettings(
            bootstrap_servers=self.kafka_bootstrap_servers,
            security_protocol=self.kafka_security_protocol,
            sasl_mechanism=self.kafka_sasl_mechanism,
            sasl_username=self.kafka_sasl_username,
            sasl_password=self.kafka_sasl_password.get_secret_value() if self.kafka_sasl_password else None,
            ssl_cafile=self.kafka_ssl_cafile,
            topic_prefix=self.kafka_topic_prefix,
            topic_partitions=self.kafka_topic_partitions,
            replication_factor=self.kafka_replication_factor,
            max_record_bytes=self.kafka_max_record_bytes,
        )


class PoisonMessage(Exception):
    """Raised by a handler for a record that can never be applied (undecodable): it is set aside
    at once. Other exceptions are retried (see ``EventConsumer``)."""


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def transient_error(exc: Exception) -> bool:
    """Whether a handler's failure lies with the infrastructure (network, timeouts) rather than
    with the record: such failures are retried for as long as they last."""
    return isinstance(exc, OSError)


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


def _dead_letter(
    *,
    topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    value: bytes | None,
    headers: Sequence[tuple[str, bytes]],
    reason: str,
    service: str,
    group: str,
    stage: dead_letter_pb2.DeadLetterStage,
    max_value_bytes: int,
) -> bytes:
    """A ``DeadLetter`` holding the record; its value is cut to ``max_value_bytes`` and its
    headers are left out when large, so that the dead letter itself fits in a Kafka record."""
    value = value or b""
    dl = dead_letter_pb2.DeadLetter(
        source_topic=topic,
        source_partition=partition,
        source_offset=offset,
        key=key or b"",
        value=value[:max_value_bytes],
        value_size=len(value),
        reason=reason[:2000],
        service=service,
        consumer_group=group,
        stage=stage,
    )
    if sum(len(k) + len(v) for k, v in headers) <= _DEAD_LETTER_HEADER_BYTES:
        dl.headers.extend(dead_letter_pb2.RecordHeader(key=k, value=v) for k, v in headers)
    dl.dead_lettered_at.GetCurrentTime()
    return dl.SerializeToString()


class EventProducer:
    """Non-blocking, buffering, idempotent Kafka producer (see module docstring).

    Order of the records waiting to be sent: the batch in flight, ``_pending`` (memory), the
    unread records of the spool, the records being written to it, ``_overflow``. ``publish``
    appends to memory only while nothing waits behind it, so order holds across the spool."""

    def __init__(
        self,
        settings: KafkaSettings,
        *,
        client_id: str,
        topics: Sequence[str] = (),
        spool_dir: Path | None = None,
        spool_instance: str | None = None,
        max_memory_records: int = 100_000,
        batch_size: int = 500,
        linger_ms: int = 20,
        spool_file_bytes: int = SPOOL_FILE_BYTES,
    ) -> None:
        self._settings = settings
        self._client_id = client_id
        self.dead_letter_topic = settings.topic(DEAD_LETTER_TOPIC)
        self._topics = [*topics, self.dead_letter_topic]
        self._max_memory = max_memory_records
        self._batch = batch_size
        self._linger_ms = linger_ms
        self._pending: deque[Record] = deque()
        self._overflow: list[Record] = []
        self._writing = 0  # records being written to the spool
        self._unread = 0  # records in the spool not read yet
        self._in_flight: list[Record] = []
        self._spool = Spool(spool_dir, instance=spool_instance, max_file_bytes=spool_file_bytes) if spool_dir else None
        self._wake = asyncio.Event()
        self._spill_wake = asyncio.Event()
        self._producer: AIOKafkaProducer | None = None
        self._task: asyncio.Task[None] | None = None
        self._spiller: asyncio.Task[None] | None = None
        self._closing = False
        self._connected = False
        self._topics_ready = False

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def backlog(self) -> int:
        return len(self._pending) + len(self._in_flight) + self._unread + self._writing + len(self._overflow)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        if self._spool is not None:
            self._unread = await asyncio.to_thread(self._spool.open)
            self._spiller = loop.create_task(self._spill(), name="kafka-spool")
        self._task = loop.create_task(self._run(), name="kafka-producer")

    def publish(
        self, topic: str, value: bytes, *, key: bytes | None = None, headers: list[tuple[str, bytes]] | None = None
    ) -> None:
        """Queue one record; never blocks, never touches the disk, never raises for an outage."""
        record = Record(topic, key, value, headers or [])
        if not (self._unread or self._writing or self._overflow) and len(self._pending) < self._max_memory:
            self._pending.append(record)
            if len(self._pending) == 1:
                self._wake.set()
            return
        if self._spool is None:
            # Without a spool the oldest record has to go; counted and logged loudly.
            dropped = self._pending.popleft()
            EVENTS_DROPPED.labels(dropped.topic, "buffer_full").inc()
            log.error("event buffer full without a spool; oldest event dropped")
            self._pending.append(record)
            return
        if len(self._overflow) >= self._max_memory:
            # The disk cannot keep up (or fails): the memory bound wins over this record.
            EVENTS_DROPPED.labels(topic, "spool_behind").inc()
            log.error("event spool cannot keep up; event dropped", extra={"topic": topic})
            return
        self._overflow.append(record)
        self._spill_wake.set()

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
        self._spill_wake.set()
        if self._task is not None:
            self._task.cancel()  # its batch in flight returns to memory
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._spiller is not None:
            # Not cancelled: it finishes the write in hand; the rest is written below, in order.
            await self._spiller
        left = len(self._pending) + len(self._overflow)
        if self._spool is not None:
            head = [r for r in self._pending if r.origin is None]  # the others are still on disk
            if head or self._overflow:
                if self._spiller is None:  # stopped without having started
                    await asyncio.to_thread(self._spool.open)
                await asyncio.to_thread(self._spool.save, head, self._overflow)
                log.warning("events spooled to disk at shutdown", extra={"count": len(head) + len(self._overflow)})
            await asyncio.to_thread(self._spool.close)
        elif left:
            EVENTS_DROPPED.labels("all", "shutdown").inc(left)
            log.error("events lost at shutdown (no spool configured)", extra={"count": left})
        self._pending.clear()
        self._overflow = []
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
        if not self._topics_ready:
            await ensure_topics(self._settings, self._topics)
            self._topics_ready = True
        max_record = self._settings.max_record_bytes
        producer = AIOKafkaProducer(
            **self._settings.client_kwargs(),
            client_id=self._client_id,
            enable_idempotence=True,
            acks="all",
            linger_ms=0,  # batches are formed above
            request_timeout_ms=10_000,
            retry_backoff_ms=200,
            max_batch_size=min(1024 * 1024, max_record),
            # A record over this is refused by send() before it reaches the broker.
            max_request_size=max_record,
        )
        try:
            await producer.start()
        except BaseException:
            await producer.stop()
            raise
        self._producer = producer
        self._connected = True
        log.info("connected to Kafka", extra={"backlog": self.backlog})

    async def _spill(self) -> None:
        """Writes ``_overflow`` to the spool, off the event loop, oldest first."""
        assert self._spool is not None
        while not self._closing:
            if not self._overflow:
                self._spill_wake.clear()
                await self._spill_wake.wait()
                continue
            records, self._overflow = self._overflow, []
            self._writing = len(records)
            try:
                await asyncio.to_thread(self._spool.append, records)
            except OSError:
                log.error("event spool write failed; retrying", exc_info=True, extra={"records": len(records)})
                self._overflow[:0] = records
                self._writing = 0
                await asyncio.sleep(1.0)
                continue
            self._unread += len(records)
            self._writing = 0
            self._wake.set()

    async def _refill(self) -> bool:
        """Bring the records that wait behind memory into it (memory is empty): the spool's
        oldest, else the overflow not yet written. False when there is nothing to bring."""
        if self._spool is None:
            return False
        if self._unread:
            records, consumed = await asyncio.to_thread(self._spool.read, self._batch)
            # Nothing left to read means the files went (removed by hand): stop expecting them.
            self._unread = self._unread - consumed if consumed else 0
            self._pending.extend(records)
            return True
        if self._overflow and not self._writing:
            moved = self._overflow[: self._max_memory]
            del self._overflow[: self._max_memory]
            self._pending.extend(moved)
            return True
        return False

    def _take_batch(self) -> list[Record]:
        if self._pending[0].solo:
            return [self._pending.popleft()]
        batch: list[Record] = []
        while self._pending and len(batch) < self._batch and not self._pending[0].solo:
            batch.append(self._pending.popleft())
        return batch

    async def _acknowledge(self, records: Sequence[Record]) -> None:
        counts: dict[SpoolFile, int] = {}
        for r in records:
            if r.origin is not None:
                counts[r.origin] = counts.get(r.origin, 0) + 1
        if counts and self._spool is not None:
            await asyncio.to_thread(self._spool.ack, counts)

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
            if not self._pending:
                if not await self._refill():
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
            batch = self._in_flight = self._take_batch()
            EVENTS_BUFFERED.labels("all").set(len(self._pending))
            try:
                retry, refused = await self._send(batch)
                again = {id(r) for r in retry}
                await self._acknowledge([r for r in batch if id(r) not in again])
            except asyncio.CancelledError:
                # Stopped in the middle of a send: the batch goes back to memory, so stop()
                # spools it instead of losing it (a record Kafka did take may come twice).
                self._pending.extendleft(reversed(batch))
                self._in_flight = []
                raise
            self._in_flight = []
            self._pending.extendleft(reversed(retry))
            if refused:
                # A batch Kafka refused leaves a gap in the idempotent sequence: start afresh.
                await self._close_producer()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def _send(self, batch: list[Record]) -> tuple[list[Record], bool]:
        """Send a batch. Returns the records to send again (in order) and whether Kafka refused
        anything. A record Kafka can never take is set aside; the rest of the batch goes on."""
        assert self._producer is not None
        sent: list[tuple[Record, asyncio.Future[Any]]] = []
        unsent: list[Record] = []
        for i, r in enumerate(batch):
            try:
                sent.append((r, await self._producer.send(r.topic, r.value, key=r.key, headers=r.headers)))
            except MessageSizeTooLargeError as exc:
                # aiokafka's own check against max_request_size: the broker never saw it.
                self._set_aside(r, exc)
            except Exception as exc:
                log.warning("Kafka send failed; will retry", extra={"error": repr(exc), "batch": len(batch)})
                unsent = batch[i:]
                break
        results = await asyncio.gather(*(f for _, f in sent), return_exceptions=True)
        retry: list[Record] = []
        refused = bool(unsent)
        for (r, _), res in zip(sent, results, strict=True):
            if not isinstance(res, BaseException):
                EVENTS_SENT.labels(r.topic).inc()
                continue
            refused = True
            if isinstance(res, _TOO_LARGE):
                if r.solo:
                    self._set_aside(r, res)
                    continue
                # The broker refuses a whole batch for one record over its limit: each record of
                # it goes again alone, and only the one refused alone is set aside.
                r.solo = True
            retry.append(r)
        if retry:
            error = next(res for res in results if isinstance(res, BaseException))
            log.warning("Kafka send failed; will retry", extra={"error": repr(error), "retry": len(retry)})
        return retry + unsent, refused

    def _set_aside(self, r: Record, exc: BaseException) -> None:
        """A record Kafka will never take: dead-lettered, or dropped if it is a dead letter."""
        reason = _reason(exc)
        extra = {"topic": r.topic, "bytes": len(r.value), "reason": reason}
        if r.topic == self.dead_letter_topic:
            EVENTS_DROPPED.labels(r.topic, "too_large").inc()
            log.error("dead letter too large for Kafka; dropped", extra=extra)
            return
        DEAD_LETTERS.labels(r.topic, "produce").inc()
        log.error(
            "record too large for Kafka; dead-lettered", extra={**extra, "dead_letter_topic": self.dead_letter_topic}
        )
        self.publish(
            self.dead_letter_topic,
            _dead_letter(
                topic=r.topic,
                partition=-1,
                offset=-1,
                key=r.key,
                value=r.value,
                headers=r.headers,
                reason=reason,
                service=self._client_id,
                group="",
                stage=dead_letter_pb2.DEAD_LETTER_STAGE_PRODUCE,
                max_value_bytes=self._settings.max_record_bytes // 2,
            ),
            key=r.key,
        )


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record a batch handler could not use (undecodable, say), and why: it is set aside while
    the handler applies the others."""

    record: ConsumerRecord[bytes, bytes]
    reason: str


Handler = Callable[[ConsumerRecord[bytes, bytes]], Awaitable[None]]
BatchHandler = Callable[[list[ConsumerRecord[bytes, bytes]]], Awaitable[Sequence[Rejected]]]


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
        dead_letters: EventProducer | None = None,
        transient: Callable[[Exception], bool] = transient_error,
    ) -> None:
        """``group_id=None`` makes a broadcast reader: every instance reads every partition from
        the latest offset and commits nothing (e.g. cache invalidation in each edge replica).
        ``batch_handler`` receives each partition's fetched records at once (one transaction for
        many events) and returns those it rejects. A handler raises ``PoisonMessage`` for a record
        it can never apply; an exception ``transient`` accepts is retried until it stops, any other is taken to be the
        record's fault: the batch is halved until the record is alone, and a record that fails
        alone ``POISON_ATTEMPTS`` times goes to ``dead_letters`` (or, without one, is logged and
        skipped), with the reason."""
        if (handler is None) == (batch_handler is None):
            raise ValueError("give exactly one of handler and batch_handler")
        self._settings = settings
        self._group = group_id
        self._topics = list(topics)
        self._handler = handler
        self._batch_handler = batch_handler
        self._client_id = client_id
        self._max_batch = max_batch
        self._dead_letters = dead_letters
        self._transient = transient
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
                    set_aside = await self._apply_batch(records)
                else:
                    set_aside = 0
                    for record in records:
                        set_aside += await self._apply(record)
                # The offsets move past records set aside only once their dead letters are in
                # Kafka (or, if Kafka refuses them that long, in the producer's care).
                if set_aside and self._dead_letters is not None and not await self._dead_letters.flush(10.0):
                    log.warning("dead letters not acknowledged yet; they stay buffered", extra={"topic": tp.topic})
                if self._group is not None:
                    await consumer.commit({tp: records[-1].offset + 1})

    async def _apply_batch(self, records: list[ConsumerRecord[bytes, bytes]]) -> int:
        """Apply a partition's records; returns how many were set aside."""
        links = [
            Link(c)
            for c in (trace.get_current_span(extract_headers(r.headers)).get_span_context() for r in records[:128])
            if c.is_valid
        ]
        topic = records[0].topic
        with _tracer.start_as_current_span(f"{topic} process", kind=SpanKind.CONSUMER, links=links) as span:
            span.set_attribute("messaging.system", "kafka")
            span.set_attribute("messaging.destination.name", topic)
            span.set_attribute("messaging.batch.message_count", len(records))
            return await self._apply_part(records)

    async def _apply_part(self, records: list[ConsumerRecord[bytes, bytes]]) -> int:
        assert self._batch_handler is not None
        topic = records[0].topic
        backoff = 0.2
        failures = 0
        while True:
            try:
                rejected = await self._batch_handler(records)
                for r in rejected:
                    self._set_aside(r.record, r.reason)
                EVENTS_CONSUMED.labels(topic).inc(len(records) - len(rejected))
                return len(rejected)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                HANDLER_FAILURES.labels(topic).inc()
                if not isinstance(exc, PoisonMessage) and self._transient(exc):
                    log.warning(
                        "batch handler failed; retrying the batch",
                        extra={"topic": topic, "first_offset": records[0].offset, "error": repr(exc)},
                    )
                elif len(records) > 1:
                    # Some record cannot be applied: halve the batch until it stands alone, so
                    # the others (in order) are applied.
                    half = len(records) // 2
                    return await self._apply_part(records[:half]) + await self._apply_part(records[half:])
                else:
                    failures += 1
                    if isinstance(exc, PoisonMessage) or failures >= POISON_ATTEMPTS:
                        self._set_aside(records[0], _reason(exc))
                        return 1
                    log.warning(
                        "record failed; retrying it",
                        extra={"topic": topic, "offset": records[0].offset, "error": repr(exc)},
                    )
            if self._stopping:
                raise asyncio.CancelledError
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    async def _apply(self, record: ConsumerRecord[bytes, bytes]) -> int:
        """Apply one record; returns 1 when it was set aside."""
        assert self._handler is not None
        backoff = 0.2
        failures = 0
        ctx = extract_headers(record.headers)
        while True:
            with _tracer.start_as_current_span(f"{record.topic} process", context=ctx, kind=SpanKind.CONSUMER) as span:
                span.set_attribute("messaging.system", "kafka")
                span.set_attribute("messaging.destination.name", record.topic)
                span.set_attribute("messaging.kafka.offset", record.offset)
                try:
                    await self._handler(record)
                    EVENTS_CONSUMED.labels(record.topic).inc()
                    return 0
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    HANDLER_FAILURES.labels(record.topic).inc()
                    if isinstance(exc, PoisonMessage) or not self._transient(exc):
                        failures += 1
                        if isinstance(exc, PoisonMessage) or failures >= POISON_ATTEMPTS:
                            self._set_aside(record, _reason(exc))
                            return 1
                    log.warning(
                        "handler failed; retrying the record",
                        extra={"topic": record.topic, "offset": record.offset, "error": repr(exc)},
                    )
            if self._stopping:
                raise asyncio.CancelledError
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    def _set_aside(self, record: ConsumerRecord[bytes, bytes], reason: str) -> None:
        extra = {"topic": record.topic, "partition": record.partition, "offset": record.offset, "reason": reason}
        if self._dead_letters is None:
            EVENTS_DROPPED.labels(record.topic, "cannot_apply").inc()
            log.error("record cannot be applied; skipped", extra=extra)
            return
        DEAD_LETTERS.labels(record.topic, "consume").inc()
        dlq = self._dead_letters.dead_letter_topic
        log.error("record cannot be applied; dead-lettered", extra={**extra, "dead_letter_topic": dlq})
        self._dead_letters.publish(
            dlq,
            _dead_letter(
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                key=record.key,
                value=record.value,
                headers=list(record.headers),
                reason=reason,
                service=self._client_id,
                group=self._group or "",
                stage=dead_letter_pb2.DEAD_LETTER_STAGE_CONSUME,
                # Room for the envelope: a record at the broker's limit must still fit wrapped.
                max_value_bytes=self._settings.max_record_bytes - 64 * 1024,
            ),
            key=record.key,
        )
