"""Provider calls through the provider adapter, one deployment each, over the adapter sessions:
every call comes back as an Attempt (a result or an error), never as an exception, so the
attempts loop can retry or fall back."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import grpc

from switchyard.llm.v1 import chat_pb2, deployment_pb2, embeddings_pb2, error_pb2, images_pb2, messages_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard.provider.v1 import provider_pb2
from switchyard_edge.clients.adapter_sessions import AdapterSessions
from switchyard_edge.domain.call import Attempt, Call
from switchyard_edge.errors import peer_failure
from switchyard_llm.errors import make_error

# The adapter applies the deployment's own timeout and answers before the request's deadline;
# the call's deadline is the request's plus this margin for that answer to arrive.
_ANSWER_MARGIN = 1.0


class ChatStream(Protocol):
    """The rest of a streamed answer: an adapter session's stream, or a mocked answer's."""

    def cancel(self) -> None: ...

    def __aiter__(self) -> AsyncIterator[provider_pb2.ChatStreamResponse]: ...


@dataclass(slots=True)
class OpenStream:
    """A streamed answer that has begun: its first chunk, or first event of a Messages API stream
    (None when the stream ended before any), and the stream to read the rest from."""

    stream: ChatStream
    first: chat_pb2.ChatCompletionChunk | messages_pb2.AnthropicEvent | None
    rate_limit_headers: dict[str, str]


def adapter_error(exc: grpc.aio.AioRpcError, remaining: float) -> error_pb2.Error:
    if exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED and remaining > 0:
        # The request's own deadline ran out (the adapter applies the deployment's timeout
        # itself and answers before this one).
        return make_error(
            ErrorKind.ERROR_KIND_TIMEOUT,
            f"Request timed out after {remaining:.1f}s",
            source=error_pb2.FAILURE_SOURCE_REQUEST,
        )
    return peer_failure("provider-adapter", exc).error


class AdapterClient:
    def __init__(self, sessions: AdapterSessions) -> None:
        self._sessions = sessions

    async def chat(
        self,
        call: Call,
        dep: deployment_pb2.Deployment,
        request: chat_pb2.ChatCompletionRequest,
        remaining: float,
        native: messages_pb2.AnthropicMessagesRequest | None = None,
    ) -> Attempt:
        """``native``: a Messages API request for a deployment that speaks it (the result is
        then the provider's message, JSON bytes)."""
        req = provider_pb2.ChatRequest(deployment=dep, request=request, call_id=call.call_id, anthropic_messages=native)
        return await self._unary(self._sessions.Chat, req, "completion", remaining)

    async def count_tokens(
        self,
        call: Call,
        dep: deployment_pb2.Deployment,
        native: messages_pb2.AnthropicMessagesRequest,
        remaining: float,
    ) -> int | error_pb2.Error:
        """The input tokens of a Messages API request, or the error the deployment answered."""
        req = provider_pb2.CountTokensRequest(deployment=dep, anthropic_messages=native, call_id=call.call_id)
        try:
            resp = await self._sessions.CountTokens(req, timeout=remaining + _ANSWER_MARGIN)
        except grpc.aio.AioRpcError as exc:
            return adapter_error(exc, remaining)
        return resp.error if resp.WhichOneof("result") == "error" else resp.input_tokens

    async def embed(
        self, call: Call, dep: deployment_pb2.Deployment, request: embeddings_pb2.EmbeddingRequest, remaining: float
    ) -> Attempt:
        req = provider_pb2.EmbedRequest(deployment=dep, request=request, call_id=call.call_id)
        return await self._unary(self._sessions.Embed, req, "embeddings", remaining)

    async def generate_image(
        self, call: Call, dep: deployment_pb2.Deployment, request: images_pb2.ImageGenerationRequest, remaining: float
    ) -> Attempt:
        req = provider_pb2.GenerateImageRequest(deployment=dep, request=request, call_id=call.call_id)
        return await self._unary(self._sessions.GenerateImage, req, "images", remaining)

    @staticmethod
    async def _unary(rpc: Callable[..., Awaitable[Any]], req: Any, result_field: str, remaining: float) -> Attempt:
        try:
            resp = await rpc(req, timeout=remaining + _ANSWER_MARGIN)
        except grpc.aio.AioRpcError as exc:
            return Attempt(error=adapter_error(exc, remaining))
        kind = resp.WhichOneof("result")
        if kind == "error":
            return Attempt(error=resp.error, stats=resp.stats)
        if kind == "anthropic_message_json":
            return Attempt(result=resp.anthropic_message_json, stats=resp.stats, usage=resp.usage)
        result = getattr(resp, result_field)
        return Attempt(result=result, stats=resp.stats, usage=result.usage)

    async def open_stream(
        self,
        call: Call,
        dep: deployment_pb2.Deployment,
        request: chat_pb2.ChatCompletionRequest,
        remaining: float,
        native: messages_pb2.AnthropicMessagesRequest | None = None,
    ) -> Attempt:
        """Start a streamed chat (``native``: a Messages API stream, as in ``chat``) and wait for
        its first message: an Attempt whose result is an OpenStream, or the error the provider
        answered before any chunk (still retryable)."""
        stream = self._sessions.ChatStream(
            provider_pb2.ChatStreamRequest(
                deployment=dep, request=request, call_id=call.call_id, anthropic_messages=native
            ),
            timeout=remaining + _ANSWER_MARGIN,
        )
        try:
            async for msg in stream:
                kind = msg.WhichOneof("event")
                if kind == "chunk":
                    return Attempt(result=OpenStream(stream, msg.chunk, dict(msg.stats.rate_limit_headers)))
                if kind == "anthropic_event":
                    return Attempt(result=OpenStream(stream, msg.anthropic_event, dict(msg.stats.rate_limit_headers)))
                if kind == "error":
                    return Attempt(error=msg.error, stats=msg.stats, usage=msg.usage if msg.HasField("usage") else None)
                # An empty answer: the end arrived before any chunk.
                return Attempt(
                    result=OpenStream(stream, None, dict(msg.end.stats.rate_limit_headers)),
                    stats=msg.end.stats,
                    usage=msg.end.usage,
                )
        except grpc.aio.AioRpcError as exc:
            return Attempt(error=adapter_error(exc, remaining))
        return Attempt(error=make_error(ErrorKind.ERROR_KIND_BAD_GATEWAY, "provider stream ended without an answer"))
