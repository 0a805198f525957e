"""The Gemini providers: the Gemini API of AI Studio (``gemini/``) and Gemini on Vertex AI
(``vertex_ai/``). Both speak ``generateContent`` / ``streamGenerateContent?alt=sse`` (request.py,
answers.py); only the URL and the credential differ: an API key for AI Studio, an OAuth2 access
token for Vertex from a ``TokenSource`` (clients/google_auth.py). Claude on Vertex is served to
Messages API requests only, natively through rawPredict (claude_messages.py)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import orjson

from switchyard.llm.v1 import chat_pb2, embeddings_pb2, error_pb2, messages_pb2
from switchyard_provider_adapter.domain.providers.base import CallContext, Framing, HttpCall, Provider
from switchyard_provider_adapter.domain.providers.claude_messages import (
    SseMessagesDecoder,
    input_tokens,
    message_usage,
    native_body,
)
from switchyard_provider_adapter.domain.providers.common.answers import estimate_tokens, floats_to_base64
from switchyard_provider_adapter.domain.providers.common.content import json_object
from switchyard_provider_adapter.domain.providers.common.failures import auth_failure, bad_request
from switchyard_provider_adapter.domain.providers.gemini.answers import GeminiStreamDecoder, parse_completion
from switchyard_provider_adapter.domain.providers.gemini.errors import google_error
from switchyard_provider_adapter.domain.providers.gemini.request import SUPPORTED_PARAMS, build_request

AI_STUDIO_BASE = "https://generativelanguage.googleapis.com"
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
# The anthropic_version Vertex AI takes for Claude's Messages API bodies.
VERTEX_ANTHROPIC_VERSION = "vertex-2023-10-16"


def _has_version(base: str) -> bool:
    return bool(re.search(r"/v\d+(?:(?:alpha|beta)\d*)?/?$", base))


class GeminiProvider(Provider):
    """The Gemini API of Google AI Studio (API key in `x-goog-api-key`)."""

    name = "gemini"
    framing = Framing.SSE
    supported_params = SUPPORTED_PARAMS

    def __init__(self, name: str = "gemini") -> None:
        self.name = name

    # --- where and how ------------------------------------------------------------------
    def model_url(self, ctx: CallContext, action: str) -> str:
        base = (ctx.deployment.api_base or AI_STUDIO_BASE).rstrip("/")
        if not _has_version(base):
            base += "/v1beta"
        model = ctx.model
        if not model.startswith(("models/", "tunedModels/")):
            model = f"models/{model}"
        return f"{base}/{model}:{action}"

    async def auth_headers(self, ctx: CallContext) -> dict[str, str]:
        key = ctx.credentials.get("api_key")
        if not key:
            raise auth_failure(self.name, f"deployment '{ctx.deployment.id}' has no api_key")
        return {"x-goog-api-key": key}

    async def _headers(self, ctx: CallContext) -> dict[str, str]:
        h = {"content-type": "application/json", **await self.auth_headers(ctx)}
        h.update(ctx.extra_headers)
        return h

    # --- chat ---------------------------------------------------------------------------
    async def chat_call(self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest, stream: bool) -> HttpCall:
        body = build_request(self.name, ctx, req)
        headers = await self._headers(ctx)
        if stream:
            headers["accept"] = "text/event-stream"
            url = self.model_url(ctx, "streamGenerateContent") + "?alt=sse"
        else:
            url = self.model_url(ctx, "generateContent")
        return HttpCall("POST", url, headers, orjson.dumps(body))

    def chat_response(
        self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest, body: bytes, headers: Mapping[str, str]
    ) -> chat_pb2.ChatCompletion:
        data = orjson.loads(body)
        if isinstance(data, list):  # Vertex may wrap responses in a list
            data = data[0] if data else {}
        return parse_completion(self.name, ctx, data)

    def stream_decoder(self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest) -> GeminiStreamDecoder:
        return GeminiStreamDecoder(self.name, ctx)

    # --- embeddings ---------------------------------------------------------------------
    def _embed_texts(self, req: embeddings_pb2.EmbeddingRequest) -> list[str]:
        if req.WhichOneof("input") != "texts":
            raise bad_request(self.name, "Gemini embeds text, not token arrays", "input")
        return list(req.texts.values)

    def _embed_options(self, req: embeddings_pb2.EmbeddingRequest) -> dict[str, Any]:
        opts: dict[str, Any] = {}
        extra = json_object(req.extra_json)
        task = extra.get("task_type") or extra.get("taskType")
        if task:
            opts["taskType"] = str(task)
        if extra.get("title"):
            opts["title"] = str(extra["title"])
        if req.HasField("dimensions"):
            opts["outputDimensionality"] = req.dimensions
        return opts

    async def embed_call(self, ctx: CallContext, req: embeddings_pb2.EmbeddingRequest) -> HttpCall:
        texts = self._embed_texts(req)
        opts = self._embed_options(req)
        model = ctx.model if ctx.model.startswith("models/") else f"models/{ctx.model}"
        if len(texts) == 1:
            body: dict[str, Any] = {"content": {"parts": [{"text": texts[0]}]}, **opts}
            url = self.model_url(ctx, "embedContent")
        else:
            body = {"requests": [{"model": model, "content": {"parts": [{"text": t}]}, **opts} for t in texts]}
            url = self.model_url(ctx, "batchEmbedContents")
        return HttpCall("POST", url, await self._headers(ctx), orjson.dumps(body))

    def embed_response(
        self, ctx: CallContext, req: embeddings_pb2.EmbeddingRequest, body: bytes
    ) -> embeddings_pb2.EmbeddingResponse:
        data = orjson.loads(body)
        vectors = [data["embedding"]] if "embedding" in data else list(data.get("embeddings") or ())
        out = embeddings_pb2.EmbeddingResponse(model=ctx.model)
        for i, v in enumerate(vectors):
            _add_vector(out, i, v.get("values") or (), req)
        # The Gemini API returns no token counts for embeddings; estimate so spend is not zero.
        tokens = sum(estimate_tokens(t) for t in self._embed_texts(req))
        out.usage.prompt_tokens = tokens
        out.usage.total_tokens = tokens
        return out

    # --- errors -------------------------------------------------------------------------
    def error(self, ctx: CallContext, status: int, headers: Mapping[str, str], body: bytes) -> error_pb2.Error:
        return google_error(self.name, status, headers, body, ctx.secrets())


def _add_vector(
    out: embeddings_pb2.EmbeddingResponse, index: int, values: Iterable[float], req: embeddings_pb2.EmbeddingRequest
) -> None:
    e = out.data.add(index=index)
    if req.HasField("encoding_format") and req.encoding_format == "base64":
        e.base64 = floats_to_base64(values)
    else:
        e.floats.values.extend(values)


# --- Vertex AI ----------------------------------------------------------------------------


class AccessToken(Protocol):
    @property
    def value(self) -> str: ...

    @property
    def project_id(self) -> str: ...


class TokenSource(Protocol):
    """OAuth2 access tokens for Google credentials (the adapter's one I/O besides the call)."""

    async def token(self, provider: str, credentials: str, scopes: tuple[str, ...]) -> AccessToken: ...

    def invalidate(self, credentials: str) -> None: ...


_PARTNER_MODELS = ("claude", "meta/", "llama", "mistral", "codestral", "jamba")


class VertexProvider(GeminiProvider):
    """Gemini on Vertex AI: publisher-model URLs in a project and location, OAuth2 bearer tokens
    from the deployment's service-account credentials (`vertex_credentials`)."""

    def __init__(self, tokens: TokenSource, name: str = "vertex_ai") -> None:
        super().__init__(name)
        self._tokens = tokens

    def _credentials(self, ctx: CallContext) -> str:
        creds = ctx.credentials.get("vertex_credentials")
        if not creds:
            raise auth_failure(self.name, f"deployment '{ctx.deployment.id}' has no vertex_credentials")
        return creds

    async def _token(self, ctx: CallContext) -> AccessToken:
        return await self._tokens.token(self.name, self._credentials(ctx), (CLOUD_PLATFORM_SCOPE,))

    def _location(self, ctx: CallContext) -> str:
        return str(ctx.params.get("vertex_location") or ctx.params.get("vertex_ai_location") or "us-central1")

    def _base(self, ctx: CallContext) -> str:
        if ctx.deployment.api_base:
            base = ctx.deployment.api_base.rstrip("/")
            return base if _has_version(base) else base + "/v1"
        loc = self._location(ctx)
        host = "aiplatform.googleapis.com" if loc == "global" else f"{loc}-aiplatform.googleapis.com"
        return f"https://{host}/v1"

    async def _location_url(self, ctx: CallContext) -> str:
        """``{base}/projects/{project}/locations/{location}``."""
        project = str(ctx.params.get("vertex_project") or ctx.params.get("vertex_ai_project") or "")
        if not project:
            project = (await self._token(ctx)).project_id
        if not project:
            raise bad_request(
                self.name, f"deployment '{ctx.deployment.id}' needs vertex_project (or credentials naming a project)"
            )
        return f"{self._base(ctx)}/projects/{project}/locations/{self._location(ctx)}"

    async def _model_url(self, ctx: CallContext, action: str) -> str:
        model = ctx.model.removeprefix("models/")
        if model.startswith(_PARTNER_MODELS):
            # Partner models on Vertex speak their own vendor's API (rawPredict), not Gemini's.
            raise bad_request(self.name, f"'{model}' is a Vertex partner model; only Gemini models are supported")
        # A numeric model id is a deployed endpoint (e.g. a tuned model), not a publisher model.
        path = f"endpoints/{model}" if model.isdigit() else f"publishers/google/models/{model}"
        return f"{await self._location_url(ctx)}/{path}:{action}"

    # --- Claude, through the Messages API natively --------------------------------------
    # https://cloud.google.com/vertex-ai/generative-ai/docs/partner-models/claude/use-claude
    async def messages_call(
        self, ctx: CallContext, native: messages_pb2.AnthropicMessagesRequest, stream: bool
    ) -> HttpCall:
        action = "streamRawPredict" if stream else "rawPredict"
        url = f"{await self._location_url(ctx)}/publishers/anthropic/models/{ctx.model}:{action}"
        body = native_body(self.name, native, model=None, stream=stream, version=VERTEX_ANTHROPIC_VERSION)
        return HttpCall("POST", url, await self._claude_headers(ctx, native, stream), body)

    async def _claude_headers(
        self, ctx: CallContext, native: messages_pb2.AnthropicMessagesRequest, stream: bool
    ) -> dict[str, str]:
        headers = await self._headers(ctx)
        headers["accept"] = "text/event-stream" if stream else "application/json"
        if native.beta:
            headers["anthropic-beta"] = native.beta
        return headers

    def messages_usage(self, ctx: CallContext, body: bytes) -> chat_pb2.Usage:
        return message_usage(body)

    def messages_decoder(self, ctx: CallContext) -> SseMessagesDecoder:
        return SseMessagesDecoder(self.name)

    async def count_tokens_call(self, ctx: CallContext, native: messages_pb2.AnthropicMessagesRequest) -> HttpCall:
        # Vertex counts Claude tokens at a model of its own, the body naming the model.
        url = f"{await self._location_url(ctx)}/publishers/anthropic/models/count-tokens:rawPredict"
        body = native_body(self.name, native, model=ctx.model, stream=False, version=VERTEX_ANTHROPIC_VERSION)
        return HttpCall("POST", url, await self._claude_headers(ctx, native, False), body)

    def count_tokens_response(self, ctx: CallContext, body: bytes) -> int:
        return input_tokens(body)

    async def auth_headers(self, ctx: CallContext) -> dict[str, str]:
        token = await self._token(ctx)
        return {"authorization": f"Bearer {token.value}"}

    async def chat_call(self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest, stream: bool) -> HttpCall:
        body = build_request(self.name, ctx, req)
        headers = await self._headers(ctx)
        if stream:
            headers["accept"] = "text/event-stream"
            url = await self._model_url(ctx, "streamGenerateContent") + "?alt=sse"
        else:
            url = await self._model_url(ctx, "generateContent")
        return HttpCall("POST", url, headers, orjson.dumps(body))

    async def embed_call(self, ctx: CallContext, req: embeddings_pb2.EmbeddingRequest) -> HttpCall:
        # Vertex serves text-embedding models through the prediction API.
        texts = self._embed_texts(req)
        opts = self._embed_options(req)
        instance_opts = {k: v for k, v in (("task_type", opts.get("taskType")), ("title", opts.get("title"))) if v}
        body: dict[str, Any] = {"instances": [{"content": t, **instance_opts} for t in texts]}
        if "outputDimensionality" in opts:
            body["parameters"] = {"outputDimensionality": opts["outputDimensionality"]}
        return HttpCall("POST", await self._model_url(ctx, "predict"), await self._headers(ctx), orjson.dumps(body))

    def embed_response(
        self, ctx: CallContext, req: embeddings_pb2.EmbeddingRequest, body: bytes
    ) -> embeddings_pb2.EmbeddingResponse:
        data = orjson.loads(body)
        out = embeddings_pb2.EmbeddingResponse(model=ctx.model)
        tokens = 0
        for i, pred in enumerate(data.get("predictions") or ()):
            emb = pred.get("embeddings") or {}
            _add_vector(out, i, emb.get("values") or (), req)
            tokens += int((emb.get("statistics") or {}).get("token_count") or 0)
        out.usage.prompt_tokens = tokens
        out.usage.total_tokens = tokens
        return out

    def error(self, ctx: CallContext, status: int, headers: Mapping[str, str], body: bytes) -> error_pb2.Error:
        if status == 401:
            # The token was revoked or expired early: fetch a new one for the next attempt.
            creds = ctx.credentials.get("vertex_credentials")
            if creds:
                self._tokens.invalidate(creds)
        return google_error(self.name, status, headers, body, ctx.secrets())
