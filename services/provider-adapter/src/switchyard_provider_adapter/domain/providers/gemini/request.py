"""OpenAI chat requests → Gemini ``GenerateContentRequest`` bodies
(https://ai.google.dev/api/generate-content): messages become ``contents`` with roles user/model
plus a ``systemInstruction``; sampling parameters go into ``generationConfig``; tools become
``functionDeclarations`` and ``tool_choice`` a ``functionCallingConfig``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson

from switchyard.llm.v1 import chat_pb2
from switchyard_llm.sampling import MAX_OUTPUT_TOKENS, SamplingTable
from switchyard_provider_adapter.domain.allowlists import DEFAULT_ALLOWLISTS, Allowlists
from switchyard_provider_adapter.domain.providers.base import CallContext
from switchyard_provider_adapter.domain.providers.common.content import (
    guess_mime,
    json_object,
    parse_data_url,
    text_of,
    tool_arguments,
    tool_names_by_id,
)
from switchyard_provider_adapter.domain.providers.common.failures import bad_request, unsupported_param
from switchyard_provider_adapter.domain.providers.common.params import check_supported
from switchyard_provider_adapter.domain.providers.common.turns import Turns

SUPPORTED_PARAMS = frozenset(
    {
        "temperature",
        "top_p",
        "n",
        "stream_options",
        "stop",
        "max_tokens",
        "max_completion_tokens",
        "presence_penalty",
        "frequency_penalty",
        "logprobs",
        "top_logprobs",
        # OpenAI's end-user id has no Gemini field; it only feeds OpenAI's abuse monitoring, so
        # accepting and not forwarding it changes nothing about the answer.
        "user",
        "seed",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "response_format",
        "reasoning_effort",
    }
)

# Thought signatures ride inside tool-call ids too: many OpenAI clients rebuild the history with
# only id/type/function, and Gemini 3 rejects a function call whose signature is missing
# (https://ai.google.dev/gemini-api/docs/thought-signatures). LiteLLM uses the same separator.
THOUGHT_SEPARATOR = "__thought__"


# take the level itself (thinkingLevel).
_THINKING_BUDGET = {"none": 0, "disable": 0, "minimal": 128, "low": 1024, "medium": 2048, "high": 4096}

# Top-level fields of GenerateContentRequest a client may pass through the request body.
_NATIVE_TOP_LEVEL = {
    "safety_settings": "safetySettings",
    "safetySettings": "safetySettings",
    "cached_content": "cachedContent",
    "cachedContent": "cachedContent",
    "labels": "labels",
}
_GENERATION_EXTRA = {
    "top_k": "topK",
    "topK": "topK",
    "response_modalities": "responseModalities",
    "responseModalities": "responseModalities",
    "media_resolution": "mediaResolution",
    "mediaResolution": "mediaResolution",
}

# Keys of the OpenAPI Schema subset older Gemini models take as `parameters` / `responseSchema`.
_OPENAPI_SCHEMA_KEYS = frozenset(
    {
        "type",
        "format",
        "title",
        "description",
        "nullable",
        "enum",
        "maxItems",
        "minItems",
        "properties",
        "required",
        "minProperties",
        "maxProperties",
        "minLength",
        "maxLength",
        "pattern",
        "example",
        "anyOf",
        "propertyOrdering",
        "default",
        "items",
        "minimum",
        "maximum",
    }
)
_LEGACY_MODEL = re.compile(r"^(?:models/)?gemini-(?:1\.|2\.0|pro|ultra)", re.IGNORECASE)


def is_legacy_model(model: str) -> bool:
    """Gemini 1.x/2.0 models predate full JSON Schema (`parametersJsonSchema`,
    `responseJsonSchema`); they take the OpenAPI subset instead."""
    return bool(_LEGACY_MODEL.match(model))


def openapi_schema(schema: Any) -> Any:
    """A JSON Schema reduced to the OpenAPI subset of Gemini's `Schema` object (unknown keys such
    as `additionalProperties` or `$schema` are rejected by those models; type lists with "null"
    become `nullable`)."""
    if isinstance(schema, list):
        return [openapi_schema(s) for s in schema]
    if not isinstance(schema, Mapping):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "type" and isinstance(value, list):
            kinds = [v for v in value if v != "null"]
            if len(kinds) < len(value):
                out["nullable"] = True
            out["type"] = kinds[0] if kinds else "string"
        elif key == "properties" and isinstance(value, Mapping):
            out["properties"] = {k: openapi_schema(v) for k, v in value.items()}
        elif key in ("items", "anyOf"):
            out[key] = openapi_schema(value)
        elif key in _OPENAPI_SCHEMA_KEYS:
            out[key] = value
    return out


_SAMPLING = SamplingTable(
    {
        "temperature": "temperature",
        "top_p": "topP",
        MAX_OUTPUT_TOKENS: "maxOutputTokens",
        "stop": "stopSequences",
        "seed": "seed",
        "presence_penalty": "presencePenalty",
        "frequency_penalty": "frequencyPenalty",
    }
)

# --- request ------------------------------------------------------------------------------


def _signature_of(tc: chat_pb2.ToolCall) -> tuple[str, str | None]:
    """(the id without an embedded signature, the thought signature if the call carries one)."""
    extra = _extra_dict(tc.extra_json)
    psf = extra.get("provider_specific_fields")
    sig = psf.get("thought_signature") if isinstance(psf, Mapping) else None
    if not sig:
        # Google's OpenAI-compatible endpoint puts it in `extra_content.google`.
        ec = extra.get("extra_content")
        google = ec.get("google") if isinstance(ec, Mapping) else None
        sig = google.get("thought_signature") if isinstance(google, Mapping) else None
    base, sep, embedded = tc.id.partition(THOUGHT_SEPARATOR)
    return base, (str(sig) if sig else (embedded if sep and embedded else None))


def _extra_dict(raw: bytes) -> dict[str, Any]:
    try:
        return json_object(raw)
    except orjson.JSONDecodeError:
        return {}


def _media_part(provider: str, url: str, default_mime: str, param: str, allowlists: Allowlists) -> dict[str, Any]:
    try:
        data = parse_data_url(url)
    except ValueError as exc:
        raise bad_request(provider, str(exc), param) from None
    if data is not None:
        return {"inlineData": {"mimeType": data.mime or "application/octet-stream", "data": data.data}}
    if url.startswith(("http://", "https://", "gs://")):
        # Gemini fetches these itself (Vertex: gs:// and public https; AI Studio: its Files API
        # and YouTube URLs) and answers a clear 400 for URLs it will not fetch.
        allowlists.check_object(url, param, provider)
        return {"fileData": {"mimeType": guess_mime(url, default_mime), "fileUri": url}}
    raise bad_request(provider, "image URLs must be http(s), gs:// or base64 data URLs", param)


def _content_parts(
    provider: str, msg: chat_pb2.ChatMessage, where: str, allowlists: Allowlists
) -> list[dict[str, Any]]:
    which = msg.WhichOneof("content")
    if which == "text":
        return [{"text": msg.text}]
    if which != "parts":
        return []
    parts: list[dict[str, Any]] = []
    for j, p in enumerate(msg.parts.parts):
        kind = p.WhichOneof("part")
        param = f"{where}.content[{j}]"
        if kind == "text":
            parts.append({"text": p.text})
        elif kind == "image_url":
            parts.append(_media_part(provider, p.image_url.url, "image/jpeg", param, allowlists))
        elif kind == "input_audio":
            fmt = p.input_audio.format or "wav"
            parts.append({"inlineData": {"mimeType": f"audio/{fmt}", "data": p.input_audio.data}})
        elif kind == "file":
            f = p.file
            if f.HasField("file_data"):
                parts.append(_media_part(provider, f.file_data, "application/pdf", param, allowlists))
            elif f.HasField("file_id"):
                allowlists.check_object(f.file_id, param, provider)
                mime = f.format if f.HasField("format") else guess_mime(f.file_id, "application/pdf")
                parts.append({"fileData": {"mimeType": mime, "fileUri": f.file_id}})
            else:
                raise bad_request(provider, "a file part needs file_data or file_id", param)
        elif kind == "refusal":
            parts.append({"text": p.refusal})
        else:
            raise bad_request(provider, "this content part type is not supported", param)
    return parts


def build_contents(
    provider: str, req: chat_pb2.ChatCompletionRequest, allowlists: Allowlists = DEFAULT_ALLOWLISTS
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """(contents, systemInstruction) for the request's messages."""
    names = tool_names_by_id(req.messages)
    for tc_id, name in list(names.items()):
        base = tc_id.partition(THOUGHT_SEPARATOR)[0]
        names.setdefault(base, name)
    system: list[dict[str, Any]] = []
    contents = Turns("parts")
    for i, m in enumerate(req.messages):
        where = f"messages[{i}]"
        if m.role in ("system", "developer"):
            system.extend(p for p in _content_parts(provider, m, where, allowlists) if "text" in p)
            continue
        if m.role == "user":
            role, parts = "user", _content_parts(provider, m, where, allowlists)
        elif m.role == "assistant":
            role, parts = "model", _assistant_parts(provider, m, where, allowlists)
        else:  # tool / function results
            role, parts = "user", [_function_response(provider, m, names, where)]
        # Consecutive turns of one role (e.g. the results of parallel tool calls) are one Content.
        contents.add(role, parts)
    return contents.turns, ({"parts": system} if system else None)


