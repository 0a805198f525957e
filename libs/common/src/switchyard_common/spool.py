"""The Kafka producer's on-disk spool: records not yet acknowledged, in append-only files of
JSON lines (key, value and headers in base64), oldest first, rotated by size and read back a
chunk at a time. It survives restarts; with an instance name it also survives the pod, when the
directory is on a volume that outlives it (see ``Spool``)."""

from __future__ import annotations

import base64
import contextlib
import fcntl
import logging
import os
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson
from prometheus_client import Gauge

log = logging.getLogger(__name__)

EVENTS_SPOOLED = Gauge("switchyard_kafka_events_spooled", "Events waiting in the on-disk spool")

# Files are closed at this size and a new one begun, so a drained file can be deleted.
SPOOL_FILE_BYTES = 16 * 1024 * 1024


@dataclass(slots=True, eq=False)
class SpoolFile:
    """One spool file: records are read from it in order and acknowledged in order."""

    path: Path
    records: int = 0  # complete lines
    offset: int = 0  # bytes read so far
    read: int = 0
    acked: int = 0


@dataclass(slots=True)
class Record:
    """One record for Kafka, as the producer queues, spools and sends it."""

    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]
    # The spool file the record was read from (it stays there until acknowledged).
    origin: SpoolFile | None = None
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
    def from_line(line: bytes) -> Record:
        d = orjson.loads(line)
        return Record(
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


class Spool:
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
        self._files: list[SpoolFile] = []  # oldest first
        # The file appends go to; a file that has been read from is never appended to, so the
        # records in memory that are not on disk always sort before every unread file.
        self._active: SpoolFile | None = None
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
                self._files.append(SpoolFile(path, records=_count_lines(path)))
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

    def _write(self, f: SpoolFile, lines: Sequence[bytes], size: int) -> int:
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

    def append(self, records: Sequence[Record]) -> None:
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
                    active = self._active = SpoolFile(self._new_path())
                    self._active_size = 0
                    self._files.append(active)
                end = _fit(lines, i, self._max_file - self._active_size)
                self._active_size = self._write(active, lines[i:end], self._active_size)
                i = end
            EVENTS_SPOOLED.set(self._unacked())

    def save(self, head: Sequence[Record], tail: Sequence[Record]) -> None:
        """At shutdown: ``head`` (records that were in memory, older than every unread record in
        the spool) goes before the unread files, ``tail`` after everything."""
        with self._mutex:
            unread = next((i for i, f in enumerate(self._files) if f.records and not f.read), None)
            if head and unread is not None:
                # '-' sorts before '.': "spool-N-000000.jsonl" comes just before "spool-N.jsonl".
                stem = self._files[unread].path.stem
                lines = [r.to_line() for r in head]
                files: list[SpoolFile] = []
                i = 0
                while i < len(lines):
                    end = _fit(lines, i, self._max_file)
                    f = SpoolFile(self.dir / f"{stem}-{len(files):06d}.jsonl")
                    self._write(f, lines[i:end], 0)
                    files.append(f)
                    i = end
                self._files[unread:unread] = files
                head = ()
        self.append([*head, *tail])

    def read(self, n: int) -> tuple[list[Record], int]:
        """Up to ``n`` of the oldest unread records, each marked with its file, and how many
        lines were consumed (unreadable ones are logged and count as acknowledged)."""
        out: list[Record] = []
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
                            record = Record.from_line(line)
                        except (ValueError, KeyError, TypeError):
                            log.error("unreadable spool line skipped", extra={"file": str(f.path)})
                            f.acked += 1
                            continue
                        record.origin = f
                        out.append(record)
            self._collect()
        return out, consumed

    def ack(self, counts: dict[SpoolFile, int]) -> None:
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
