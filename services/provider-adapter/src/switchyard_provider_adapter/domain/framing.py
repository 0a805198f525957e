"""Incremental decoders for streamed response bodies: Server-Sent Events and NDJSON.
(AWS event-stream framing is decoded with botocore's own parser in the Bedrock module.)"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class SseEvent:
    event: str
    data: str


class SseDecoder:
    """Feeds bytes, yields complete events (https://html.spec.whatwg.org/multipage/server-sent-events.html)."""

    __slots__ = ("_buf", "_data", "_event")

    def __init__(self) -> None:
        self._buf = b""
        self._event = ""
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> list[SseEvent]:
        buf = self._buf + chunk if self._buf else chunk
        events: list[SseEvent] = []
        start = 0
        while True:
            nl = buf.find(b"\n", start)
            if nl < 0:
                break
            line = buf[start:nl]
            start = nl + 1
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line:
                if self._data or self._event:
                    events.append(SseEvent(self._event or "message", "\n".join(self._data)))
                self._event = ""
                self._data = []
                continue
            if line[:1] == b":":
                continue
            field, _, value = line.partition(b":")
            if value[:1] == b" ":
                value = value[1:]
            if field == b"data":
                self._data.append(value.decode("utf-8", "replace"))
            elif field == b"event":
                self._event = value.decode("utf-8", "replace")
        self._buf = buf[start:]
        return events

    def close(self) -> list[SseEvent]:
        """Events left when the body ends without a final blank line."""
        events = self.feed(b"\n\n") if self._buf else []
        if self._data:
            events.append(SseEvent(self._event or "message", "\n".join(self._data)))
            self._data = []
        return events


class NdjsonDecoder:
    """Feeds bytes, yields complete non-empty lines."""

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        buf = self._buf + chunk
        lines = buf.split(b"\n")
        self._buf = lines.pop()
        return [line.strip() for line in lines if line.strip()]

    def close(self) -> list[bytes]:
        rest, self._buf = self._buf.strip(), b""
        return [rest] if rest else []
