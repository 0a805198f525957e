"""A streamed chat answer as the Messages API's event stream
(https://docs.anthropic.com/en/docs/build-with-claude/streaming): ``message_start``, ``ping``,
then per content block ``content_block_start``, its deltas (``text_delta``, ``thinking_delta``,
``signature_delta``, ``input_json_delta``) and ``content_block_stop``, then ``message_delta`` with
the stop reason and usage, and ``message_stop``. For requests a deployment of another API serves;
a Claude deployment's own events reach the client as it sent them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson

from switchyard.llm.v1 import chat_pb2, error_pb2, messages_pb2
from switchyard.provider.v1 import provider_pb2
from switchyard_edge.dialects.anthropic.answer import stop_reason, thinking_blocks, usage_json
from switchyard_edge.dialects.anthropic.errors import error_body
from switchyard_edge.domain.call import Streaming

# (event type, its JSON object)
Event = tuple[str, dict[str, Any]]

_TEXT = -1
_THINKING = -2


class ChunkEvents:
    """Chat chunks (choice 0: the Messages API has one) → Messages API events. Blocks follow the
    order the chunks bring them in; a block is closed when another begins."""

    __slots__ = ("_blocks", "_fallback_id", "_input_tokens", "_open", "_stop", "_tools")

    def __init__(self, fallback_id: str, input_tokens: int) -> None:
        self._fallback_id = fallback_id
        # The pipeline's prompt estimate: the provider tells the real count only at the end
        # (message_delta carries it), and a client that reads message_start gets a fair number.
        self._input_tokens = input_tokens
        # What the open block holds (_TEXT, _THINKING or a tool call's index), and its index.
        self._open: int | None = None
        self._blocks = -1
        # Chat tool-call index → content block index.
        self._tools: dict[int, int] = {}
        self._stop = ""

    def start(self, first: chat_pb2.ChatCompletionChunk) -> list[Event]:
        usage = {"input_tokens": self._input_tokens, "output_tokens": 0}
        message: dict[str, Any] = {
            "id": first.id or self._fallback_id,
            "type": "message",
            "role": "assistant",
            "model": first.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": usage,
        }
        return [("message_start", {"type": "message_start", "message": message}), ("ping", {"type": "ping"})]

    def _close(self, out: list[Event]) -> None:
        if self._open is not None:
            out.append(("content_block_stop", {"type": "content_block_stop", "index": self._blocks}))
            self._open = None

    def _begin(self, kind: int, block: dict[str, Any], out: list[Event]) -> int:
        self._close(out)
        self._blocks += 1
        self._open = kind
        out.append(
            ("content_block_start", {"type": "content_block_start", "index": self._blocks, "content_block": block})
        )
        return self._blocks

    def _delta(self, index: int, delta: dict[str, Any], out: list[Event]) -> None:
        out.append(("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}))

    def chunk(self, chunk: chat_pb2.ChatCompletionChunk) -> list[Event]:
        out: list[Event] = []
        for choice in chunk.choices:
            if choice.index != 0:
                continue
            d = choice.delta
            if d.reasoning_content:
                if self._open != _THINKING:
                    self._begin(_THINKING, {"type": "thinking", "thinking": "", "signature": ""}, out)
                self._delta(self._blocks, {"type": "thinking_delta", "thinking": d.reasoning_content}, out)
            for block in thinking_blocks(d.extra_json):
                if block["type"] == "redacted_thinking":
                    self._begin(_THINKING, block, out)
                    self._close(out)
                elif block["signature"]:
                    if self._open != _THINKING:
                        self._begin(_THINKING, {"type": "thinking", "thinking": "", "signature": ""}, out)
                    self._delta(self._blocks, {"type": "signature_delta", "signature": block["signature"]}, out)
            text = d.content or d.refusal
            if text:
                if self._open != _TEXT:
                    self._begin(_TEXT, {"type": "text", "text": ""}, out)
                self._delta(self._blocks, {"type": "text_delta", "text": text}, out)
            for tc in d.tool_calls:
                index = self._tools.get(tc.index)
                if index is None:
                    block = {"type": "tool_use", "id": tc.id, "name": tc.name, "input": {}}
                    index = self._tools[tc.index] = self._begin(tc.index, block, out)
                if tc.arguments:
                    self._delta(index, {"type": "input_json_delta", "partial_json": tc.arguments}, out)
            if choice.finish_reason:
                self._stop = choice.finish_reason
        return out

    def end(self, usage: chat_pb2.Usage) -> list[Event]:
        out: list[Event] = []
        self._close(out)
        delta = {"stop_reason": stop_reason(self._stop, bool(self._tools)), "stop_sequence": None}
        out.append(("message_delta", {"type": "message_delta", "delta": delta, "usage": usage_json(usage)}))
        out.append(("message_stop", {"type": "message_stop"}))
        return out


class MessageStream:
    """A streamed answer as the Messages API's events, (type, JSON bytes) pairs: a Claude
    deployment's own events as it sent them, or another deployment's chunks encoded. An error
    after the stream began is one final ``error`` event (``error`` is then set before it is
    yielded). ``end`` is the stream's end (its usage and cost) once it is over."""

    def __init__(self, streaming: Streaming) -> None:
        self._streaming = streaming
        self.end: provider_pb2.StreamEnd | None = None
        self.error: error_pb2.Error | None = None

    def __aiter__(self) -> AsyncIterator[tuple[str, bytes]]:
        first = self._streaming.first
        if isinstance(first, messages_pb2.AnthropicEvent):
            return self._native(first)
        return self._encoded(first)

    async def _native(self, first: messages_pb2.AnthropicEvent) -> AsyncIterator[tuple[str, bytes]]:
        yield first.type, first.data_json
        async for msg in self._streaming.chunks:
            kind = msg.WhichOneof("event")
            if kind == "anthropic_event":
                yield msg.anthropic_event.type, msg.anthropic_event.data_json
            elif kind == "end":
                self.end = msg.end
                return
            elif kind == "error":
                self.error = msg.error
                yield "error", orjson.dumps(error_body(msg.error))
                return

    async def _encoded(self, first: chat_pb2.ChatCompletionChunk) -> AsyncIterator[tuple[str, bytes]]:
        call = self._streaming.call
        encoder = ChunkEvents(f"msg_{call.call_id}", call.input_tokens)
        for event_type, data in (*encoder.start(first), *encoder.chunk(first)):
            yield event_type, orjson.dumps(data)
        async for msg in self._streaming.chunks:
            kind = msg.WhichOneof("event")
            if kind == "chunk":
                events = encoder.chunk(msg.chunk)
            elif kind == "end":
                self.end = msg.end
                events = encoder.end(msg.end.usage)
            else:
                self.error = msg.error
                events = [("error", error_body(msg.error))]
            for event_type, data in events:
                yield event_type, orjson.dumps(data)
            if kind != "chunk":
                return
