"""The contract every provider module implements.

A provider turns an OpenAI-shaped request into one HTTP call (``HttpCall``), parses the answer
back into OpenAI-shaped protos, decodes streamed frames into chunks, and reads its own error
bodies. It performs no I/O: temporary credentials (STS, Google and Entra ID tokens) come from the
token sources in clients/ it is given at start, so every translation is testable without a network.
What the modules share lives in common/ (and claude.py for the two APIs that serve Claude)."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from switchyard.llm.v1 import chat_pb2, deployment_pb2, embeddings_pb2, error_pb2, images_pb2, messages_pb2
from switchyard_provider_adapter.domain.allowlists import DEFAULT_ALLOWLISTS, Allowlists
from switchyard_provider_adapter.domain.errors import provider_error
from switchyard_provider_adapter.domain.framing import NdjsonDecoder, SseDecoder
from switchyard_provider_adapter.domain.providers.common.failures import bad_request, unsupported


class Framing(enum.Enum):
    SSE = "sse"
    NDJSON = "ndjson"
    AWS_EVENTSTREAM = "aws-eventstream"


@dataclass(slots=True)
class HttpCall:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None = None


@dataclass(slots=True)
class CallContext:
    """Everything a provider needs for one call besides the request itself."""

    deployment: deployment_pb2.Deployment
    # Resolved credential params of this deployment (api_key, aws_secret_access_key, ...).
    credentials: Mapping[str, str]
    # Non-secret litellm_params of the deployment (api_version, vertex_project, ...).
    params: Mapping[str, Any]
    call_id: str
    # Effective drop_params (deployment setting or request option).
    drop_params: bool = False
    extra_headers: dict[str, str] = field(default_factory=dict)
    # Sends an auxiliary call (an STS or Entra ID token request) over the adapter's pooled HTTP
    # client: (call, timeout seconds) → (status, headers, body). Set by the executor; the token
    # sources in clients/ send with it, so translation code itself stays free of I/O.
    send: Callable[[HttpCall, float], Awaitable[tuple[int, Mapping[str, str], bytes]]] | None = None
    # Headers of the provider's answer, for parsers of answers whose usage travels in headers
    # (Bedrock InvokeModel's x-amzn-bedrock-input-token-count). Set by the executor.
    response_headers: Mapping[str, str] = field(default_factory=dict)
    # Buckets a request may name objects of (s3:// for Bedrock, gs:// for Gemini/Vertex).
    allowlists: Allowlists = DEFAULT_ALLOWLISTS

    @property
    def provider(self) -> str:
        return self.deployment.provider

    @property
    def model(self) -> str:
        return self.deployment.model

    def secrets(self) -> list[str]:
        return [v for v in self.credentials.values() if isinstance(v, str)]


class StreamDecoder(Protocol):
    """Turns decoded frames (SSE events, NDJSON lines or AWS event-stream messages) into chunks."""

    def feed(self, frame: Any) -> Iterable[chat_pb2.ChatCompletionChunk]: ...

    @property
    def usage(self) -> chat_pb2.Usage | None: ...

    @property
    def finished(self) -> bool: ...


class Provider:
    """Base class with the behaviour most providers share; modules override what differs."""

    name: str = ""
    framing: Framing = Framing.SSE
    # OpenAI parameters this provider can express; others fail with 400 unless dropped.
    supported_params: frozenset[str] = frozenset()

    # --- chat ---------------------------------------------------------------------------
    async def chat_call(self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest, stream: bool) -> HttpCall:
        raise NotImplementedError(f"{self.name}: chat is not supported")

    def chat_response(
        self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest, body: bytes, headers: Mapping[str, str]
    ) -> chat_pb2.ChatCompletion:
        raise NotImplementedError(f"{self.name}: chat is not supported")

    def stream_decoder(self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest) -> StreamDecoder:
        raise NotImplementedError(f"{self.name}: streaming is not supported")

    # --- Anthropic's Messages API, natively (claude_messages.py) ----------------------------
    # Only deployments that speak it are sent such requests (switchyard_llm.anthropic_messages).
    async def messages_call(
        self, ctx: CallContext, native: messages_pb2.AnthropicMessagesRequest, stream: bool
    ) -> HttpCall:
        raise bad_request(self.name, "this deployment does not speak Anthropic's Messages API", "model")

    def messages_usage(self, ctx: CallContext, body: bytes) -> chat_pb2.Usage:
        raise NotImplementedError(f"{self.name}: the Messages API is not spoken")

    def messages_decoder(self, ctx: CallContext) -> Any:
        """Frames (as ``frame_decoder`` splits them) → AnthropicEvents, with ``usage`` and
        ``finished`` as a StreamDecoder has them."""
        raise NotImplementedError(f"{self.name}: the Messages API is not spoken")

    async def count_tokens_call(self, ctx: CallContext, native: messages_pb2.AnthropicMessagesRequest) -> HttpCall:
        raise unsupported(self.name, f"{self.name} does not count tokens", "model")

    def count_tokens_response(self, ctx: CallContext, body: bytes) -> int:
        raise NotImplementedError(f"{self.name}: tokens are not counted")

    # --- embeddings and images ----------------------------------------------------------
    async def embed_call(self, ctx: CallContext, req: embeddings_pb2.EmbeddingRequest) -> HttpCall:
        raise NotImplementedError(f"{self.name}: embeddings are not supported")

    def embedding_inputs_per_call(self, ctx: CallContext) -> int | None:
        """Most inputs one embeddings call to this model takes (None: no limit); a request with
        more is sent as several calls and their answers joined."""
        return None

    def embed_response(
        self, ctx: CallContext, req: embeddings_pb2.EmbeddingRequest, body: bytes
    ) -> embeddings_pb2.EmbeddingResponse:
        raise NotImplementedError(f"{self.name}: embeddings are not supported")

    async def image_call(self, ctx: CallContext, req: images_pb2.ImageGenerationRequest) -> HttpCall:
        raise NotImplementedError(f"{self.name}: image generation is not supported")

    def image_response(
        self, ctx: CallContext, req: images_pb2.ImageGenerationRequest, body: bytes
    ) -> images_pb2.ImageGenerationResponse:
        raise NotImplementedError(f"{self.name}: image generation is not supported")

    def frame_decoder(self) -> Any:
        """Splits the streamed body into frames for ``stream_decoder``: an object with
        ``feed(bytes) -> list`` and ``close() -> list``."""
        if self.framing is Framing.SSE:
            return SseDecoder()
        if self.framing is Framing.NDJSON:
            return NdjsonDecoder()
        raise NotImplementedError(f"{self.name}: no frame decoder for {self.framing}")

    # --- errors -------------------------------------------------------------------------
    def error(self, ctx: CallContext, status: int, headers: Mapping[str, str], body: bytes) -> error_pb2.Error:
        return provider_error(self.name or ctx.provider, status, headers, body, ctx.secrets())

    def serves(self, ctx: CallContext, endpoint: str) -> bool:
        """Whether the deployment serves another OpenAI API itself (``/v1/responses``,
        ``/v1/completions``): its requests in that API are then sent to it as they are."""
        return False

    def supports(self, capability: str) -> bool:
        method = {"chat": "chat_call", "embeddings": "embed_call", "images": "image_call"}[capability]
        return getattr(type(self), method) is not getattr(Provider, method)
