"""The contract every provider module implements.

A provider turns an OpenAI-shaped request into one HTTP call (``HttpCall``), parses the answer
back into OpenAI-shaped protos, decodes streamed frames into chunks, and reads its own error
bodies. It never performs I/O itself, except through the async hooks for credentials that must be
fetched (OAuth tokens), so every translation is testable without a network."""

from __future__ import annotations

import enum
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from switchyard.llm.v1 import chat_pb2, deployment_pb2, embeddings_pb2, error_pb2, images_pb2
from switchyard_provider_adapter.domain.allowlists import DEFAULT_ALLOWLISTS, Allowlists
from switchyard_provider_adapter.domain.errors import provider_error, unsupported_param
from switchyard_provider_adapter.domain.framing import NdjsonDecoder, SseDecoder


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
    # Sends an auxiliary call (an OAuth token request) over the adapter's pooled HTTP client:
    # (call, timeout seconds) → (status, headers, body). Set by the executor; the credential
    # hooks of provider modules use it so translation code itself stays free of I/O.
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

    def supports(self, capability: str) -> bool:
        method = {"chat": "chat_call", "embeddings": "embed_call", "images": "image_call"}[capability]
        return getattr(type(self), method) is not getattr(Provider, method)


# --- helpers shared by provider modules -------------------------------------------------

# The tool a json_schema response format is forced through on models without native structured
# output; its arguments are unwrapped back into the message content (LiteLLM's
# RESPONSE_FORMAT_TOOL_NAME, so LiteLLM users see the same name in provider logs).
JSON_TOOL_NAME = "json_tool_call"

# reasoning_effort → Claude thinking budget in tokens (LiteLLM's defaults; 1024 is the minimum),
# used by every module that serves Claude (Anthropic, Bedrock).
THINKING_BUDGETS = {"minimal": 1024, "low": 1024, "medium": 2048, "high": 4096}


def thinking_budget(budget: int, max_tokens: int) -> int:
    """The thinking budget under a ``max_tokens`` cap. Claude wants 1024 <= budget_tokens <
    max_tokens; a cap with no room for the effort's budget (e.g. the one the gateway sets on a
    budgeted request) shrinks it to leave 1024 tokens for the answer, instead of failing."""
    if budget < max_tokens:
        return budget
    return max(THINKING_BUDGETS["minimal"], max_tokens - 1024)


def set_params(req: chat_pb2.ChatCompletionRequest) -> list[str]:
    """The OpenAI parameters a request sets (beyond model/messages/stream)."""
    names = [
        f.name for f, _ in req.ListFields() if f.name not in ("model", "messages", "stream", "extra_json", "options")
    ]
    return names


def check_supported(ctx: CallContext, req: chat_pb2.ChatCompletionRequest, supported: frozenset[str]) -> set[str]:
    """Parameters to drop; raises 400 naming the first unsupported one unless drop_params."""
    dropped = set()
    for name in set_params(req):
        if name not in supported:
            if not ctx.drop_params:
                raise unsupported_param(name, ctx.provider)
            dropped.add(name)
    return dropped


def completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def now() -> int:
    return int(time.time())


def extra_body(req: chat_pb2.ChatCompletionRequest) -> dict[str, Any]:
    return dict(orjson.loads(req.extra_json)) if req.extra_json else {}


def join_url(base: str, *parts: str) -> str:
    url = base.rstrip("/")
    for p in parts:
        url += "/" + p.strip("/")
    return url


def text_of(msg: chat_pb2.ChatMessage) -> str:
    """The text of a message's content (parts joined), for providers that take plain strings."""
    which = msg.WhichOneof("content")
    if which == "text":
        return msg.text
    if which == "parts":
        return "".join(p.text for p in msg.parts.parts if p.WhichOneof("part") == "text")
    return ""


def nonempty(values: Sequence[str]) -> list[str]:
    return [v for v in values if v]
