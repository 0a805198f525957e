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
import base64
import contextlib
import fcntl
import logging
import os
import threading
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import MessageSizeTooLargeError, RecordListTooLargeError, RecordTooLargeError
from aiokafka.structs import ConsumerRecord
from opentelemetry import trace
from opentelemetry.trace import Link, SpanKind
from prometheus_client import Counter, Gauge
from pydantic import BaseModel

from switchyard.events.v1 import dead_letter_pb2
from switchyard_common.telemetry import extract_headers

log = logging.getLogger(__name__)
_tracer = trace.get_tracer(__name__)

EVENTS_BUFFERED = Gauge("switchyard_kafka_events_buffered", "Events waiting to be sent", ["topic_group"])
EVENTS_SPOOLED = Gauge("switchyard_kafka_events_spooled", "Events waiting in the on-disk spool")
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
# Spool files are closed at this size and a new one begun, so a drained file can be deleted.
SPOOL_FILE_BYTES = 16 * 1024 * 1024
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


@dataclass(slots=True, eq=False)
class _SpoolFile:
    """One spool file: records are read from it in order and acknowledged in order."""

    path: Path
    records: int = 0  # complete lines
    offset: int = 0  # bytes read so far
    read: int = 0
    acked: int = 0


@dataclass(slots=True)
class _Record:
    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]
    # The spool file the record was read from (it stays there until acknowledged).
    origin: _SpoolFile | None = None
    # Kafka refused the batch this record was in as too large: it is sent alone to learn
    # whether it is the record that can never be sent.
    solo: bool = False

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


def _count_lines(path: Path) -> int:
    n = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            n += chunk.count(b"\n")
    return n


def _fit(lines: Sequence[bytes], start: int, room: int) -> int:
    """End of the run of lines from ``start`` that fits in ``room`` bytes (at least one line)."""
    end, size = start + 1, len(lines[start])
    while end < len(lines) and size + len(lines[end]) <= room:
        size += len(lines[end])
        end += 1
    return end


