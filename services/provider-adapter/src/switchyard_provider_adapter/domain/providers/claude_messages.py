"""Anthropic's Messages API spoken natively, by every API that carries it: Anthropic's own,
Bedrock's InvokeModel and Vertex AI's rawPredict. A ``/v1/messages`` request for a Claude
deployment arrives as the client's JSON (``AnthropicMessagesRequest``) and goes out with only
what the carrier asks changed (the model, ``stream``, ``anthropic_version``, where betas go); its
answer goes back as the provider wrote it: the message JSON, or each streamed event with the
output it carries counted. Usage is read on the way, for cost and the ledger."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from switchyard.llm.v1 import chat_pb2, messages_pb2
from switchyard_provider_adapter.domain.errors import ProviderFailure, provider_error
from switchyard_provider_adapter.domain.framing import SseEvent
from switchyard_provider_adapter.domain.providers.claude import ERROR_TYPE_STATUS, usage_from_anthropic
from switchyard_provider_adapter.domain.providers.common.answers import StreamState
from switchyard_provider_adapter.domain.providers.common.failures import bad_request

# The keys of a delta whose text is model output (text, thinking, tool input).
_OUTPUT_KEYS = ("text", "thinking", "partial_json")


def betas(native: messages_pb2.AnthropicMessagesRequest) -> list[str]:
    """The beta names of the client's ``anthropic-beta`` header."""
    return [b.strip() for b in native.beta.split(",") if b.strip()]


def native_body(
    provider: str,
    native: messages_pb2.AnthropicMessagesRequest,
    *,
    model: str | None,
    stream: bool | None,
    version: str = "",
    betas_in_body: bool = False,
    defaults: dict[str, Any] | None = None,
) -> bytes:
    """The client's body as the carrier takes it: ``model`` set (None: removed, the URL names
    it), ``stream`` set or removed (None: removed, the endpoint decides), ``anthropic_version`` in
    the body when the carrier wants it there, the betas as ``anthropic_beta``, and ``defaults``
    for keys the body lacks."""
    try:
        body = orjson.loads(native.body_json)
    except orjson.JSONDecodeError:
        body = None
    if not isinstance(body, dict):
        raise bad_request(provider, "the Messages API request must be a JSON object", "body_json")
    if model is None:
        body.pop("model", None)
    else:
        body["model"] = model
    if stream:
        body["stream"] = True
    else:
        body.pop("stream", None)
    if version:
        body["anthropic_version"] = version
    if betas_in_body and (names := betas(native)):
        body["anthropic_beta"] = names
    for key, value in (defaults or {}).items():
        body.setdefault(key, value)
    return orjson.dumps(body)


def message_usage(body: bytes) -> chat_pb2.Usage:
    """The usage of a Messages API answer."""
    data = orjson.loads(body)
    usage = data.get("usage") if isinstance(data, dict) else None
    return usage_from_anthropic(usage if isinstance(usage, dict) else {}, None)


def input_tokens(body: bytes, key: str = "input_tokens") -> int:
    """The count of a ``count_tokens`` answer."""
    data = orjson.loads(body)
    value = data.get(key) if isinstance(data, dict) else None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"the count_tokens answer has no {key}")
    return value


def _output_chars(event: dict[str, Any]) -> int:
    part = event.get("delta") if event.get("type") == "content_block_delta" else event.get("content_block")
    if not isinstance(part, dict):
        return 0
    return sum(len(v) for k in _OUTPUT_KEYS if isinstance(v := part.get(k), str))


class MessagesEvents(StreamState):
    """The events of a Messages API stream, passed on as they came: each as an AnthropicEvent
    with the output it carries counted, the usage read from ``message_start`` and
    ``message_delta``; an ``error`` event fails the stream (the executor ends it with the error)."""

    __slots__ = ("_provider",)

    def __init__(self, provider: str) -> None:
        super().__init__()
        self._provider = provider

    def event(self, data: bytes, name: str = "") -> messages_pb2.AnthropicEvent:
        ev = orjson.loads(data)
        if not isinstance(ev, dict):
            raise ValueError("a Messages API event is not a JSON object")
        etype = str(ev.get("type") or name)
        if etype == "message_start":
            usage = (ev.get("message") or {}).get("usage")
            self._usage = usage_from_anthropic(usage if isinstance(usage, dict) else {}, None)
        elif etype == "message_delta":
            if isinstance(ev.get("usage"), dict):
                self._usage = usage_from_anthropic(ev["usage"], self._usage)
        elif etype == "message_stop":
            self._finished = True
        elif etype == "error":
            err = ev.get("error") or {}
            status = ERROR_TYPE_STATUS.get(str(err.get("type") or ""), 500)
            raise ProviderFailure(provider_error(self._provider, status, {}, data))
        return messages_pb2.AnthropicEvent(type=etype, data_json=data, output_chars=_output_chars(ev))


class SseMessagesDecoder(MessagesEvents):
    """The events of a Messages API stream in SSE framing (Anthropic, Vertex AI)."""

    __slots__ = ()

    def feed(self, frame: SseEvent) -> Iterable[messages_pb2.AnthropicEvent]:
        if not frame.data:
            return ()
        return (self.event(frame.data.encode(), frame.event),)