def _assistant_parts(
    provider: str, m: chat_pb2.ChatMessage, where: str, allowlists: Allowlists
) -> list[dict[str, Any]]:
    parts = [p for p in _content_parts(provider, m, where, allowlists) if p.get("text") != ""]
    for j, tc in enumerate(m.tool_calls):
        at = f"{where}.tool_calls[{j}].function.arguments"
        args = tool_arguments(tc.function.arguments, provider, at, at)
        part: dict[str, Any] = {"functionCall": {"name": tc.function.name, "args": args}}
        _, sig = _signature_of(tc)
        if sig:
            part["thoughtSignature"] = sig
        parts.append(part)
    if m.HasField("function_call"):
        at = f"{where}.function_call.arguments"
        args = tool_arguments(m.function_call.arguments, provider, at, at)
        parts.append({"functionCall": {"name": m.function_call.name, "args": args}})
    return parts


def _function_response(provider: str, m: chat_pb2.ChatMessage, names: Mapping[str, str], where: str) -> dict[str, Any]:
    # Gemini matches results to calls by function name; OpenAI by tool_call_id.
    name = names.get(m.tool_call_id) if m.HasField("tool_call_id") else None
    if name is None and m.HasField("tool_call_id"):
        name = names.get(m.tool_call_id.partition(THOUGHT_SEPARATOR)[0])
    if name is None and m.HasField("name"):
        name = m.name
    if not name:
        raise bad_request(
            provider,
            "a tool message's tool_call_id must match a tool call of an earlier assistant message "
            "(Gemini answers tool results by function name)",
            f"{where}.tool_call_id",
        )
    return {"functionResponse": {"name": name, "response": {"content": text_of(m)}}}