def _try_lock(directory: Path) -> int | None:
    """An exclusive lock on ``directory`` held by this process until the descriptor is closed
    (the kernel drops it when the process dies), or None when another process holds it."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(directory / ".lock", os.O_CREAT | os.O_RDWR, 0o600)
    except FileNotFoundError:  # removed by a process adopting it at this very moment
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


class _Spool:
    """Append-only files of records not yet acknowledged, oldest first, rotated by size and read
    a chunk at a time. Every method does blocking file I/O: the producer calls them in worker
    threads (``asyncio.to_thread``), and a lock makes them run one at a time.

    With an ``instance`` name, the files live in ``<directory>/<instance>/``, locked while the
    process lives, and the files of instances whose process is gone are adopted at ``open``: a
    volume shared by several replicas (or kept across pods) loses nothing when a pod goes."""

    def __init__(self, directory: Path, *, instance: str | None, max_file_bytes: int) -> None:
        self.base = directory
        self.instance = instance
        self.dir = directory / instance if instance else directory
        self._max_file = max_file_bytes
        self._files: list[_SpoolFile] = []  # oldest first
        # The file appends go to; a file that has been read from is never appended to, so the
        # records in memory that are not on disk always sort before every unread file.
        self._active: _SpoolFile | None = None
        self._active_size = 0
        self._last_name = 0
        self._lock_fd: int | None = None
        self._mutex = threading.Lock()

    def open(self) -> int:
        """Take the directory, adopt orphaned files, and return how many records wait in it."""
        with self._mutex:
            if self.instance:
                fd = _try_lock(self.dir)
                if fd is None:  # a live process of the same name (e.g. two on one host)
                    self.instance = f"{self.instance}-{os.getpid()}"
                    self.dir = self.base / self.instance
                    fd = _try_lock(self.dir)
                    if fd is None:
                        raise RuntimeError(f"event spool {self.dir} is locked by another process")
                self._lock_fd = fd
                self._adopt()
            self.dir.mkdir(parents=True, exist_ok=True)
            for path in sorted(self.dir.glob("spool-*.jsonl")):
                self._files.append(_SpoolFile(path, records=_count_lines(path)))
            EVENTS_SPOOLED.set(self._unacked())
            return sum(f.records for f in self._files)

    def _adopt(self) -> None:
        orphans = [p for p in self.base.iterdir() if p.is_dir() and p != self.dir]
        for other in orphans:
            fd = _try_lock(other)
            if fd is None:
                continue  # its process is alive
            try:
                moved = sum(self._move(path) for path in sorted(other.glob("spool-*.jsonl")))
                if moved:
                    log.warning("adopted the event spool of a stopped instance", extra={"from": str(other)})
                (other / ".lock").unlink(missing_ok=True)
                with contextlib.suppress(OSError):
                    other.rmdir()
            finally:
                os.close(fd)
        # Before spools were per instance, their files lay in the directory itself.
        for path in sorted(self.base.glob("spool-*.jsonl")):
            self._move(path)

    def _move(self, path: Path) -> bool:
        target = self.dir / path.name
        if target.exists():
            target = self.dir / f"{path.stem}-{uuid.uuid4().hex[:8]}.jsonl"
        try:
            path.rename(target)
        except FileNotFoundError:  # taken by another adopter
            return False
        return True

    def close(self) -> None:
        with self._mutex:
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None

    def _unacked(self) -> int:
        return sum(f.records - f.acked for f in self._files)

    def _new_path(self) -> Path:
        self._last_name = max(time.time_ns(), self._last_name + 1)
        return self.dir / f"spool-{self._last_name:020d}.jsonl"

    def _write(self, f: _SpoolFile, lines: Sequence[bytes], size: int) -> int:
        data = b"".join(lines)
        with f.path.open("ab") as fh:
            try:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            except OSError:
                # No half-written line may stay to swallow the next append.
                fh.truncate(size)
                raise
        f.records += len(lines)
        return size + len(data)

    def append(self, records: Sequence[_Record]) -> None:
        """Write records after every record already in the spool (durably: fsync), starting a
        new file whenever the current one is full."""
        lines = [r.to_line() for r in records]
        with self._mutex:
            i = 0
            while i < len(lines):
                active = self._active
                if (
                    active is None
                    or active.read
                    or (self._active_size and self._active_size + len(lines[i]) > self._max_file)
                ):
                    active = self._active = _SpoolFile(self._new_path())
                    self._active_size = 0
                    self._files.append(active)
                end = _fit(lines, i, self._max_file - self._active_size)
                self._active_size = self._write(active, lines[i:end], self._active_size)
                i = end
            EVENTS_SPOOLED.set(self._unacked())

    def save(self, head: Sequence[_Record], tail: Sequence[_Record]) -> None:
        """At shutdown: ``head`` (records that were in memory, older than every unread record in
        the spool) goes before the unread files, ``tail`` after everything."""
        with self._mutex:
            unread = next((i for i, f in enumerate(self._files) if f.records and not f.read), None)
            if head and unread is not None:
                # '-' sorts before '.': "spool-N-000000.jsonl" comes just before "spool-N.jsonl".
                stem = self._files[unread].path.stem
                lines = [r.to_line() for r in head]
                files: list[_SpoolFile] = []
                i = 0
                while i < len(lines):
                    end = _fit(lines, i, self._max_file)
                    f = _SpoolFile(self.dir / f"{stem}-{len(files):06d}.jsonl")
                    self._write(f, lines[i:end], 0)
                    files.append(f)
                    i = end
                self._files[unread:unread] = files
                head = ()
        self.append([*head, *tail])

    def read(self, n: int) -> tuple[list[_Record], int]:
        """Up to ``n`` of the oldest unread records, each marked with its file, and how many
        lines were consumed (unreadable ones are logged and count as acknowledged)."""
        out: list[_Record] = []
        consumed = 0
        with self._mutex:
            for f in self._files:
                if len(out) >= n:
                    break
                if f.read >= f.records:
                    continue
                with f.path.open("rb") as fh:
                    fh.seek(f.offset)
                    while len(out) < n and f.read < f.records:
                        line = fh.readline()
                        f.offset += len(line)
                        f.read += 1
                        consumed += 1
                        try:
                            record = _Record.from_line(line)
                        except (ValueError, KeyError, TypeError):
                            log.error("unreadable spool line skipped", extra={"file": str(f.path)})
                            f.acked += 1
                            continue
                        record.origin = f
                        out.append(record)
            self._collect()
        return out, consumed

    def ack(self, counts: dict[_SpoolFile, int]) -> None:
        """Records read from these files were acknowledged; a file goes once all of it has."""
        with self._mutex:
            for f, n in counts.items():
                f.acked += n
            self._collect()

    def _collect(self) -> None:
        keep = []
        for f in self._files:
            if f.acked >= f.records and f is not self._active:
                f.path.unlink(missing_ok=True)
            elif f.acked >= f.records and f.read:
                self._active = None
                f.path.unlink(missing_ok=True)
            else:
                keep.append(f)
        self._files = keep
        EVENTS_SPOOLED.set(self._unacked())


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
        self._pending: deque[_Record] = deque()
        self._overflow: list[_Record] = []
        self._writing = 0  # records being written to the spool
        self._unread = 0  # records in the spool not read yet
        self._in_flight: list[_Record] = []
        self._spool = _Spool(spool_dir, instance=spool_instance, max_file_bytes=spool_file_bytes) if spool_dir else None
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
        record = _Record(topic, key, value, headers or [])
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

    def _take_batch(self) -> list[_Record]:
        if self._pending[0].solo:
            return [self._pending.popleft()]
        batch: list[_Record] = []
        while self._pending and len(batch) < self._batch and not self._pending[0].solo:
            batch.append(self._pending.popleft())
        return batch

    async def _acknowledge(self, records: Sequence[_Record]) -> None:
        counts: dict[_SpoolFile, int] = {}
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

    async def _send(self, batch: list[_Record]) -> tuple[list[_Record], bool]:
        """Send a batch. Returns the records to send again (in order) and whether Kafka refused
        anything. A record Kafka can never take is set aside; the rest of the batch goes on."""
        assert self._producer is not None
        sent: list[tuple[_Record, asyncio.Future[Any]]] = []
        unsent: list[_Record] = []
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
        retry: list[_Record] = []
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

    def _set_aside(self, r: _Record, exc: BaseException) -> None:
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
