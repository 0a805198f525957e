"""One client request as the pipeline carries it: what was asked (fixed once the request is
read) and what its attempts have done so far (what its response headers, usage events and
settlement report). What the request holds while it runs (the key's rate-limit ticket, the budget
hold, the router's admissions) is not here: ``pipeline/admission.py`` owns it and gives it back."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from switchyard.auth.v1 import auth_pb2
from switchyard.llm.v1 import chat_pb2, deployment_pb2, embeddings_pb2, error_pb2, images_pb2, messages_pb2
from switchyard.provider.v1 import provider_pb2
from switchyard.router.v1 import router_pb2
from switchyard_edge.domain.tenancy import resolve_model


class CallType(Enum):
    """The kind of call; the value is its name in usage events and spend logs. An ingress dialect
    (Anthropic messages, Responses, legacy completions) is decoded to one of these at the edge
    and travels the same pipeline."""

    CHAT = "chat.completions"
    EMBEDDING = "embeddings"
    IMAGE_GENERATION = "image_generation"
    ANTHROPIC_MESSAGES = "anthropic_messages"
    RESPONSES = "responses"
    TEXT_COMPLETION = "text_completion"

    @property
    def router_type(self) -> router_pb2.CallType:
        """The call type the router plans for."""
        return _ROUTER_TYPES[self]


_ROUTER_TYPES = {
    CallType.CHAT: router_pb2.CALL_TYPE_CHAT,
    CallType.EMBEDDING: router_pb2.CALL_TYPE_EMBEDDING,
    CallType.IMAGE_GENERATION: router_pb2.CALL_TYPE_IMAGE_GENERATION,
    CallType.ANTHROPIC_MESSAGES: router_pb2.CALL_TYPE_CHAT,
    CallType.RESPONSES: router_pb2.CALL_TYPE_CHAT,
    CallType.TEXT_COMPLETION: router_pb2.CALL_TYPE_CHAT,
}


Request = chat_pb2.ChatCompletionRequest | embeddings_pb2.EmbeddingRequest | images_pb2.ImageGenerationRequest


@dataclass(slots=True, eq=False)
class Call:
    principal: auth_pb2.Principal
    call_type: CallType
    model: str
    stream: bool
    options: chat_pb2.RequestOptions
    end_user: str
    # Event-loop time by which the whole request must be answered.
    deadline: float
    call_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    # Prompt size estimate: rate-limit and router admission, and the charge of a stream cut short.
    input_tokens: int = 0
    started: float = field(default_factory=time.perf_counter)
    # --- what the attempts did so far -----------------------------------------------------
    # Number of the next attempt (each attempt's usage event carries its own).
    attempt: int = 0
    retries: int = 0
    fallbacks: int = 0
    cost_usd: float = 0.0
    tokens: int = 0
    upstream_ms: float = 0.0
    # The deployment of the latest attempt and the model group being tried.
    deployment: deployment_pb2.Deployment | None = None
    model_group: str = ""
    max_fallbacks: int | None = None
    # Admitted against a budget (the caller's or its end user's): its output is then bounded.
    budgeted: bool = False

    @classmethod
    def start(
        cls,
        principal: auth_pb2.Principal,
        call_type: CallType,
        request: Request,
        *,
        stream: bool,
        default_timeout: float,
        end_user: str = "",
    ) -> Call:
        """``request`` arriving now; its deadline is its own ``timeout`` or ``default_timeout``.
        The model is what the caller's aliases make of the requested one; the end user is the
        request's ``user``, else ``end_user`` (LiteLLM's ``x-litellm-end-user-id`` header)."""
        options = request.options
        timeout = options.timeout_seconds if options.HasField("timeout_seconds") else default_timeout
        return cls(
            principal=principal,
            call_type=call_type,
            model=resolve_model(principal, request.model),
            stream=stream,
            options=options,
            end_user=request.user or end_user,
            deadline=asyncio.get_running_loop().time() + timeout,
        )

    def remaining(self) -> float:
        return self.deadline - asyncio.get_running_loop().time()

    def guardrails(self) -> list[str]:
        """The key's guardrails and the request's own, each once."""
        key, own = self.principal.guardrails, self.options.guardrails
        if not key and not own:
            return []  # the common case, asked several times a request
        return list(dict.fromkeys([*key, *own]))

    def count(self, stats: provider_pb2.CallStats | None, usage: chat_pb2.Usage | None) -> None:
        """Add one attempt's provider time, cost and tokens to the request's totals."""
        if stats is not None:
            self.upstream_ms += stats.upstream_ms
            if stats.cost_usd:
                self.cost_usd += float(stats.cost_usd)
        if usage is not None:
            self.tokens += usage.total_tokens

    def headers(self) -> dict[str, str]:
        h = {
            "x-litellm-call-id": self.call_id,
            "x-litellm-attempted-retries": str(self.retries),
            "x-litellm-attempted-fallbacks": str(self.fallbacks),
        }
        if self.max_fallbacks is not None:
            h["x-litellm-max-fallbacks"] = str(self.max_fallbacks)
        if self.model_group:
            h["x-litellm-model-group"] = self.model_group
        if self.deployment is not None:
            h["x-litellm-model-id"] = self.deployment.id
        return h

    def overhead_ms(self) -> float:
        return max(0.0, (time.perf_counter() - self.started) * 1000 - self.upstream_ms)


@dataclass(slots=True)
class Attempt:
    """What invoking one deployment produced: a result (the completion, embeddings, images, or
    an open stream with its first chunk) or an error, with the provider's stats and usage."""

    result: Any = None
    error: error_pb2.Error | None = None
    stats: provider_pb2.CallStats | None = None
    usage: chat_pb2.Usage | None = None


@dataclass(slots=True)
class Completed:
    call: Call
    result: Any
    stats: provider_pb2.CallStats


async def _nothing() -> None:
    return None


@dataclass(slots=True)
class Streaming:
    """A stream whose first chunk has arrived (so the response can start); ``chunks`` yields the
    rest and settles the call at the end. A Messages API stream a Claude deployment answers
    natively carries the provider's events instead of chunks (``first`` is its first event)."""

    call: Call
    first: chat_pb2.ChatCompletionChunk | messages_pb2.AnthropicEvent
    chunks: AsyncIterator[provider_pb2.ChatStreamResponse]
    rate_limit_headers: dict[str, str]
    # Called once the response is over, however it ended: settles a stream whose rest was never
    # read (the client went away before the body started), which ``chunks`` cannot do.
    close: Callable[[], Awaitable[None]] = _nothing

    @property
    def first_chunk(self) -> chat_pb2.ChatCompletionChunk:
        """The first chunk of a stream of chunks: every stream but a Messages API request's."""
        assert isinstance(self.first, chat_pb2.ChatCompletionChunk), "only Messages API requests stream events"
        return self.first