def _tools(
    provider: str, req: chat_pb2.ChatCompletionRequest, legacy: bool, extra: dict[str, Any]
) -> list[dict[str, Any]]:
    declarations: list[dict[str, Any]] = []
    hosted: list[dict[str, Any]] = []
    for i, t in enumerate(req.tools):
        if t.type == "function":
            d: dict[str, Any] = {"name": t.function.name}
            if t.function.HasField("description"):
                d["description"] = t.function.description
            if t.function.parameters_json:
                schema = orjson.loads(t.function.parameters_json)
                if legacy:
                    d["parameters"] = openapi_schema(schema)
                else:
                    d["parametersJsonSchema"] = schema
            declarations.append(d)
            continue
        # Gemini's built-in tools, named the way LiteLLM users write them.
        spec = {k: v for k, v in _extra_dict(t.extra_json).items() if k != "type"}
        native = {
            "google_search": "googleSearch",
            "googleSearch": "googleSearch",
            "code_execution": "codeExecution",
            "codeExecution": "codeExecution",
            "url_context": "urlContext",
            "urlContext": "urlContext",
        }.get(t.type)
        if native is None:
            raise bad_request(provider, f"tool type '{t.type}' is not supported", f"tools[{i}]")
        hosted.append({native: spec.get(native, spec)})
    if "web_search_options" in extra:
        extra.pop("web_search_options")
        hosted.append({"googleSearch": {}})
    out: list[dict[str, Any]] = []
    if declarations:
        out.append({"functionDeclarations": declarations})
    out.extend(hosted)
    return out


