"""The receivers of logging callbacks, over one pooled aiohttp session. A delivery either
succeeds, finds the receiver away (``Unavailable``: network error, timeout, 408/429/5xx; retried
until it is back) or is refused for good (``Refused``: any other status, e.g. bad credentials or
a body it will never take; the event goes to the dead-letter topic)."""

from __future__ import annotations

from typing import Any, Protocol

import aiohttp
import orjson

from switchyard.events.v1 import usage_pb2
from switchyard_callbacks.domain.records import langfuse_batch

_RETRYABLE = frozenset({408, 425, 429})


class Unavailable(Exception):
    """The receiver is away or overloaded: try again later."""


class Refused(Exception):
    """The receiver will never take this record."""


class Sink(Protocol):
    name: str

    async def send(self, event: usage_pb2.UsageEvent, payload: dict[str, Any]) -> None: ...


async def _post(
    session: aiohttp.ClientSession,
    name: str,
    url: str,
    body: Any,
    headers: dict[str, str],
) -> Any:
    try:
        async with session.post(
            url, data=orjson.dumps(body), headers={"content-type": "application/json", **headers}
        ) as resp:
            text = await resp.read()
            if resp.status in _RETRYABLE or resp.status >= 500:
                raise Unavailable(f"{name} answered {resp.status}")
            if resp.status >= 300:
                # The receiver's own words, cut short: they say why, never what we sent.
                raise Refused(f"{name} refused the record with {resp.status}: {text[:300].decode(errors='replace')}")
            try:
                return orjson.loads(text) if text else None
            except orjson.JSONDecodeError:
                return None
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise Unavailable(f"{name} unreachable: {type(exc).__name__}") from None


class GenericApi:
    """LiteLLM's ``generic_api`` logger: a JSON list of StandardLoggingPayloads, POSTed to the
    endpoint with the configured headers; the event id rides as ``Idempotency-Key`` so a
    receiver that deduplicates drops a redelivery."""

    name = "generic_api"

    def __init__(self, session: aiohttp.ClientSession, endpoint: str, headers: dict[str, str]) -> None:
        self._session, self._endpoint, self._headers = session, endpoint, headers

    async def send(self, event: usage_pb2.UsageEvent, payload: dict[str, Any]) -> None:
        await _post(
            self._session, self.name, self._endpoint, [payload], {**self._headers, "Idempotency-Key": event.event_id}
        )


class Langfuse:
    """Langfuse's public ingestion API (``POST /api/public/ingestion``, basic auth with the
    project's public and secret key). It answers 207 with per-event results: an event it
    refuses for its content is refused for good, one it failed to store (5xx) is retried."""

    name = "langfuse"

    def __init__(self, session: aiohttp.ClientSession, host: str, public_key: str, secret_key: str) -> None:
        self._session = session
        self._url = host.rstrip("/") + "/api/public/ingestion"
        self._headers = {"Authorization": aiohttp.encode_basic_auth(public_key, secret_key)}

    async def send(self, event: usage_pb2.UsageEvent, payload: dict[str, Any]) -> None:
        answer = await _post(self._session, self.name, self._url, langfuse_batch(event, payload), self._headers)
        errors = answer.get("errors") if isinstance(answer, dict) else None
        if not errors:
            return
        if any(int(err.get("status") or 500) >= 500 for err in errors):
            raise Unavailable(f"langfuse could not store {len(errors)} event(s)")
        raise Refused(f"langfuse refused: {'; '.join(str(err.get('message', '')) for err in errors)[:300]}")
