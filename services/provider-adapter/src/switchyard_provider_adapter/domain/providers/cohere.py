"""Cohere's v2 Chat API (https://docs.cohere.com/reference/chat) and v2 Embed.

The request is OpenAI-like with renames (`top_p` → `p`, `stop` → `stop_sequences`, `top_k` → `k`);
tools are OpenAI-shaped; `tool_choice` is REQUIRED or NONE. The assistant's text beside tool calls
is Cohere's `tool_plan`. Streams are SSE with typed events (message-start, content-delta,
tool-plan-delta, tool-call-start/delta/end, citation-start, message-end with finish reason and
usage). Citations are kept as OpenAI-style annotations plus the native objects."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from switchyard.llm.v1 import chat_pb2, embeddings_pb2, error_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_llm.errors import make_error
from switchyard_llm.sampling import MAX_OUTPUT_TOKENS, SamplingTable
from switchyard_provider_adapter.domain.errors import ProviderFailure, provider_error
from switchyard_provider_adapter.domain.framing import SseEvent
from switchyard_provider_adapter.domain.providers.base import CallContext, Framing, HttpCall, Provider
from switchyard_provider_adapter.domain.providers.common.answers import (
    StreamState,
    completion_id,
    floats_to_base64,
    new_tool_call_id,
    now,
)
from switchyard_provider_adapter.domain.providers.common.content import json_object, text_of
from switchyard_provider_adapter.domain.providers.common.failures import auth_failure, bad_request, unsupported_param
from switchyard_provider_adapter.domain.providers.common.params import check_supported

DEFAULT_BASE = "https://api.cohere.com"

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
        # Only OpenAI's abuse monitoring reads the end-user id; Cohere has no such field.
        "user",
        "seed",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "response_format",
        "reasoning_effort",
    }
)

# Top-level fields of Cohere's chat request a client may pass through the body.
_NATIVE = frozenset(
    {"k", "p", "documents", "citation_options", "safety_mode", "strict_tools", "thinking", "priority", "logprobs"}
)

# reasoning_effort → thinking token budget (the budgets LiteLLM uses for Anthropic-style thinking).
_THINKING_BUDGET = {"minimal": 512, "low": 1024, "medium": 2048, "high": 4096}

_SAMPLING = SamplingTable(
    {
        "temperature": "temperature",
        "top_p": "p",
        MAX_OUTPUT_TOKENS: "max_tokens",
        "stop": "stop_sequences",
        "seed": "seed",
        "frequency_penalty": "frequency_penalty",
        "presence_penalty": "presence_penalty",
    }
)

_FINISH = {
    "COMPLETE": "stop",
    "STOP_SEQUENCE": "stop",
    "MAX_TOKENS": "length",
    "TOOL_CALL": "tool_calls",
    "ERROR_TOXIC": "content_filter",
}


def _url(ctx: CallContext, path: str) -> str:
    base = (ctx.deployment.api_base or DEFAULT_BASE).rstrip("/")
    if base.endswith(f"/v2/{path}"):
        return base
    if base.endswith("/v2"):
        return f"{base}/{path}"
    return f"{base}/v2/{path}"


def _content(provider: str, m: chat_pb2.ChatMessage, where: str) -> str | list[dict[str, Any]]:
    which = m.WhichOneof("content")
    if which != "parts":
        return m.text if which == "text" else ""
    parts: list[dict[str, Any]] = []
    for j, p in enumerate(m.parts.parts):
        kind = p.WhichOneof("part")
        if kind == "text":
            parts.append({"type": "text", "text": p.text})
        elif kind == "image_url" and m.role == "user":
            # Cohere's vision models take OpenAI's image_url part as is (data URLs and web URLs).
            img: dict[str, Any] = {"url": p.image_url.url}
            if p.image_url.HasField("detail"):
                img["detail"] = p.image_url.detail
            parts.append({"type": "image_url", "image_url": img})
        else:
            raise bad_request(provider, "this content part type is not supported", f"{where}.content[{j}]")
    return parts


def _messages(provider: str, req: chat_pb2.ChatCompletionRequest) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, m in enumerate(req.messages):
        where = f"messages[{i}]"
        if m.role in ("system", "developer"):
            out.append({"role": "system", "content": _content(provider, m, where)})
        elif m.role == "user":
            out.append({"role": "user", "content": _content(provider, m, where)})
        elif m.role == "assistant":
            msg: dict[str, Any] = {"role": "assistant"}
            calls = [
                {
                    "id": tc.id,
                    "type": "function",
                    "function": {"name": tc.function.name, "arguments": tc.function.arguments or "{}"},
                }
                for tc in m.tool_calls
            ]
            text = text_of(m)
            if calls:
                msg["tool_calls"] = calls
                # Cohere takes the assistant's words before its tool calls as the tool plan.
                if text:
                    msg["tool_plan"] = text
            elif text or m.WhichOneof("content") is not None:
                msg["content"] = text
            out.append(msg)
        elif m.role == "tool":
            if not m.HasField("tool_call_id"):
                raise bad_request(provider, "a tool message needs tool_call_id", f"{where}.tool_call_id")
            out.append({"role": "tool", "tool_call_id": m.tool_call_id, "content": text_of(m)})
        else:
            raise bad_request(provider, f"role '{m.role}' is not supported", f"{where}.role")
    return out


def _tool(t: chat_pb2.Tool) -> dict[str, Any]:
    fn: dict[str, Any] = {"name": t.function.name}
    if t.function.HasField("description"):
        fn["description"] = t.function.description
    if t.function.parameters_json:
        fn["parameters"] = orjson.loads(t.function.parameters_json)
    return {"type": "function", "function": fn}


def build_request(provider: str, ctx: CallContext, req: chat_pb2.ChatCompletionRequest, stream: bool) -> dict[str, Any]:
    check_supported(ctx, req, SUPPORTED_PARAMS)
    if req.HasField("parallel_tool_calls") and not req.parallel_tool_calls and not ctx.drop_params:
        raise unsupported_param("parallel_tool_calls", provider)
    body: dict[str, Any] = {"model": ctx.model, "messages": _messages(provider, req)}
    if stream:
        body["stream"] = True
    for i, t in enumerate(req.tools):
        if t.type != "function":
            raise bad_request(provider, f"tool type '{t.type}' is not supported", f"tools[{i}]")
    tools = [_tool(t) for t in req.tools]
    if req.HasField("tool_choice"):
        which = req.tool_choice.WhichOneof("choice")
        if which == "mode" and req.tool_choice.mode in ("required", "none"):
            body["tool_choice"] = req.tool_choice.mode.upper()
        elif which == "function_name":
            # Cohere cannot name the tool to call; offering only that tool and requiring a call
            # asks for exactly the same thing.
            tools = [t for t in tools if t["function"]["name"] == req.tool_choice.function_name]
            if not tools:
                raise bad_request(provider, "tool_choice names a function that is not in tools", "tool_choice")
            body["tool_choice"] = "REQUIRED"
        elif which != "mode" and not ctx.drop_params:
            raise unsupported_param("tool_choice", provider)
    if tools:
        body["tools"] = tools
    _SAMPLING.apply(req, body)
    if req.HasField("response_format"):
        rf = req.response_format
        if rf.type == "json_object":
            body["response_format"] = {"type": "json_object"}
        elif rf.type == "json_schema":
            fmt: dict[str, Any] = {"type": "json_object"}
            if rf.json_schema.schema_json:
                fmt["json_schema"] = orjson.loads(rf.json_schema.schema_json)
            body["response_format"] = fmt
        elif rf.type != "text" and not ctx.drop_params:
            raise unsupported_param("response_format", provider)
    if req.HasField("reasoning_effort"):
        effort = req.reasoning_effort
        if effort in ("none", "disable"):
            body["thinking"] = {"type": "disabled"}
        elif effort in _THINKING_BUDGET:
            body["thinking"] = {"type": "enabled", "token_budget": _THINKING_BUDGET[effort]}
        elif not ctx.drop_params:
            raise unsupported_param("reasoning_effort", provider)
    for key, value in json_object(req.extra_json).items():
        if key in _NATIVE:
            body[key] = value
        elif key == "top_k":
            body["k"] = value
        elif not ctx.drop_params:
            raise unsupported_param(key, provider)
    return body


# --- response -----------------------------------------------------------------------------


def usage_from_cohere(u: Mapping[str, Any]) -> chat_pb2.Usage:
    """`billed_units` are what Cohere charges (the prompt template it adds is not billed), so they
    are the usage; `tokens` is the fallback. Cache hits are reported apart from the billed input
    and are counted into prompt_tokens, as every adapter does, so they are priced as cache reads."""
    billed = u.get("billed_units") or {}
    tokens = u.get("tokens") or {}
    prompt = billed.get("input_tokens", tokens.get("input_tokens"))
    completion = billed.get("output_tokens", tokens.get("output_tokens"))
    cached = int(u.get("cached_tokens") or 0)
    out = chat_pb2.Usage(prompt_tokens=int(prompt or 0) + cached, completion_tokens=int(completion or 0))
    out.total_tokens = out.prompt_tokens + out.completion_tokens
    if cached:
        out.prompt_tokens_details.cached_tokens = cached
    return out


def _annotations(citations: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """OpenAI `url_citation` annotations for citations whose source document has a URL."""
    out = []
    for c in citations:
        for source in c.get("sources") or ():
            doc = source.get("document") or {}
            url = doc.get("url")
            if url:
                out.append(
                    {
                        "type": "url_citation",
                        "url_citation": {
                            "start_index": int(c.get("start") or 0),
                            "end_index": int(c.get("end") or 0),
                            "url": str(url),
                            "title": str(doc.get("title") or source.get("id") or ""),
                        },
                    }
                )
    return out


def _finish(reason: str, has_tools: bool) -> str:
    if has_tools and reason in ("COMPLETE", "TOOL_CALL"):
        return "tool_calls"
    return _FINISH.get(reason, "stop")


def parse_completion(ctx: CallContext, data: Mapping[str, Any]) -> chat_pb2.ChatCompletion:
    out = chat_pb2.ChatCompletion(
        id=f"chatcmpl-{data['id']}" if data.get("id") else completion_id(), created=now(), model=ctx.model
    )
    choice = out.choices.add(index=0)
    msg = choice.message
    msg.role = "assistant"
    native = data.get("message") or {}
    texts: list[str] = []
    thoughts: list[str] = []
    for part in native.get("content") or ():
        if part.get("type") == "thinking":
            thoughts.append(str(part.get("thinking", "")))
        elif "text" in part:
            texts.append(str(part["text"]))
    for call in native.get("tool_calls") or ():
        fn = call.get("function") or {}
        tc = msg.tool_calls.add(id=str(call.get("id") or new_tool_call_id()), type="function")
        tc.function.name = str(fn.get("name", ""))
        tc.function.arguments = str(fn.get("arguments") or "{}")
    text = "".join(texts) or str(native.get("tool_plan") or "")
    if text or not msg.tool_calls:
        msg.text = text
    if thoughts:
        msg.reasoning_content = "".join(thoughts)
    citations = list(native.get("citations") or ())
    if citations:
        msg.extra_json = orjson.dumps(
            {"annotations": _annotations(citations), "provider_specific_fields": {"citations": citations}}
        )
    reason = str(data.get("finish_reason") or "")
    choice.finish_reason = _finish(reason, bool(msg.tool_calls))
    if reason not in _FINISH:
        choice.extra_json = orjson.dumps({"provider_specific_fields": {"finish_reason": reason}})
    if isinstance(data.get("usage"), Mapping):
        out.usage.CopyFrom(usage_from_cohere(data["usage"]))
    return out


class CohereStreamDecoder(StreamState):
    def __init__(self, ctx: CallContext) -> None:
        super().__init__()
        self._model = ctx.model
        self._id = ""
        self._created = now()
        self._content_types: dict[int, str] = {}
        self._tool_index: dict[int, int] = {}

    def _chunk(self) -> chat_pb2.ChatCompletionChunk:
        if not self._id:
            self._id = completion_id()
        chunk = chat_pb2.ChatCompletionChunk(id=self._id, created=self._created, model=self._model)
        chunk.choices.add(index=0)
        return chunk

    def feed(self, frame: SseEvent) -> Iterable[chat_pb2.ChatCompletionChunk]:
        if not frame.data:
            return ()
        if frame.data == "[DONE]":
            self._finished = True
            return ()
        event = orjson.loads(frame.data)
        kind = str(event.get("type") or frame.event)
        delta = event.get("delta") or {}
        message = delta.get("message") or {}
        index = int(event.get("index") or 0)
        if kind == "message-start":
            if event.get("id"):
                self._id = f"chatcmpl-{event['id']}"
            chunk = self._chunk()
            chunk.choices[0].delta.role = "assistant"
            return (chunk,)
        if kind in ("content-start", "content-delta"):
            content = message.get("content") or {}
            if kind == "content-start":
                self._content_types[index] = str(content.get("type") or "text")
            is_thinking = "thinking" in content or self._content_types.get(index) == "thinking"
            piece = content.get("thinking") if is_thinking else content.get("text")
            if not piece:
                return ()
            chunk = self._chunk()
            if is_thinking:
                chunk.choices[0].delta.reasoning_content = str(piece)
            else:
                chunk.choices[0].delta.content = str(piece)
            return (chunk,)
        if kind == "tool-plan-delta":
            plan = message.get("tool_plan")
            if not plan:
                return ()
            chunk = self._chunk()
            chunk.choices[0].delta.content = str(plan)
            return (chunk,)
        if kind in ("tool-call-start", "tool-call-delta"):
            call = message.get("tool_calls") or {}
            if isinstance(call, list):
                call = call[0] if call else {}
            fn = call.get("function") or {}
            if kind == "tool-call-start":
                self._tool_index[index] = len(self._tool_index)
            chunk = self._chunk()
            t = chunk.choices[0].delta.tool_calls.add(index=self._tool_index.get(index, 0))
            if kind == "tool-call-start":
                t.id = str(call.get("id") or new_tool_call_id())
                t.type = "function"
                t.name = str(fn.get("name", ""))
            if fn.get("arguments"):
                t.arguments = str(fn["arguments"])
            elif kind == "tool-call-delta":
                return ()
            return (chunk,)
        if kind == "citation-start":
            citation = message.get("citations")
            if not citation:
                return ()
            chunk = self._chunk()
            chunk.choices[0].delta.extra_json = orjson.dumps(
                {
                    "annotations": _annotations([citation]),
                    "provider_specific_fields": {"citation": citation},
                }
            )
            return (chunk,)
        if kind == "message-end":
            self._finished = True
            if isinstance(delta.get("usage"), Mapping):
                self._usage = usage_from_cohere(delta["usage"])
            reason = str(delta.get("finish_reason") or "")
            if delta.get("error"):
                raise ProviderFailure(
                    make_error(ErrorKind.ERROR_KIND_INTERNAL_SERVER, f"cohere: {delta['error']}", provider="cohere")
                )
            chunk = self._chunk()
            ch = chunk.choices[0]
            ch.finish_reason = _finish(reason, bool(self._tool_index))
            if reason not in _FINISH:
                ch.extra_json = orjson.dumps({"provider_specific_fields": {"finish_reason": reason}})
            return (chunk,)
        return ()  # content-end, tool-call-end, citation-end, debug


# --- errors -------------------------------------------------------------------------------

_PER_MINUTE = re.compile(r"per minute|/ ?minute", re.IGNORECASE)


def cohere_error(
    provider: str, status: int, headers: Mapping[str, str], body: bytes, secrets: Iterable[str]
) -> error_pb2.Error:
    err = provider_error(provider, status, headers, body, secrets)
    if status == 402:
        # Payment required: the account may not use the API until its billing is fixed; not a
        # malformed request, and no retry helps.
        return make_error(ErrorKind.ERROR_KIND_PERMISSION_DENIED, err.message, provider=provider)
    if (
        err.kind == ErrorKind.ERROR_KIND_RATE_LIMIT
        and not err.HasField("retry_after_seconds")
        and _PER_MINUTE.search(err.message)
    ):
        # Cohere's 429s name per-minute windows ("You are past the per minute request limit")
        # and carry no retry-after; the window is the longest a client has to wait.
        err.retry_after_seconds = 60.0
    return err


class CohereProvider(Provider):
    name = "cohere"
    framing = Framing.SSE
    supported_params = SUPPORTED_PARAMS

    def __init__(self, name: str = "cohere") -> None:
        self.name = name

    def _headers(self, ctx: CallContext) -> dict[str, str]:
        key = ctx.credentials.get("api_key")
        if not key:
            raise auth_failure(self.name, f"deployment '{ctx.deployment.id}' has no api_key")
        h = {"content-type": "application/json", "accept": "application/json", "authorization": f"Bearer {key}"}
        h.update(ctx.extra_headers)
        return h

    async def chat_call(self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest, stream: bool) -> HttpCall:
        body = build_request(self.name, ctx, req, stream)
        headers = self._headers(ctx)
        if stream:
            headers["accept"] = "text/event-stream"
        return HttpCall("POST", _url(ctx, "chat"), headers, orjson.dumps(body))

    def chat_response(
        self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest, body: bytes, headers: Mapping[str, str]
    ) -> chat_pb2.ChatCompletion:
        return parse_completion(ctx, orjson.loads(body))

    def stream_decoder(self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest) -> CohereStreamDecoder:
        return CohereStreamDecoder(ctx)

    async def embed_call(self, ctx: CallContext, req: embeddings_pb2.EmbeddingRequest) -> HttpCall:
        if req.WhichOneof("input") != "texts":
            raise bad_request(self.name, "Cohere embeds text, not token arrays", "input")
        extra = json_object(req.extra_json)
        body: dict[str, Any] = {
            "model": ctx.model,
            "texts": list(req.texts.values),
            # v3+ embedding models require an input type; documents are the common case (LiteLLM's
            # default too). Clients pick another with `input_type`.
            "input_type": str(extra.pop("input_type", "search_document")),
            "embedding_types": ["float"],
        }
        if req.HasField("dimensions"):
            body["output_dimension"] = req.dimensions
        for key in ("truncate", "max_tokens", "priority"):
            if key in extra:
                body[key] = extra.pop(key)
        if extra and not ctx.drop_params:
            raise unsupported_param(next(iter(extra)), self.name)
        return HttpCall("POST", _url(ctx, "embed"), self._headers(ctx), orjson.dumps(body))

    def embed_response(
        self, ctx: CallContext, req: embeddings_pb2.EmbeddingRequest, body: bytes
    ) -> embeddings_pb2.EmbeddingResponse:
        data = orjson.loads(body)
        vectors = (data.get("embeddings") or {}).get("float") or ()
        out = embeddings_pb2.EmbeddingResponse(model=ctx.model)
        base64 = req.HasField("encoding_format") and req.encoding_format == "base64"
        for i, v in enumerate(vectors):
            e = out.data.add(index=i)
            if base64:
                e.base64 = floats_to_base64(v)
            else:
                e.floats.values.extend(v)
        billed = ((data.get("meta") or {}).get("billed_units") or {}).get("input_tokens")
        out.usage.prompt_tokens = int(billed or 0)
        out.usage.total_tokens = out.usage.prompt_tokens
        return out

    def error(self, ctx: CallContext, status: int, headers: Mapping[str, str], body: bytes) -> error_pb2.Error:
        return cohere_error(self.name, status, headers, body, ctx.secrets())
