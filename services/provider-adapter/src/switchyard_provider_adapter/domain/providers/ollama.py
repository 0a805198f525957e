"""Ollama's native chat API (`POST /api/chat`, https://github.com/ollama/ollama/blob/main/docs/api.md)
and `POST /api/embed`.

Sampling parameters go into `options` (`max_tokens` → `num_predict`); `response_format` becomes
`format` ("json" or a JSON schema); `reasoning_effort` becomes `think`; images travel base64 in a
message's `images`; tool-call arguments are JSON objects, not strings. Streams are NDJSON: one
object per line, the last with `done: true`, `done_reason` and the token counts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from switchyard.llm.v1 import chat_pb2, embeddings_pb2, error_pb2
from switchyard_llm.sampling import MAX_OUTPUT_TOKENS, SamplingTable
from switchyard_provider_adapter.domain.errors import ProviderFailure, provider_error
from switchyard_provider_adapter.domain.providers.base import CallContext, Framing, HttpCall, Provider
from switchyard_provider_adapter.domain.providers.common.answers import (
    StreamState,
    completion_id,
    floats_to_base64,
    new_tool_call_id,
    now,
)
from switchyard_provider_adapter.domain.providers.common.content import (
    json_object,
    parse_data_url,
    text_of,
    tool_arguments,
    tool_names_by_id,
)
from switchyard_provider_adapter.domain.providers.common.failures import bad_request, unsupported_param
from switchyard_provider_adapter.domain.providers.common.params import check_supported

DEFAULT_BASE = "http://localhost:11434"

SUPPORTED_PARAMS = frozenset(
    {
        "temperature",
        "top_p",
        "stream_options",
        "stop",
        "max_tokens",
        "max_completion_tokens",
        "presence_penalty",
        "frequency_penalty",
        # OpenAI's end-user id feeds only OpenAI's abuse monitoring; Ollama has nothing like it.
        "user",
        "seed",
        "tools",
        # Accepted and not forwarded: Ollama has no tool_choice, and LiteLLM found that sending
        # one "causes ollama requests to hang"; `none` is honoured by not offering the tools.
        "tool_choice",
        "parallel_tool_calls",
        "response_format",
        "reasoning_effort",
    }
)

# Model options (the `options` object) a client may set through the request body.
_OPTIONS = frozenset(
    {
        "num_ctx",
        "num_keep",
        "num_predict",
        "top_k",
        "min_p",
        "typical_p",
        "repeat_last_n",
        "repeat_penalty",
        "mirostat",
        "mirostat_tau",
        "mirostat_eta",
        "penalize_newline",
        "num_batch",
        "num_gpu",
        "main_gpu",
        "use_mmap",
        "num_thread",
        "tfs_z",
    }
)
# Sampling parameters go into the model options.
_SAMPLING = SamplingTable(
    {
        "temperature": "temperature",
        "top_p": "top_p",
        MAX_OUTPUT_TOKENS: "num_predict",
        "stop": "stop",
        "seed": "seed",
        "presence_penalty": "presence_penalty",
        "frequency_penalty": "frequency_penalty",
    }
)
# Top-level request fields a client may set through the body.
_TOP_LEVEL = frozenset({"keep_alive", "format", "think", "truncate", "shift"})


def _user_message(provider: str, m: chat_pb2.ChatMessage, where: str) -> dict[str, Any]:
    if m.WhichOneof("content") != "parts":
        return {"role": "user", "content": text_of(m)}
    texts: list[str] = []
    images: list[str] = []
    for j, p in enumerate(m.parts.parts):
        kind = p.WhichOneof("part")
        param = f"{where}.content[{j}]"
        if kind == "text":
            texts.append(p.text)
        elif kind == "image_url":
            try:
                data = parse_data_url(p.image_url.url)
            except ValueError as exc:
                raise bad_request(provider, str(exc), param) from None
            if data is None:
                # Ollama takes image bytes only. Fetching the URL here would make the gateway
                # request arbitrary client-chosen URLs from inside the cluster (an SSRF path next
                # to the provider credentials) and hold the call on a third-party host; the
                # client can send the image as a base64 data URL instead.
                raise bad_request(
                    provider, "Ollama takes images as base64 data URLs (data:image/...;base64,...), not links", param
                )
            images.append(data.data)
        else:
            raise bad_request(provider, "this content part type is not supported", param)
    msg: dict[str, Any] = {"role": "user", "content": "\n".join(texts)}
    if images:
        msg["images"] = images
    return msg


def _messages(provider: str, req: chat_pb2.ChatCompletionRequest) -> list[dict[str, Any]]:
    names = tool_names_by_id(req.messages)
    out: list[dict[str, Any]] = []
    for i, m in enumerate(req.messages):
        where = f"messages[{i}]"
        if m.role in ("system", "developer"):
            out.append({"role": "system", "content": text_of(m)})
        elif m.role == "user":
            out.append(_user_message(provider, m, where))
        elif m.role == "assistant":
            msg: dict[str, Any] = {"role": "assistant", "content": text_of(m)}
            if m.HasField("reasoning_content"):
                msg["thinking"] = m.reasoning_content
            if m.tool_calls:
                msg["tool_calls"] = [
                    {
                        "function": {
                            "name": tc.function.name,
                            "arguments": tool_arguments(
                                tc.function.arguments,
                                provider,
                                f"{where}.tool_calls[{j}].function.arguments",
                                f"{where}.tool_calls[{j}].function.arguments",
                            ),
                        }
                    }
                    for j, tc in enumerate(m.tool_calls)
                ]
            out.append(msg)
        else:  # tool / function results
            msg = {"role": "tool", "content": text_of(m)}
            name = names.get(m.tool_call_id) if m.HasField("tool_call_id") else None
            name = name or (m.name if m.HasField("name") else None)
            if name:
                msg["tool_name"] = name
            out.append(msg)
    return out


def _think(model: str, effort: str) -> bool | str:
    if effort in ("none", "disable"):
        return False
    # gpt-oss models take a level instead of on/off.
    if "gpt-oss" in model:
        return "low" if effort == "minimal" else effort
    return True


def build_request(provider: str, ctx: CallContext, req: chat_pb2.ChatCompletionRequest, stream: bool) -> dict[str, Any]:
    check_supported(ctx, req, SUPPORTED_PARAMS)
    if req.HasField("parallel_tool_calls") and not req.parallel_tool_calls and not ctx.drop_params:
        raise unsupported_param("parallel_tool_calls", provider)
    # Ollama streams unless told otherwise.
    body: dict[str, Any] = {"model": ctx.model, "messages": _messages(provider, req), "stream": stream}
    offer_tools = not (req.tool_choice.WhichOneof("choice") == "mode" and req.tool_choice.mode == "none")
    if req.tools and offer_tools:
        tools = []
        for i, t in enumerate(req.tools):
            if t.type != "function":
                raise bad_request(provider, f"tool type '{t.type}' is not supported", f"tools[{i}]")
            fn: dict[str, Any] = {"name": t.function.name}
            if t.function.HasField("description"):
                fn["description"] = t.function.description
            if t.function.parameters_json:
                fn["parameters"] = orjson.loads(t.function.parameters_json)
            tools.append({"type": "function", "function": fn})
        body["tools"] = tools
    options = _SAMPLING.apply(req, {})
    if req.HasField("response_format"):
        rf = req.response_format
        if rf.type == "json_object":
            body["format"] = "json"
        elif rf.type == "json_schema":
            body["format"] = orjson.loads(rf.json_schema.schema_json) if rf.json_schema.schema_json else "json"
        elif rf.type != "text" and not ctx.drop_params:
            raise unsupported_param("response_format", provider)
    if req.HasField("reasoning_effort"):
        body["think"] = _think(ctx.model, req.reasoning_effort)
    for key, value in json_object(req.extra_json).items():
        if key in _TOP_LEVEL:
            body[key] = value
        elif key == "options" and isinstance(value, Mapping):
            options.update(value)
        elif key in _OPTIONS:
            options[key] = value
        elif not ctx.drop_params:
            raise unsupported_param(key, provider)
    if options:
        body["options"] = options
    return body


def _usage(data: Mapping[str, Any]) -> chat_pb2.Usage:
    # prompt_eval_count is absent when the whole prompt came from Ollama's KV cache.
    u = chat_pb2.Usage(
        prompt_tokens=int(data.get("prompt_eval_count") or 0), completion_tokens=int(data.get("eval_count") or 0)
    )
    u.total_tokens = u.prompt_tokens + u.completion_tokens
    return u


def _finish(done_reason: str, has_tools: bool) -> str:
    if done_reason == "length":
        return "length"
    return "tool_calls" if has_tools else "stop"


def _arguments(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value if value is not None else {}).decode()


def parse_completion(ctx: CallContext, data: Mapping[str, Any]) -> chat_pb2.ChatCompletion:
    out = chat_pb2.ChatCompletion(id=completion_id(), created=now(), model=str(data.get("model") or ctx.model))
    native = data.get("message") or {}
    choice = out.choices.add(index=0)
    msg = choice.message
    msg.role = "assistant"
    for call in native.get("tool_calls") or ():
        fn = call.get("function") or {}
        tc = msg.tool_calls.add(id=str(call.get("id") or new_tool_call_id()), type="function")
        tc.function.name = str(fn.get("name", ""))
        tc.function.arguments = _arguments(fn.get("arguments"))
    content = str(native.get("content") or "")
    if content or not msg.tool_calls:
        msg.text = content
    if native.get("thinking"):
        msg.reasoning_content = str(native["thinking"])
    choice.finish_reason = _finish(str(data.get("done_reason") or ""), bool(msg.tool_calls))
    out.usage.CopyFrom(_usage(data))
    return out


class OllamaStreamDecoder(StreamState):
    """NDJSON lines → chunks; the `done: true` line carries the finish reason and counts."""

    def __init__(self, provider: str, ctx: CallContext) -> None:
        super().__init__()
        self._provider = provider
        self._model = ctx.model
        self._id = completion_id()
        self._created = now()
        self._started = False
        self._tools = 0

    def feed(self, line: bytes) -> Iterable[chat_pb2.ChatCompletionChunk]:
        data = orjson.loads(line)
        if data.get("error"):
            # An error after the stream started arrives as a line of its own.
            raise ProviderFailure(provider_error(self._provider, 500, {}, line))
        native = data.get("message") or {}
        chunk = chat_pb2.ChatCompletionChunk(
            id=self._id, created=self._created, model=str(data.get("model") or self._model)
        )
        ch = chunk.choices.add(index=0)
        d = ch.delta
        if not self._started:
            self._started = True
            d.role = "assistant"
        if native.get("content"):
            d.content = str(native["content"])
        if native.get("thinking"):
            d.reasoning_content = str(native["thinking"])
        for call in native.get("tool_calls") or ():
            # Ollama sends each tool call whole.
            fn = call.get("function") or {}
            t = d.tool_calls.add(index=self._tools, id=str(call.get("id") or new_tool_call_id()), type="function")
            t.name = str(fn.get("name", ""))
            t.arguments = _arguments(fn.get("arguments"))
            self._tools += 1
        if data.get("done"):
            self._finished = True
            self._usage = _usage(data)
            ch.finish_reason = _finish(str(data.get("done_reason") or ""), self._tools > 0)
        elif not (d.HasField("role") or d.HasField("content") or d.HasField("reasoning_content") or d.tool_calls):
            return ()
        return (chunk,)


class OllamaProvider(Provider):
    name = "ollama"
    framing = Framing.NDJSON
    supported_params = SUPPORTED_PARAMS

    def __init__(self, name: str = "ollama") -> None:
        self.name = name

    def _url(self, ctx: CallContext, path: str) -> str:
        base = (ctx.deployment.api_base or DEFAULT_BASE).rstrip("/")
        return f"{base}/api/{path}"

    def _headers(self, ctx: CallContext) -> dict[str, str]:
        h = {"content-type": "application/json"}
        # Local Ollama needs no key; ollama.com and authenticating proxies take a bearer token.
        key = ctx.credentials.get("api_key")
        if key:
            h["authorization"] = f"Bearer {key}"
        h.update(ctx.extra_headers)
        return h

    async def chat_call(self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest, stream: bool) -> HttpCall:
        body = build_request(self.name, ctx, req, stream)
        return HttpCall("POST", self._url(ctx, "chat"), self._headers(ctx), orjson.dumps(body))

    def chat_response(
        self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest, body: bytes, headers: Mapping[str, str]
    ) -> chat_pb2.ChatCompletion:
        return parse_completion(ctx, orjson.loads(body))

    def stream_decoder(self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest) -> OllamaStreamDecoder:
        return OllamaStreamDecoder(self.name, ctx)

    async def embed_call(self, ctx: CallContext, req: embeddings_pb2.EmbeddingRequest) -> HttpCall:
        if req.WhichOneof("input") != "texts":
            raise bad_request(self.name, "Ollama embeds text, not token arrays", "input")
        body: dict[str, Any] = {"model": ctx.model, "input": list(req.texts.values)}
        if req.HasField("dimensions"):
            body["dimensions"] = req.dimensions
        for key, value in json_object(req.extra_json).items():
            if key in ("keep_alive", "truncate", "options"):
                body[key] = value
            elif not ctx.drop_params:
                raise unsupported_param(key, self.name)
        return HttpCall("POST", self._url(ctx, "embed"), self._headers(ctx), orjson.dumps(body))

    def embed_response(
        self, ctx: CallContext, req: embeddings_pb2.EmbeddingRequest, body: bytes
    ) -> embeddings_pb2.EmbeddingResponse:
        data = orjson.loads(body)
        out = embeddings_pb2.EmbeddingResponse(model=str(data.get("model") or ctx.model))
        base64 = req.HasField("encoding_format") and req.encoding_format == "base64"
        for i, v in enumerate(data.get("embeddings") or ()):
            e = out.data.add(index=i)
            if base64:
                e.base64 = floats_to_base64(v)
            else:
                e.floats.values.extend(v)
        out.usage.prompt_tokens = int(data.get("prompt_eval_count") or 0)
        out.usage.total_tokens = out.usage.prompt_tokens
        return out

    def error(self, ctx: CallContext, status: int, headers: Mapping[str, str], body: bytes) -> error_pb2.Error:
        return provider_error(self.name, status, headers, body, ctx.secrets())
