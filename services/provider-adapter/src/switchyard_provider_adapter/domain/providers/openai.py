"""OpenAI and every OpenAI-compatible server (chat completions, embeddings, images).

Requests are the client's own body with the deployment's model name; responses and streamed
chunks are parsed field by field (unknown keys kept). Usage is always requested for streams so
the cost of a streamed answer equals that of the same answer unstreamed.

The few OpenAI-compatible servers that differ from OpenAI get the quirks LiteLLM applies for
them (each documented where it is applied): Mistral's tool_choice/seed/message fields, Groq's
JSON schema handling and non-streamable response_format, OpenAI's o-series/gpt-5 parameters."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from switchyard.llm.v1 import chat_pb2, embeddings_pb2, images_pb2
from switchyard_llm.openai_codec.chat import chat_request_to_json, chunk_from_json, completion_from_json
from switchyard_llm.openai_codec.embeddings import embedding_request_to_json, embedding_response_from_json
from switchyard_llm.openai_codec.usage import usage_from_json
from switchyard_provider_adapter.domain.errors import ProviderFailure, provider_error
from switchyard_provider_adapter.domain.framing import SseDecoder, SseEvent
from switchyard_provider_adapter.domain.providers import openai_apis
from switchyard_provider_adapter.domain.providers.base import CallContext, HttpCall, Provider, StreamDecoder
from switchyard_provider_adapter.domain.providers.common.answers import StreamState, now
from switchyard_provider_adapter.domain.providers.common.failures import unsupported_param
from switchyard_provider_adapter.domain.providers.common.params import JSON_TOOL_NAME

# Default API bases of OpenAI-compatible providers (used when the deployment sets no api_base).
DEFAULT_API_BASES = {
    "openai": "https://api.openai.com/v1",
    "groq": "https://api.groq.com/openai/v1",
    "together_ai": "https://api.together.xyz/v1",
    "fireworks_ai": "https://api.fireworks.ai/inference/v1",
    "deepseek": "https://api.deepseek.com/v1",
    "xai": "https://api.x.ai/v1",
    "openrouter": "https://openrouter.ai/api/v1",
    "mistral": "https://api.mistral.ai/v1",
    "codestral": "https://codestral.mistral.ai/v1",
    "perplexity": "https://api.perplexity.ai",
    "deepinfra": "https://api.deepinfra.com/v1/openai",
    "cerebras": "https://api.cerebras.ai/v1",
    "nvidia_nim": "https://integrate.api.nvidia.com/v1",
    "sambanova": "https://api.sambanova.ai/v1",
    "lm_studio": "http://localhost:1234/v1",
    "llamafile": "http://localhost:8080/v1",
    "nebius": "https://api.studio.nebius.ai/v1",
    "novita": "https://api.novita.ai/v3/openai",
    "hyperbolic": "https://api.hyperbolic.xyz/v1",
    "moonshot": "https://api.moonshot.ai/v1",
    "dashscope": "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
    "github": "https://models.inference.ai.azure.com",
    "lambda_ai": "https://api.lambda.ai/v1",
}


# Groq models with native `response_format: json_schema`
# (https://console.groq.com/docs/structured-outputs#supported-models); others get the forced
# tool, as LiteLLM does (https://docs.litellm.ai/docs/providers/groq).
_GROQ_NATIVE_JSON_SCHEMA = ("openai/gpt-oss", "moonshotai/kimi-k2", "meta-llama/llama-4")

# Message keys Mistral accepts; anything else is rejected with "extra_forbidden"
# (https://docs.mistral.ai/api/#tag/chat).
_MISTRAL_MESSAGE_KEYS = frozenset({"role", "content", "tool_calls", "tool_call_id", "prefix", "name"})

_REASONING_MODEL = re.compile(r"^(o\d+(-|$)|gpt-5(?!-chat))")


def is_reasoning_model(model: str) -> bool:
    """OpenAI's o-series and gpt-5 reasoning models: they take `max_completion_tokens` instead of
    `max_tokens` and only the default temperature
    (https://platform.openai.com/docs/guides/reasoning#limitations)."""
    return bool(_REASONING_MODEL.match(model.rsplit("/", 1)[-1]))


def join_url(base: str, *parts: str) -> str:
    url = base.rstrip("/")
    for p in parts:
        url += "/" + p.strip("/")
    return url


def completion_chunks(completion: chat_pb2.ChatCompletion) -> list[chat_pb2.ChatCompletionChunk]:
    """A whole completion as the chunks of a stream (used where a stream is faked)."""
    content = chat_pb2.ChatCompletionChunk(id=completion.id, created=completion.created, model=completion.model)
    finish = chat_pb2.ChatCompletionChunk(id=completion.id, created=completion.created, model=completion.model)
    for choice in completion.choices:
        m = choice.message
        ch = content.choices.add(index=choice.index)
        ch.delta.role = "assistant"
        if m.WhichOneof("content") == "text":
            ch.delta.content = m.text
        if m.HasField("reasoning_content"):
            ch.delta.reasoning_content = m.reasoning_content
        for i, tc in enumerate(m.tool_calls):
            t = ch.delta.tool_calls.add(index=i, id=tc.id, type=tc.type or "function")
            t.name = tc.function.name
            t.arguments = tc.function.arguments
        finish.choices.add(index=choice.index, finish_reason=choice.finish_reason or "stop")
    return [content, finish]


class BodyOrSseDecoder:
    """Frames of a streamed answer, or the whole body when the upstream answered a faked stream
    with one JSON document (its first byte tells which)."""

    __slots__ = ("_buf", "_mode", "_sse")

    def __init__(self) -> None:
        self._mode = ""
        self._buf = b""
        self._sse = SseDecoder()

    def feed(self, chunk: bytes) -> list[Any]:
        if not self._mode:
            head = chunk.lstrip()
            if not head:
                self._buf += chunk
                return []
            self._mode = "body" if head[:1] in (b"{", b"[") else "sse"
            chunk, self._buf = self._buf + chunk, b""
        if self._mode == "body":
            self._buf += chunk
            return []
        return list(self._sse.feed(chunk))

    def close(self) -> list[Any]:
        if self._mode == "body":
            body, self._buf = self._buf, b""
            return [body] if body.strip() else []
        return list(self._sse.close())


class OpenAIStreamDecoder(StreamState):
    __slots__ = ("_pending_extra", "_unwrap_json_tool")

    def __init__(self, unwrap_json_tool: bool = False) -> None:
        super().__init__()
        self._unwrap_json_tool = unwrap_json_tool
        # Keys of a choice-less, id-less chunk (Azure's prompt_filter_results) carried over to
        # the next chunk so every chunk of the stream has the stream's id.
        self._pending_extra: dict[str, Any] = {}

    def feed(self, frame: SseEvent | bytes) -> Iterable[chat_pb2.ChatCompletionChunk]:
        if isinstance(frame, bytes):
            # A faked stream: the whole completion arrived as one document.
            obj = orjson.loads(frame)
            if "error" in obj and "choices" not in obj:
                raise ProviderFailure(provider_error("openai", 500, {}, frame))
            completion = completion_from_json(obj)
            if self._unwrap_json_tool:
                unwrap_json_tool(completion)
            self._usage = completion.usage if completion.HasField("usage") else None
            self._finished = True
            return completion_chunks(completion)
        data = frame.data
        if data == "[DONE]":
            self._finished = True
            return ()
        if not data:
            return ()
        obj = orjson.loads(data)
        if "error" in obj and "choices" not in obj:
            raise ProviderFailure(provider_error("openai", 500, {}, data.encode()))
        usage = obj.get("usage")
        if usage:
            self._usage = usage_from_json(usage, chat_pb2.Usage())
            if not obj.get("choices"):
                return ()  # the usage-only chunk; the edge sends its own when the client asked
            obj = {k: v for k, v in obj.items() if k != "usage"}
        if not obj.get("choices") and not obj.get("id"):
            self._pending_extra.update(
                {k: v for k, v in obj.items() if k not in ("id", "object", "created", "model", "choices")}
            )
            return ()
        if self._pending_extra:
            obj = {**self._pending_extra, **obj}
            self._pending_extra = {}
        return (chunk_from_json(obj),)


def unwrap_json_tool(completion: chat_pb2.ChatCompletion) -> None:
    """The forced JSON tool's arguments become the message content."""
    for choice in completion.choices:
        calls = choice.message.tool_calls
        if len(calls) == 1 and calls[0].function.name == JSON_TOOL_NAME:
            choice.message.text = calls[0].function.arguments
            del calls[:]
            if choice.finish_reason == "tool_calls":
                choice.finish_reason = "stop"


class OpenAIProvider(Provider):
    """OpenAI's API and OpenAI-compatible servers (vLLM, LM Studio, llama.cpp, Groq, ...)."""

    def __init__(self, name: str = "openai") -> None:
        self.name = name

    def api_base(self, ctx: CallContext) -> str:
        base = ctx.deployment.api_base or DEFAULT_API_BASES.get(ctx.provider, "")
        if not base:
            raise ProviderFailure(
                provider_error(
                    ctx.provider,
                    400,
                    {},
                    orjson.dumps({"error": {"message": f"deployment {ctx.deployment.id} needs an api_base"}}),
                )
            )
        return base

    def endpoint(self, ctx: CallContext, operation: str) -> str:
        """The URL of an operation (``chat/completions``, ``embeddings``, ``images/generations``)."""
        return join_url(self.api_base(ctx), operation)

    def headers(self, ctx: CallContext) -> dict[str, str]:
        h = {"content-type": "application/json", "accept": "application/json"}
        key = ctx.credentials.get("api_key")
        if key:
            h["authorization"] = f"Bearer {key}"
        org = ctx.params.get("organization")
        if org:
            h["openai-organization"] = str(org)
        h.update(ctx.extra_headers)
        return h

    async def request_headers(self, ctx: CallContext) -> dict[str, str]:
        """Headers of a call; async so a provider can fetch a token first (Azure Entra ID)."""
        return self.headers(ctx)

    def price_model(self, ctx: CallContext) -> str:
        """The model name that tells which quirks apply (Azure deployments name their base model
        in ``model_info.base_model``)."""
        return ctx.deployment.pricing.base_model or ctx.model

    # --- quirks -------------------------------------------------------------------------
    def fakes_stream(self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest) -> bool:
        # Groq cannot stream with response_format; LiteLLM calls it unstreamed and replays the
        # answer as chunks (https://docs.litellm.ai/docs/providers/groq).
        return self.name == "groq" and req.HasField("response_format") and req.response_format.type != "text"

    def forces_json_tool(self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest) -> bool:
        return (
            self.name == "groq"
            and req.HasField("response_format")
            and req.response_format.type == "json_schema"
            and not ctx.model.startswith(_GROQ_NATIVE_JSON_SCHEMA)
        )

    def _apply_quirks(self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest, body: dict[str, Any]) -> None:
        if self.name in ("openai", "azure") and is_reasoning_model(self.price_model(ctx)):
            if "max_tokens" in body:
                tokens = body.pop("max_tokens")
                body.setdefault("max_completion_tokens", tokens)
            if "temperature" in body and body["temperature"] != 1:
                if not ctx.drop_params:
                    raise unsupported_param("temperature", ctx.provider)
                del body["temperature"]
        if self.name in ("mistral", "codestral"):
            self._mistral(body)
        if self.name == "groq":
            self._groq(ctx, req, body)

    @staticmethod
    def _mistral(body: dict[str, Any]) -> None:
        # LiteLLM's Mistral transformation (https://docs.litellm.ai/docs/providers/mistral):
        # tool_choice "required" and the object form become "any" (the object form is not
        # supported), seed is `random_seed`, None values, `name` on non-tool messages and empty
        # assistant messages are dropped because Mistral rejects them.
        tc = body.get("tool_choice")
        if tc == "required" or isinstance(tc, dict):
            body["tool_choice"] = "any"
        if "seed" in body:
            body["random_seed"] = body.pop("seed")
        messages = []
        for m in body["messages"]:
            cleaned = {
                k: v
                for k, v in m.items()
                if v is not None and k in _MISTRAL_MESSAGE_KEYS and (k != "name" or m.get("role") == "tool")
            }
            if cleaned.get("role") == "assistant" and not cleaned.get("content") and not cleaned.get("tool_calls"):
                continue
            messages.append(cleaned)
        body["messages"] = messages

    def _groq(self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest, body: dict[str, Any]) -> None:
        # Groq rejects `function_call: null` on assistant messages (LiteLLM strips it); the codec
        # never writes a null function_call, so there is nothing to strip here.
        if self.forces_json_tool(ctx, req):
            rf = body.pop("response_format")
            js = rf.get("json_schema") or {}
            tool = {
                "type": "function",
                "function": {"name": JSON_TOOL_NAME, "parameters": js.get("schema") or {"type": "object"}},
            }
            body["tools"] = [*body.get("tools", []), tool]
            body["tool_choice"] = {"type": "function", "function": {"name": JSON_TOOL_NAME}}

    def chat_body(self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest, stream: bool) -> dict[str, Any]:
        body = chat_request_to_json(req, model=ctx.model)
        self._apply_quirks(ctx, req, body)
        if stream and not self.fakes_stream(ctx, req):
            body["stream"] = True
            so = body.get("stream_options") or {}
            so["include_usage"] = True
            body["stream_options"] = so
        else:
            body.pop("stream", None)
            body.pop("stream_options", None)
        return body

    def serves(self, ctx: CallContext, endpoint: str) -> bool:
        return openai_apis.serves(self.name, ctx.deployment.supported_endpoints, endpoint)

    def responses_url(self, ctx: CallContext) -> str:
        return self.endpoint(ctx, "responses")

    async def chat_call(self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest, stream: bool) -> HttpCall:
        if req.HasField("native"):
            reasoning = is_reasoning_model(self.price_model(ctx))
            body = openai_apis.responses_body(req, ctx.model, stream, reasoning)
            url = self.responses_url(ctx)
        elif req.HasField("text_completion"):
            body = openai_apis.completions_body(req, ctx.model, stream)
            url = self.endpoint(ctx, "completions")
        else:
            body = self.chat_body(ctx, req, stream)
            url = self.endpoint(ctx, "chat/completions")
            stream = stream and not self.fakes_stream(ctx, req)
        headers = await self.request_headers(ctx)
        if stream:
            headers["accept"] = "text/event-stream"
        return HttpCall("POST", url, headers, orjson.dumps(body))

    def chat_response(
        self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest, body: bytes, headers: Mapping[str, str]
    ) -> chat_pb2.ChatCompletion:
        if req.HasField("native"):
            return openai_apis.responses_completion(ctx.provider, body)
        if req.HasField("text_completion"):
            return openai_apis.completions_completion(body)
        completion = completion_from_json(orjson.loads(body))
        if self.forces_json_tool(ctx, req):
            unwrap_json_tool(completion)
        if not completion.created:
            completion.created = now()
        return completion

    def frame_decoder(self) -> Any:
        return BodyOrSseDecoder() if self.name == "groq" else SseDecoder()

    def stream_decoder(self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest) -> StreamDecoder:
        if req.HasField("native"):
            return openai_apis.ResponsesStreamDecoder(ctx.provider)
        if req.HasField("text_completion"):
            return openai_apis.CompletionsStreamDecoder()
        return OpenAIStreamDecoder(unwrap_json_tool=self.forces_json_tool(ctx, req))

    async def embed_call(self, ctx: CallContext, req: embeddings_pb2.EmbeddingRequest) -> HttpCall:
        body = embedding_request_to_json(req, model=ctx.model)
        return HttpCall("POST", self.endpoint(ctx, "embeddings"), await self.request_headers(ctx), orjson.dumps(body))

    def embed_response(
        self, ctx: CallContext, req: embeddings_pb2.EmbeddingRequest, body: bytes
    ) -> embeddings_pb2.EmbeddingResponse:
        return embedding_response_from_json(orjson.loads(body))

    async def image_call(self, ctx: CallContext, req: images_pb2.ImageGenerationRequest) -> HttpCall:
        body: dict[str, Any] = {"model": ctx.model, "prompt": req.prompt}
        for f in ("n", "size", "quality", "response_format", "style", "user"):
            if req.HasField(f):
                body[f] = getattr(req, f)
        if req.extra_json:
            for k, v in orjson.loads(req.extra_json).items():
                body.setdefault(k, v)
        return HttpCall(
            "POST", self.endpoint(ctx, "images/generations"), await self.request_headers(ctx), orjson.dumps(body)
        )

    def image_response(
        self, ctx: CallContext, req: images_pb2.ImageGenerationRequest, body: bytes
    ) -> images_pb2.ImageGenerationResponse:
        d = orjson.loads(body)
        out = images_pb2.ImageGenerationResponse(created=int(d.get("created") or 0))
        for item in d.get("data") or ():
            img = out.data.add()
            for f in ("url", "b64_json", "revised_prompt"):
                if item.get(f) is not None:
                    setattr(img, f, str(item[f]))
        if isinstance(d.get("usage"), Mapping):
            u = d["usage"]
            out.usage.prompt_tokens = int(u.get("input_tokens") or u.get("prompt_tokens") or 0)
            out.usage.completion_tokens = int(u.get("output_tokens") or u.get("completion_tokens") or 0)
            out.usage.total_tokens = int(u.get("total_tokens") or 0)
        rest = {k: v for k, v in d.items() if k not in ("created", "data", "usage")}
        if rest:
            out.extra_json = orjson.dumps(rest)
        return out
