"""OpenAI and every OpenAI-compatible server (chat completions, embeddings, images).

Requests are the client's own body with the deployment's model name; responses and streamed
chunks are parsed field by field (unknown keys kept). Usage is always requested for streams so
the cost of a streamed answer equals that of the same answer unstreamed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from switchyard.llm.v1 import chat_pb2, embeddings_pb2, images_pb2
from switchyard_common.openai_codec import (
    chat_request_to_json,
    chunk_from_json,
    completion_from_json,
    embedding_request_to_json,
    embedding_response_from_json,
    usage_from_json,
)
from switchyard_provider_adapter.domain.errors import ProviderFailure, provider_error
from switchyard_provider_adapter.domain.framing import SseEvent
from switchyard_provider_adapter.domain.providers.base import CallContext, HttpCall, Provider, join_url

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


class OpenAIStreamDecoder:
    __slots__ = ("_finished", "_usage")

    def __init__(self) -> None:
        self._usage: chat_pb2.Usage | None = None
        self._finished = False

    @property
    def usage(self) -> chat_pb2.Usage | None:
        return self._usage

    @property
    def finished(self) -> bool:
        return self._finished

    def feed(self, frame: SseEvent) -> Iterable[chat_pb2.ChatCompletionChunk]:
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
        return (chunk_from_json(obj),)


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

    def chat_body(self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest, stream: bool) -> dict[str, Any]:
        body = chat_request_to_json(req, model=ctx.model)
        if stream:
            body["stream"] = True
            so = body.get("stream_options") or {}
            so["include_usage"] = True
            body["stream_options"] = so
        else:
            body.pop("stream", None)
            body.pop("stream_options", None)
        return body

    async def chat_call(self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest, stream: bool) -> HttpCall:
        body = self.chat_body(ctx, req, stream)
        headers = self.headers(ctx)
        if stream:
            headers["accept"] = "text/event-stream"
        return HttpCall("POST", join_url(self.api_base(ctx), "chat/completions"), headers, orjson.dumps(body))

    def chat_response(
        self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest, body: bytes, headers: Mapping[str, str]
    ) -> chat_pb2.ChatCompletion:
        return completion_from_json(orjson.loads(body))

    def stream_decoder(self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest) -> OpenAIStreamDecoder:
        return OpenAIStreamDecoder()

    async def embed_call(self, ctx: CallContext, req: embeddings_pb2.EmbeddingRequest) -> HttpCall:
        body = embedding_request_to_json(req, model=ctx.model)
        return HttpCall("POST", join_url(self.api_base(ctx), "embeddings"), self.headers(ctx), orjson.dumps(body))

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
            "POST", join_url(self.api_base(ctx), "images/generations"), self.headers(ctx), orjson.dumps(body)
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
