"""Anthropic Messages API (https://docs.anthropic.com/en/api/messages).

OpenAI chat requests become ``POST /v1/messages`` bodies: system messages move to the top-level
``system``, tool results become ``tool_result`` blocks of a user turn, assistant tool calls become
``tool_use`` blocks, images become ``image`` blocks. Answers and the SSE event stream
(https://docs.anthropic.com/en/docs/build-with-claude/streaming) come back as OpenAI completions
and chunks; thinking blocks become ``reasoning_content`` and are also returned as
``thinking_blocks`` (with their signatures) so a client can send them back on the next turn."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from switchyard.llm.v1 import chat_pb2, messages_pb2
from switchyard_llm.sampling import SamplingTable, max_output_tokens
from switchyard_provider_adapter.domain.errors import ProviderFailure, provider_error
from switchyard_provider_adapter.domain.framing import SseEvent
from switchyard_provider_adapter.domain.providers.base import CallContext, HttpCall, Provider
from switchyard_provider_adapter.domain.providers.claude import (
    ERROR_TYPE_STATUS,
    ClaudeMessage,
    ToolBlocks,
    build_turns,
    citation_delta,
    redacted_thinking_block,
    supports_native_json_schema,
    thinking,
    thinking_block,
    thinking_delta,
    tool_use_id,
    tool_uses,
    usage_from_anthropic,
)
from switchyard_provider_adapter.domain.providers.claude_messages import (
    SseMessagesDecoder,
    input_tokens,
    message_usage,
    native_body,
)
from switchyard_provider_adapter.domain.providers.common.answers import StreamState, mapped_finish, now
from switchyard_provider_adapter.domain.providers.common.content import json_object, parse_data_url
from switchyard_provider_adapter.domain.providers.common.failures import bad_request, unsupported, unsupported_param
from switchyard_provider_adapter.domain.providers.common.params import JSON_TOOL_NAME, check_supported

PROVIDER = "anthropic"
DEFAULT_API_BASE = "https://api.anthropic.com"
ANTHROPIC_VERSION = "2023-06-01"


SUPPORTED_PARAMS = frozenset(
    {
        "temperature",
        "top_p",
        "max_tokens",
        "max_completion_tokens",
        "stop",
        "user",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "response_format",
        "reasoning_effort",
        "stream_options",
        "n",
    }
)

_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}

_SAMPLING = SamplingTable({"temperature": "temperature", "top_p": "top_p"})


def default_max_tokens(model: str) -> int:
    """``max_tokens`` is required by the Messages API. Claude 3 (not 3.5/3.7) models cap output
    at 4096 tokens; later models accept more, 8192 keeps non-streaming calls short."""
    if re.search(r"claude-3-(opus|sonnet|haiku)", model) or model.startswith("claude-instant"):
        return 4096
    return 8192


def _image_block(url: str) -> dict[str, Any]:
    try:
        data = parse_data_url(url)
    except ValueError:
        data = None
    if data is not None:
        return {
            "type": "image",
            "source": {"type": "base64", "media_type": data.mime or "image/png", "data": data.data},
        }
    if url.startswith(("http://", "https://")):
        return {"type": "image", "source": {"type": "url", "url": url}}
    raise bad_request(PROVIDER, "image_url must be an http(s) URL or a base64 data URL", "messages")


def _file_block(f: chat_pb2.FileContent) -> dict[str, Any]:
    if f.HasField("file_data"):
        try:
            data = parse_data_url(f.file_data)
        except ValueError:
            data = None
        if data is None:
            raise bad_request(PROVIDER, "file.file_data must be a base64 data URL", "messages")
        mime = data.mime or "application/pdf"
        return {
            "type": "image" if mime.startswith("image/") else "document",
            "source": {"type": "base64", "media_type": mime, "data": data.data},
        }
    if f.HasField("file_id"):
        # Files uploaded with Anthropic's Files API are referenced by id.
        return {"type": "document", "source": {"type": "file", "file_id": f.file_id}}
    raise bad_request(PROVIDER, "a file part needs file_data or file_id", "messages")


class AnthropicStreamDecoder(StreamState):
    """Messages API SSE events → OpenAI chunks, one chunk per event that carries content."""

    __slots__ = ("_created", "_id", "_model", "_tools")

    def __init__(self, json_tool: bool) -> None:
        super().__init__()
        self._id = ""
        self._model = ""
        self._created = now()
        self._tools = ToolBlocks(json_tool)

    def _chunk(self) -> tuple[chat_pb2.ChatCompletionChunk, chat_pb2.ChunkChoice]:
        c = chat_pb2.ChatCompletionChunk(id=self._id, created=self._created, model=self._model)
        return c, c.choices.add(index=0)

    def feed(self, frame: SseEvent) -> Iterable[chat_pb2.ChatCompletionChunk]:
        if not frame.data:
            return ()
        ev = orjson.loads(frame.data)
        etype = ev.get("type") or frame.event
        if etype == "content_block_delta":
            return self._delta(ev)
        if etype == "message_start":
            msg = ev.get("message") or {}
            self._id = str(msg.get("id") or "")
            self._model = str(msg.get("model") or "")
            self._usage = usage_from_anthropic(msg.get("usage") or {}, None)
            c, ch = self._chunk()
            ch.delta.role = "assistant"
            ch.delta.content = ""
            return (c,)
        if etype == "content_block_start":
            return self._block_start(ev)
        if etype == "message_delta":
            delta = ev.get("delta") or {}
            if ev.get("usage"):
                self._usage = usage_from_anthropic(ev["usage"], self._usage)
            reason = delta.get("stop_reason")
            if not reason:
                return ()
            c, ch = self._chunk()
            ch.finish_reason = finish_reason(reason, self._tools.unwrapped and self._tools.count == 0)
            return (c,)
        if etype == "message_stop":
            self._finished = True
            return ()
        if etype == "error":
            err = ev.get("error") or {}
            status = ERROR_TYPE_STATUS.get(str(err.get("type") or ""), 500)
            raise ProviderFailure(provider_error(PROVIDER, status, {}, orjson.dumps(ev)))
        return ()  # ping, content_block_stop and event types added later

    def _block_start(self, ev: Mapping[str, Any]) -> Iterable[chat_pb2.ChatCompletionChunk]:
        block = ev.get("content_block") or {}
        btype = block.get("type")
        c, ch = self._chunk()
        if btype == "text":
            if not block.get("text"):
                return ()
            ch.delta.content = str(block["text"])
        elif btype == "tool_use":
            if not self._tools.start(int(ev.get("index", 0)), block.get("id"), block.get("name"), ch.delta):
                return ()
        elif btype == "thinking":
            if not block.get("thinking"):
                return ()
            ch.delta.reasoning_content = str(block["thinking"])
        elif btype == "redacted_thinking":
            ch.delta.extra_json = thinking_delta(redacted_thinking_block(block.get("data", "")))
        else:
            return ()
        return (c,)

    def _delta(self, ev: Mapping[str, Any]) -> Iterable[chat_pb2.ChatCompletionChunk]:
        delta = ev.get("delta") or {}
        dtype = delta.get("type")
        c, ch = self._chunk()
        if dtype == "text_delta":
            ch.delta.content = str(delta.get("text", ""))
        elif dtype == "input_json_delta":
            if not self._tools.input(int(ev.get("index", 0)), str(delta.get("partial_json", "")), ch.delta):
                return ()
        elif dtype == "thinking_delta":
            ch.delta.reasoning_content = str(delta.get("thinking", ""))
        elif dtype == "signature_delta":
            ch.delta.extra_json = thinking_delta(thinking_block("", delta.get("signature", "")))
        elif dtype == "citations_delta":
            ch.delta.extra_json = citation_delta(delta.get("citation"))
        else:
            return ()
        return (c,)


def finish_reason(stop_reason: str | None, json_tool_unwrapped: bool = False) -> str:
    return mapped_finish(_FINISH, stop_reason, json_tool_unwrapped)


class _Blocks:
    """OpenAI messages as Messages API content blocks (the turn dialect of ``build_turns``)."""

    def content(
        self, ctx: CallContext, m: chat_pb2.ChatMessage, extra: Mapping[str, Any], where: str, text_only: bool = False
    ) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = []
        which = m.WhichOneof("content")
        if which == "text":
            if m.text or not text_only:
                blocks.append({"type": "text", "text": m.text})
        elif which == "parts":
            for j, p in enumerate(m.parts.parts):
                block = self._part(ctx, p, f"{where}.content[{j}]", text_only)
                if block is not None:
                    blocks.append(block)
        # A message-level cache_control (LiteLLM's form) marks the message's last block.
        if "cache_control" in extra and blocks:
            blocks[-1]["cache_control"] = extra["cache_control"]
        return [b for b in blocks if b.get("type") != "text" or b.get("text") or "cache_control" in b]

    def _part(self, ctx: CallContext, p: chat_pb2.ContentPart, where: str, text_only: bool) -> dict[str, Any] | None:
        which = p.WhichOneof("part")
        block: dict[str, Any]
        if which == "text":
            block = {"type": "text", "text": p.text}
        elif which == "other_json":
            # Parts in Anthropic's own shape (document, search_result, ...) pass through.
            return json_object(p.other_json)
        elif text_only:
            raise bad_request(PROVIDER, f"{where}: system messages can only hold text", "messages")
        elif which == "image_url":
            block = _image_block(p.image_url.url)
        elif which == "file":
            block = _file_block(p.file)
        elif which == "input_audio":
            if ctx.drop_params:
                return None
            raise unsupported(PROVIDER, "anthropic does not support audio input parts", "messages")
        else:
            return None
        pextra = json_object(p.extra_json)
        if "cache_control" in pextra:
            block["cache_control"] = pextra["cache_control"]
        return block

    def assistant(
        self, ctx: CallContext, m: chat_pb2.ChatMessage, extra: Mapping[str, Any], where: str
    ) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = []
        # Thinking blocks come first and must be sent back unchanged (with their signatures)
        # when the turn continues with tool results.
        for tb in extra.get("thinking_blocks") or ():
            if isinstance(tb, Mapping) and tb.get("type") in ("thinking", "redacted_thinking"):
                blocks.append({k: v for k, v in tb.items() if k != "cache_control" or v})
        blocks.extend(self.content(ctx, m, {k: v for k, v in extra.items() if k == "cache_control"}, where))
        blocks.extend(
            {"type": "tool_use", "id": call_id, "name": name, "input": args}
            for call_id, name, args in tool_uses(PROVIDER, m, where)
        )
        return blocks

    def tool_result(
        self, ctx: CallContext, m: chat_pb2.ChatMessage, extra: Mapping[str, Any], where: str
    ) -> dict[str, Any]:
        block: dict[str, Any] = {"type": "tool_result", "tool_use_id": tool_use_id(PROVIDER, m, where)}
        which = m.WhichOneof("content")
        if which == "text":
            block["content"] = m.text
        elif which == "parts":
            block["content"] = [
                b for j, p in enumerate(m.parts.parts) if (b := self._part(ctx, p, f"{where}.content[{j}]", False))
            ]
        else:
            block["content"] = ""
        if extra.get("is_error"):
            block["is_error"] = True
        if "cache_control" in extra:
            block["cache_control"] = extra["cache_control"]
        return block


_BLOCKS = _Blocks()


class AnthropicProvider(Provider):
    name = PROVIDER
    supported_params = SUPPORTED_PARAMS

    def url(self, ctx: CallContext) -> str:
        base = (ctx.deployment.api_base or DEFAULT_API_BASE).rstrip("/")
        if base.endswith("/v1/messages"):
            return base
        if base.endswith("/v1"):
            return base + "/messages"
        return base + "/v1/messages"

    def headers(self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest, stream: bool) -> dict[str, str]:
        beta = ""
        client_headers = json_object(req.extra_json).get("extra_headers")
        if isinstance(client_headers, Mapping):
            beta = str({str(k).lower(): v for k, v in client_headers.items()}.get("anthropic-beta") or "")
        return self._headers(ctx, beta, stream)

    def _headers(self, ctx: CallContext, beta: str, stream: bool) -> dict[str, str]:
        h = {
            "content-type": "application/json",
            "accept": "text/event-stream" if stream else "application/json",
            "anthropic-version": str(ctx.params.get("anthropic_version") or ANTHROPIC_VERSION),
        }
        key = ctx.credentials.get("api_key")
        if key:
            h["x-api-key"] = key
        # Operator-set headers of the deployment, then a client's anthropic-beta (features such
        # as new tool types are opted into per request); nothing else a client sends is a header.
        dep_headers = ctx.params.get("extra_headers")
        if isinstance(dep_headers, Mapping):
            h.update({str(k).lower(): str(v) for k, v in dep_headers.items()})
        if beta:
            h["anthropic-beta"] = beta
        h.update(ctx.extra_headers)
        return h

    # --- the Messages API, natively -----------------------------------------------------
    async def messages_call(
        self, ctx: CallContext, native: messages_pb2.AnthropicMessagesRequest, stream: bool
    ) -> HttpCall:
        body = native_body(PROVIDER, native, model=ctx.model, stream=stream)
        return HttpCall("POST", self.url(ctx), self._headers(ctx, native.beta, stream), body)

    def messages_usage(self, ctx: CallContext, body: bytes) -> chat_pb2.Usage:
        return message_usage(body)

    def messages_decoder(self, ctx: CallContext) -> SseMessagesDecoder:
        return SseMessagesDecoder(PROVIDER)

    async def count_tokens_call(self, ctx: CallContext, native: messages_pb2.AnthropicMessagesRequest) -> HttpCall:
        # https://docs.anthropic.com/en/api/messages-count-tokens
        body = native_body(PROVIDER, native, model=ctx.model, stream=False)
        return HttpCall("POST", self.url(ctx) + "/count_tokens", self._headers(ctx, native.beta, False), body)

    def count_tokens_response(self, ctx: CallContext, body: bytes) -> int:
        return input_tokens(body)

    # --- request ------------------------------------------------------------------------
    def chat_body(self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest, stream: bool) -> dict[str, Any]:
        check_supported(ctx, req, self.supported_params)
        # One choice per call: n=1 is accepted, more needs drop_params (then one is returned).
        if req.HasField("n") and req.n != 1 and not ctx.drop_params:
            raise unsupported_param("n", PROVIDER)
        body: dict[str, Any] = {"model": ctx.model}
        system, messages = self.messages(ctx, req)
        body["messages"] = messages
        if system:
            body["system"] = system
        client_cap = max_output_tokens(req)
        if client_cap is not None:
            body["max_tokens"] = client_cap
        else:
            configured = ctx.params.get("max_tokens") or ctx.deployment.max_output_tokens
            body["max_tokens"] = int(configured) if configured else default_max_tokens(ctx.model)
        _SAMPLING.apply(req, body)
        if req.stop:
            # Anthropic rejects whitespace-only stop sequences; LiteLLM drops them under drop_params.
            stops = [s for s in req.stop if s.strip() or not ctx.drop_params]
            if stops:
                body["stop_sequences"] = stops
        if req.HasField("user"):
            body["metadata"] = {"user_id": req.user}
        json_tool = self._response_format(ctx, req, body)
        self._tools(ctx, req, body, json_tool)
        if req.HasField("reasoning_effort") and req.reasoning_effort != "none":
            # The cap grows to fit the thinking unless the client set it.
            body["max_tokens"], body["thinking"] = thinking(
                PROVIDER, req.reasoning_effort, body["max_tokens"], fixed=client_cap is not None
            )
        if stream:
            body["stream"] = True
        # Provider-specific keys (top_k, thinking, metadata, service_tier, ...) pass through.
        for k, v in json_object(req.extra_json).items():
            if k != "extra_headers":
                body.setdefault(k, v)
        return body

    def _response_format(self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest, body: dict[str, Any]) -> bool:
        """Sets the native structured output or the forced JSON tool; True for the latter."""
        if not req.HasField("response_format") or req.response_format.type in ("", "text"):
            return False
        rf = req.response_format
        if rf.type == "json_schema":
            schema = orjson.loads(rf.json_schema.schema_json) if rf.json_schema.schema_json else {"type": "object"}
        elif rf.type == "json_object":
            schema = {"type": "object", "additionalProperties": True}
        else:
            raise bad_request(PROVIDER, f"response_format type {rf.type!r} is not supported", "response_format")
        if rf.type == "json_schema" and supports_native_json_schema(ctx.model):
            body["output_config"] = {"format": {"type": "json_schema", "schema": schema}}
            return False
        tool: dict[str, Any] = {
            "name": JSON_TOOL_NAME,
            "description": "Respond with a JSON object that matches this schema.",
            "input_schema": schema,
        }
        body.setdefault("tools", []).append(tool)
        body["tool_choice"] = {"type": "tool", "name": JSON_TOOL_NAME}
        return True

    def _tools(
        self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest, body: dict[str, Any], json_tool: bool
    ) -> None:
        native_strict = supports_native_json_schema(ctx.model)
        tools: list[dict[str, Any]] = []
        for t in req.tools:
            if t.type != "function":
                # Hosted tools (bash, text_editor, web_search, code_execution, MCP) are already
                # in Anthropic's shape.
                tools.append(json_object(t.extra_json))
                continue
            fn = t.function
            tool: dict[str, Any] = {"name": fn.name}
            if fn.HasField("description"):
                tool["description"] = fn.description
            tool["input_schema"] = orjson.loads(fn.parameters_json) if fn.parameters_json else {"type": "object"}
            if fn.HasField("strict") and fn.strict and native_strict:
                tool["strict"] = True
            rest = json_object(t.extra_json)
            fn_extra = rest.pop("__function_extra__", {})
            for source in (fn_extra, rest):
                if "cache_control" in source:
                    tool["cache_control"] = source["cache_control"]
            tools.append(tool)
        if tools:
            body["tools"] = tools + body.get("tools", [])
        if json_tool:
            return  # the forced JSON tool decides tool_choice
        choice: dict[str, Any] | None = None
        if req.HasField("tool_choice"):
            which = req.tool_choice.WhichOneof("choice")
            if which == "mode":
                mode = req.tool_choice.mode
                choice = {"type": {"auto": "auto", "required": "any", "none": "none"}.get(mode, "auto")}
            elif which == "function_name":
                choice = {"type": "tool", "name": req.tool_choice.function_name}
            elif which == "other_json":
                other = orjson.loads(req.tool_choice.other_json)
                # Already in Anthropic's shape ({"type": "any"} / {"type": "tool", "name": ...}).
                choice = dict(other) if isinstance(other, dict) else None
        if req.HasField("parallel_tool_calls") and not req.parallel_tool_calls and body.get("tools"):
            choice = choice or {"type": "auto"}
            if choice.get("type") != "none":
                choice["disable_parallel_tool_use"] = True
        if choice is not None and (body.get("tools") or choice.get("type") == "none"):
            body["tool_choice"] = choice

    def messages(
        self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest
    ) -> tuple[str | list[dict[str, Any]], list[dict[str, Any]]]:
        system, turns = build_turns(PROVIDER, ctx, req, _BLOCKS)
        # The system prompt is a plain string unless a block carries cache_control.
        if system and all(set(b) == {"type", "text"} for b in system):
            return "\n\n".join(b["text"] for b in system), turns
        return system, turns

    # --- calls --------------------------------------------------------------------------
    async def chat_call(self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest, stream: bool) -> HttpCall:
        body = self.chat_body(ctx, req, stream)
        return HttpCall("POST", self.url(ctx), self.headers(ctx, req, stream), orjson.dumps(body))

    def _json_tool(self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest) -> bool:
        rf = req.response_format
        if not req.HasField("response_format") or rf.type not in ("json_schema", "json_object"):
            return False
        return rf.type == "json_object" or not supports_native_json_schema(ctx.model)

    def chat_response(
        self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest, body: bytes, headers: Mapping[str, str]
    ) -> chat_pb2.ChatCompletion:
        d = orjson.loads(body)
        json_tool = self._json_tool(ctx, req)
        out = chat_pb2.ChatCompletion(id=str(d.get("id") or ""), created=now(), model=str(d.get("model") or ctx.model))
        choice = out.choices.add(index=0)
        msg = choice.message
        msg.role = "assistant"
        answer = ClaudeMessage()
        for block in d.get("content") or ():
            btype = block.get("type")
            if btype == "text":
                answer.texts.append(str(block.get("text", "")))
                if block.get("citations"):
                    answer.citations.extend(block["citations"])
            elif btype == "tool_use":
                if json_tool and block.get("name") == JSON_TOOL_NAME:
                    answer.json_texts.append(orjson.dumps(block.get("input") or {}).decode())
                else:
                    answer.tool_call(msg, block.get("id"), block.get("name"), block.get("input") or {})
            elif btype == "thinking":
                answer.thinking(block.get("thinking"), block.get("signature"))
            elif btype == "redacted_thinking":
                answer.thinking_blocks.append(redacted_thinking_block(block.get("data", "")))
        unwrapped = answer.fill(msg)
        choice.finish_reason = finish_reason(d.get("stop_reason"), unwrapped and not msg.tool_calls)
        out.usage.CopyFrom(usage_from_anthropic(d.get("usage") or {}, None))
        return out

    def stream_decoder(self, ctx: CallContext, req: chat_pb2.ChatCompletionRequest) -> AnthropicStreamDecoder:
        return AnthropicStreamDecoder(self._json_tool(ctx, req))