def _tool_config(tc: chat_pb2.ToolChoice) -> dict[str, Any] | None:
    which = tc.WhichOneof("choice")
    if which == "mode":
        mode = {"auto": "AUTO", "none": "NONE", "required": "ANY"}.get(tc.mode)
        return {"functionCallingConfig": {"mode": mode}} if mode else None
    if which == "function_name":
        return {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [tc.function_name]}}
    return None


def _thinking(model: str, effort: str) -> dict[str, Any]:
    if model.removeprefix("models/").startswith("gemini-3"):
        level = "minimal" if effort in ("none", "disable") else effort
        return {"thinkingLevel": level, "includeThoughts": level != "minimal"}
    budget = _THINKING_BUDGET.get(effort)
    if budget is None:
        raise unsupported_param("reasoning_effort", "gemini")
    return {"thinkingBudget": budget, "includeThoughts": budget > 0}


def build_request(provider: str, ctx: CallContext, req: chat_pb2.ChatCompletionRequest) -> dict[str, Any]:
    """The GenerateContentRequest for an OpenAI chat request."""
    check_supported(ctx, req, SUPPORTED_PARAMS)
    if req.HasField("parallel_tool_calls") and not req.parallel_tool_calls and not ctx.drop_params:
        # Gemini has no switch to forbid parallel calls.
        raise unsupported_param("parallel_tool_calls", provider)
    legacy = is_legacy_model(ctx.model)
    extra = _extra_dict(req.extra_json)
    contents, system = build_contents(provider, req, ctx.allowlists)
    body: dict[str, Any] = {"contents": contents}
    if system:
        body["systemInstruction"] = system
    tools = _tools(provider, req, legacy, extra)
    if tools:
        body["tools"] = tools
    if req.HasField("tool_choice"):
        cfg = _tool_config(req.tool_choice)
        if cfg is None and not ctx.drop_params:
            raise unsupported_param("tool_choice", provider)
        if cfg is not None:
            body["toolConfig"] = cfg

    gc = _SAMPLING.apply(req, {})
    if req.HasField("n") and req.n != 1:
        gc["candidateCount"] = req.n
    if req.HasField("logprobs") and req.logprobs:
        gc["responseLogprobs"] = True
        if req.HasField("top_logprobs"):
            gc["logprobs"] = req.top_logprobs
    if req.HasField("response_format"):
        rf = req.response_format
        if rf.type in ("json_object", "json_schema"):
            gc["responseMimeType"] = "application/json"
        if rf.type == "json_schema" and rf.json_schema.schema_json:
            schema = orjson.loads(rf.json_schema.schema_json)
            if legacy:
                gc["responseSchema"] = openapi_schema(schema)
            else:
                gc["responseJsonSchema"] = schema
        elif rf.type not in ("text", "json_object", "json_schema") and not ctx.drop_params:
            raise unsupported_param("response_format", provider)
    if req.HasField("reasoning_effort"):
        gc["thinkingConfig"] = _thinking(ctx.model, req.reasoning_effort)

    for key in list(extra):
        value = extra.pop(key)
        if key in _NATIVE_TOP_LEVEL:
            body[_NATIVE_TOP_LEVEL[key]] = value
        elif key in _GENERATION_EXTRA:
            gc[_GENERATION_EXTRA[key]] = value
        elif key in ("generationConfig", "generation_config") and isinstance(value, Mapping):
            gc.update(value)
        elif key in ("thinkingConfig", "thinking_config") and isinstance(value, Mapping):
            gc["thinkingConfig"] = dict(value)
        elif key == "thinking" and isinstance(value, Mapping):
            # Anthropic-style `thinking` (LiteLLM accepts it for every reasoning model).
            enabled = value.get("type") == "enabled"
            budget = int(value.get("budget_tokens") or 0) if enabled else 0
            gc["thinkingConfig"] = {"thinkingBudget": budget, "includeThoughts": enabled}
        elif not ctx.drop_params:
            raise unsupported_param(key, provider)
    if gc:
        body["generationConfig"] = gc
    return body
