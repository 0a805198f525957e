"""Bedrock's streams: AWS event-stream framing (``application/vnd.amazon.eventstream``, split
with botocore's ``EventStreamBuffer``) and ConverseStream events → OpenAI chunks. Each message's
``:event-type`` names a ConverseStreamOutput member and its payload is that member's JSON."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from botocore.eventstream import EventStreamBuffer, ParserError

from switchyard.llm.v1 import chat_pb2, messages_pb2
from switchyard_provider_adapter.domain.errors import ProviderFailure
from switchyard_provider_adapter.domain.providers.bedrock.answers import finish_reason, usage_from_bedrock
from switchyard_provider_adapter.domain.providers.bedrock.errors import bedrock_error
from switchyard_provider_adapter.domain.providers.claude import (
    ToolBlocks,
    citation_delta,
    redacted_thinking_block,
    thinking_block,
    thinking_delta,
)
from switchyard_provider_adapter.domain.providers.claude_messages import MessagesEvents
from switchyard_provider_adapter.domain.providers.common.answers import StreamState, completion_id, now

# Streamed exception events (``:message-type: exception``) carry the member name of
# ConverseStreamOutput; the HTTP status the same error has as a response.
_STREAM_EXCEPTIONS = {
    "internalServerException": ("InternalServerException", 500),
    "modelStreamErrorException": ("ModelStreamErrorException", 424),
    "validationException": ("ValidationException", 400),
    "throttlingException": ("ThrottlingException", 429),
    "serviceUnavailableException": ("ServiceUnavailableException", 503),
    # InvokeModelWithResponseStream's own.
    "modelTimeoutException": ("ModelTimeoutException", 408),
}


# --- event-stream framing ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AwsEvent:
    """One AWS event-stream message: its ``:message-type`` (event, exception or error), its
    ``:event-type`` or ``:exception-type``, the ``:error-code``/``:error-message`` of generic
    errors, and the raw payload."""

    message_type: str
    event_type: str
    payload: bytes
    error_code: str = ""
    error_message: str = ""


class EventStreamFrames:
    """Incremental decoder of ``application/vnd.amazon.eventstream`` bodies (prelude, headers,
    payload, CRC32s; https://smithy.io/2.0/aws/amazon-eventstream.html) on botocore's parser."""

    __slots__ = ("_buffer", "_pending")

    def __init__(self) -> None:
        self._buffer = EventStreamBuffer()
        # Bytes received and not yet consumed by a complete message.
        self._pending = 0

    def feed(self, data: bytes) -> list[AwsEvent]:
        self._buffer.add_data(data)
        self._pending += len(data)
        out: list[AwsEvent] = []
        try:
            for message in self._buffer:
                self._pending -= int(message.prelude.total_length)
                h = message.headers
                message_type = str(h.get(":message-type") or "event")
                out.append(
                    AwsEvent(
                        message_type=message_type,
                        event_type=str(h.get(":exception-type") or h.get(":event-type") or ""),
                        payload=bytes(message.payload),
                        error_code=str(h.get(":error-code") or ""),
                        error_message=str(h.get(":error-message") or ""),
                    )
                )
        except ParserError as exc:
            raise ValueError(f"corrupt AWS event-stream message: {type(exc).__name__}: {exc}") from None
        return out

    def close(self) -> list[AwsEvent]:
        if self._pending:
            raise ValueError(f"the event stream ended inside a message ({self._pending} bytes left)")
        return []


def is_event(frame: AwsEvent) -> bool:
    """Whether the message is an event; raises the failure an exception or error message is."""
    if frame.message_type == "exception":
        name, status = _STREAM_EXCEPTIONS.get(
            frame.event_type, (frame.event_type[:1].upper() + frame.event_type[1:], 500)
        )
        raise ProviderFailure(bedrock_error(status, {}, frame.payload, etype=name))
    if frame.message_type == "error":
        message = frame.error_message or frame.payload.decode("utf-8", "replace")
        body = orjson.dumps({"message": message})
        raise ProviderFailure(bedrock_error(500, {}, body, etype=frame.error_code or "InternalServerException"))
    return frame.message_type == "event"


class BedrockMessagesDecoder(MessagesEvents):
    """InvokeModelWithResponseStream for Claude: each ``chunk`` event's payload holds one Messages
    API event, base64 in ``bytes``."""

    __slots__ = ()

    def feed(self, frame: AwsEvent) -> Iterable[messages_pb2.AnthropicEvent]:
        if not is_event(frame) or frame.event_type != "chunk":
            return ()
        return (self.event(base64.b64decode(orjson.loads(frame.payload)["bytes"])),)


class BedrockStreamDecoder(StreamState):
    """ConverseStream events → OpenAI chunks, one chunk per event that carries content."""

    __slots__ = ("_created", "_id", "_model", "_tools")

    def __init__(self, model: str, json_tool: bool) -> None:
        super().__init__()
        self._id = completion_id()
        self._model = model
        self._created = now()
        # Blocks other than tool uses (text, reasoning) have no start event.
        self._tools = ToolBlocks(json_tool)

    def _chunk(self) -> tuple[chat_pb2.ChatCompletionChunk, chat_pb2.ChunkChoice]:
        c = chat_pb2.ChatCompletionChunk(id=self._id, created=self._created, model=self._model)
        return c, c.choices.add(index=0)

    def feed(self, frame: AwsEvent) -> Iterable[chat_pb2.ChatCompletionChunk]:
        if not is_event(frame):
            return ()
        data = orjson.loads(frame.payload) if frame.payload else {}
        etype = frame.event_type
        if etype == "contentBlockDelta":
            return self._delta(data)
        if etype == "messageStart":
            c, ch = self._chunk()
            ch.delta.role = str(data.get("role") or "assistant")
            ch.delta.content = ""
            return (c,)
        if etype == "contentBlockStart":
            tool = (data.get("start") or {}).get("toolUse")
            if not isinstance(tool, Mapping):
                return ()
            c, ch = self._chunk()
            index = int(data.get("contentBlockIndex", 0))
            return (c,) if self._tools.start(index, tool.get("toolUseId"), tool.get("name"), ch.delta) else ()
        if etype == "messageStop":
            c, ch = self._chunk()
            ch.finish_reason = finish_reason(data.get("stopReason"), self._tools.unwrapped and self._tools.count == 0)
            return (c,)
        if etype == "metadata":
            if isinstance(data.get("usage"), Mapping):
                self._usage = usage_from_bedrock(data["usage"])
            self._finished = True
        return ()  # contentBlockStop and event types added later

    def _delta(self, data: Mapping[str, Any]) -> Iterable[chat_pb2.ChatCompletionChunk]:
        delta = data.get("delta") or {}
        c, ch = self._chunk()
        if "text" in delta:
            ch.delta.content = str(delta["text"])
        elif "toolUse" in delta:
            piece = str((delta["toolUse"] or {}).get("input") or "")
            if not self._tools.input(int(data.get("contentBlockIndex", 0)), piece, ch.delta):
                return ()
        elif "reasoningContent" in delta:
            rc = delta["reasoningContent"] or {}
            if "text" in rc:
                ch.delta.reasoning_content = str(rc["text"])
            elif "signature" in rc:
                ch.delta.extra_json = thinking_delta(thinking_block("", rc["signature"]))
            elif "redactedContent" in rc:
                ch.delta.extra_json = thinking_delta(redacted_thinking_block(rc["redactedContent"]))
            else:
                return ()
        elif "citation" in delta:
            ch.delta.extra_json = citation_delta(delta["citation"])
        else:
            return ()
        return (c,)
