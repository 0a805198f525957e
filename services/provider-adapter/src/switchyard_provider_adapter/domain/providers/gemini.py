"""Google Gemini: the Gemini API of AI Studio (``gemini/``) and Gemini on Vertex AI (``vertex_ai/``).

Both speak ``generateContent`` / ``streamGenerateContent?alt=sse``
(https://ai.google.dev/api/generate-content): OpenAI messages become ``contents`` with roles
user/model plus a ``systemInstruction``; sampling parameters go into ``generationConfig``; tools
become ``functionDeclarations`` and ``tool_choice`` a ``functionCallingConfig``. Each SSE event is a
whole ``GenerateContentResponse`` whose parts are the new pieces. Only the URL and the credential
differ: an API key for AI Studio, an OAuth2 access token from a service account for Vertex."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import orjson

from switchyard.llm.v1 import chat_pb2, embeddings_pb2, error_pb2
from switchyard_common.errors import make_error
from switchyard_provider_adapter.domain.allowlists import DEFAULT_ALLOWLISTS, Allowlists
from switchyard_provider_adapter.domain.errors import ProviderFailure, provider_error, unsupported_param
from switchyard_provider_adapter.domain.framing import SseEvent
from switchyard_provider_adapter.domain.providers.base import (
    CallContext,
    Framing,
    HttpCall,
    Provider,
    check_supported,
    completion_id,
    now,
    text_of,
)
from switchyard_provider_adapter.domain.providers.media import (
    auth_failure,
    bad_request,
    estimate_tokens,
    floats_to_base64,
    guess_mime,
    json_object,
    new_tool_call_id,
    parse_arguments,
    parse_data_url,
    tool_names_by_id,
)

K = error_pb2.ErrorKind

AI_STUDIO_BASE = "https://generativelanguage.googleapis.com"
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"

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

# Gemini finish reasons that mean a safety or policy filter stopped the answer.
_FILTERED = frozenset(
    {
        "SAFETY",
        "RECITATION",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "SPII",
        "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT",
        "IMAGE_RECITATION",
    }
)

# reasoning_effort → thinking budget of Gemini 2.5 models (LiteLLM's mapping); Gemini 3 models
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
        mime, b64 = data
        return {"inlineData": {"mimeType": mime, "data": b64}}
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
    contents: list[dict[str, Any]] = []
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
        if not parts:
            continue
        # Consecutive turns of one role (e.g. the results of parallel tool calls) are one Content.
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": role, "parts": parts})
    return contents, ({"parts": system} if system else None)


def _assistant_parts(
    provider: str, m: chat_pb2.ChatMessage, where: str, allowlists: Allowlists
) -> list[dict[str, Any]]:
    parts = [p for p in _content_parts(provider, m, where, allowlists) if p.get("text") != ""]
    for j, tc in enumerate(m.tool_calls):
        args = parse_arguments(tc.function.arguments, provider, f"{where}.tool_calls[{j}].function.arguments")
        part: dict[str, Any] = {"functionCall": {"name": tc.function.name, "args": args}}
        _, sig = _signature_of(tc)
        if sig:
            part["thoughtSignature"] = sig
        parts.append(part)
    if m.HasField("function_call"):
        args = parse_arguments(m.function_call.arguments, provider, f"{where}.function_call.arguments")
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

    gc: dict[str, Any] = {}
    if req.HasField("temperature"):
        gc["temperature"] = req.temperature
    if req.HasField("top_p"):
        gc["topP"] = req.top_p
    if req.HasField("max_completion_tokens"):
        gc["maxOutputTokens"] = req.max_completion_tokens
    elif req.HasField("max_tokens"):
        gc["maxOutputTokens"] = req.max_tokens
    if req.stop:
        gc["stopSequences"] = list(req.stop)
    if req.HasField("seed"):
        gc["seed"] = req.seed
    if req.HasField("n") and req.n != 1:
        gc["candidateCount"] = req.n
    if req.HasField("presence_penalty"):
        gc["presencePenalty"] = req.presence_penalty
    if req.HasField("frequency_penalty"):
        gc["frequencyPenalty"] = req.frequency_penalty
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


# --- response -----------------------------------------------------------------------------


def map_finish(reason: str, has_tool_calls: bool) -> str:
    if has_tool_calls and reason in ("STOP", ""):
        return "tool_calls"
    if reason == "MAX_TOKENS":
        return "length"
    if reason in _FILTERED:
        return "content_filter"
    return "stop" if reason else ""


def usage_from_metadata(meta: Mapping[str, Any]) -> chat_pb2.Usage:
    """usageMetadata → OpenAI usage. promptTokenCount already includes cached content;
    candidatesTokenCount leaves out thoughts, which OpenAI counts inside completion_tokens;
    tool-use prompt tokens (e.g. search results fed back to the model) are billed as input."""
    prompt = int(meta.get("promptTokenCount") or 0) + int(meta.get("toolUsePromptTokenCount") or 0)
    candidates = int(meta.get("candidatesTokenCount") or 0)
    thoughts = int(meta.get("thoughtsTokenCount") or 0)
    u = chat_pb2.Usage(prompt_tokens=prompt, completion_tokens=candidates + thoughts)
    u.total_tokens = u.prompt_tokens + u.completion_tokens
    cached = int(meta.get("cachedContentTokenCount") or 0)
    if cached:
        u.prompt_tokens_details.cached_tokens = cached
    for item in meta.get("promptTokensDetails") or ():
        modality = str(item.get("modality") or "").upper()
        field = {"TEXT": "text_tokens", "IMAGE": "image_tokens", "AUDIO": "audio_tokens"}.get(modality)
        if field:
            setattr(u.prompt_tokens_details, field, int(item.get("tokenCount") or 0))
    if thoughts:
        u.completion_tokens_details.reasoning_tokens = thoughts
    return u


def _logprobs(result: Mapping[str, Any]) -> dict[str, Any]:
    tops = result.get("topCandidates") or []
    content = []
    for i, chosen in enumerate(result.get("chosenCandidates") or ()):
        token = str(chosen.get("token", ""))
        alternatives = tops[i].get("candidates") or [] if i < len(tops) else []
        content.append(
            {
                "token": token,
                "logprob": float(chosen.get("logProbability", 0.0)),
                "bytes": list(token.encode()),
                "top_logprobs": [
                    {
                        "token": str(c.get("token", "")),
                        "logprob": float(c.get("logProbability", 0.0)),
                        "bytes": list(str(c.get("token", "")).encode()),
                    }
                    for c in alternatives
                ],
            }
        )
    return {"content": content, "refusal": None}


def _blocked(provider: str, feedback: Mapping[str, Any]) -> ProviderFailure:
    reason = str(feedback.get("blockReason"))
    detail = feedback.get("blockReasonMessage")
    message = f"{provider}: the prompt was blocked by Gemini's safety system ({reason})"
    if detail:
        message += f": {detail}"
    return ProviderFailure(
        make_error(
            K.ERROR_KIND_CONTENT_POLICY_VIOLATION,
            message,
            code="content_policy_violation",
            provider=provider,
            details_json=orjson.dumps({"promptFeedback": feedback}),
        )
    )


def _tool_call_id(call: Mapping[str, Any], signature: str | None) -> str:
    base = str(call.get("id") or new_tool_call_id())
    return f"{base}{THOUGHT_SEPARATOR}{signature}" if signature else base


def _tool_call_extra(signature: str | None) -> bytes:
    return orjson.dumps({"provider_specific_fields": {"thought_signature": signature}}) if signature else b""


_CANDIDATE_METADATA = (
    ("groundingMetadata", "vertex_ai_grounding_metadata"),
    ("urlContextMetadata", "vertex_ai_url_context_metadata"),
    ("safetyRatings", "vertex_ai_safety_results"),
    ("citationMetadata", "vertex_ai_citation_metadata"),
)


def _metadata(candidates: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Candidate metadata OpenAI has no field for, under the keys LiteLLM uses."""
    out: dict[str, Any] = {}
    for native, key in _CANDIDATE_METADATA:
        values = [c[native] for c in candidates if c.get(native)]
        if values:
            out[key] = values
    return out


def parse_completion(provider: str, ctx: CallContext, data: Mapping[str, Any]) -> chat_pb2.ChatCompletion:
    candidates = list(data.get("candidates") or ())
    feedback = data.get("promptFeedback") or {}
    if not candidates and feedback.get("blockReason"):
        raise _blocked(provider, feedback)
    out = chat_pb2.ChatCompletion(
        id=f"chatcmpl-{data['responseId']}" if data.get("responseId") else completion_id(),
        created=now(),
        model=str(data.get("modelVersion") or ctx.model),
    )
    for i, cand in enumerate(candidates):
        choice = out.choices.add(index=int(cand.get("index", i)))
        msg = choice.message
        msg.role = "assistant"
        texts: list[str] = []
        thoughts: list[str] = []
        others: list[Any] = []
        text_signatures: list[str] = []
        for part in (cand.get("content") or {}).get("parts") or ():
            sig = part.get("thoughtSignature")
            if "functionCall" in part:
                call = part["functionCall"]
                tc = msg.tool_calls.add(id=_tool_call_id(call, sig), type="function")
                tc.function.name = str(call.get("name", ""))
                tc.function.arguments = orjson.dumps(call.get("args") or {}).decode()
                tc.extra_json = _tool_call_extra(sig)
            elif part.get("thought") and "text" in part:
                thoughts.append(str(part["text"]))
            elif "text" in part:
                texts.append(str(part["text"]))
                if sig:
                    text_signatures.append(str(sig))
            else:
                others.append(part)
        if texts or not msg.tool_calls:
            msg.text = "".join(texts)
        if thoughts:
            msg.reasoning_content = "".join(thoughts)
        psf: dict[str, Any] = {}
        if text_signatures:
            psf["thought_signatures"] = text_signatures
        if others:
            psf["parts"] = others
        if psf:
            msg.extra_json = orjson.dumps({"provider_specific_fields": psf})
        reason = str(cand.get("finishReason") or "")
        choice.finish_reason = map_finish(reason, bool(msg.tool_calls)) or "stop"
        if reason not in ("STOP", "MAX_TOKENS", ""):
            choice.extra_json = orjson.dumps({"provider_specific_fields": {"finish_reason": reason}})
        if cand.get("logprobsResult"):
            choice.logprobs_json = orjson.dumps(_logprobs(cand["logprobsResult"]))
    if isinstance(data.get("usageMetadata"), Mapping):
        out.usage.CopyFrom(usage_from_metadata(data["usageMetadata"]))
    extra = _metadata(candidates)
    if feedback:
        extra["vertex_ai_prompt_feedback"] = feedback
    if extra:
        out.extra_json = orjson.dumps(extra)
    return out


class GeminiStreamDecoder:
    """Each SSE event is a GenerateContentResponse with the new parts of each candidate."""

    def __init__(self, provider: str, ctx: CallContext) -> None:
        self._provider = provider
        self._model = ctx.model
        self._id = ""
        self._created = now()
        self._usage: chat_pb2.Usage | None = None
        self._started: set[int] = set()
        self._tool_counts: dict[int, int] = {}

    @property
    def usage(self) -> chat_pb2.Usage | None:
        return self._usage

    @property
    def finished(self) -> bool:
        # The stream has no terminator event; it ends with the body (the last event carries the
        # final usage, so nothing may cut it short).
        return False

    def feed(self, frame: SseEvent) -> Iterable[chat_pb2.ChatCompletionChunk]:
        if not frame.data:
            return ()
        data = orjson.loads(frame.data)
        if isinstance(data, list):
            data = data[0] if data else {}
        if "error" in data and "candidates" not in data:
            err = data["error"] if isinstance(data["error"], Mapping) else {}
            status = int(err.get("code") or 500)
            raise ProviderFailure(provider_error(self._provider, status, {}, frame.data.encode()))
        if isinstance(data.get("usageMetadata"), Mapping):
            self._usage = usage_from_metadata(data["usageMetadata"])
        candidates = list(data.get("candidates") or ())
        feedback = data.get("promptFeedback") or {}
        if not candidates and feedback.get("blockReason"):
            raise _blocked(self._provider, feedback)
        if not self._id:
            self._id = f"chatcmpl-{data['responseId']}" if data.get("responseId") else completion_id()
        if not candidates:
            return ()
        chunk = chat_pb2.ChatCompletionChunk(
            id=self._id, created=self._created, model=str(data.get("modelVersion") or self._model)
        )
        for i, cand in enumerate(candidates):
            index = int(cand.get("index", i))
            ch = chunk.choices.add(index=index)
            d = ch.delta
            if index not in self._started:
                self._started.add(index)
                d.role = "assistant"
            texts: list[str] = []
            thoughts: list[str] = []
            for part in (cand.get("content") or {}).get("parts") or ():
                sig = part.get("thoughtSignature")
                if "functionCall" in part:
                    call = part["functionCall"]
                    n = self._tool_counts.get(index, 0)
                    self._tool_counts[index] = n + 1
                    t = d.tool_calls.add(index=n, id=_tool_call_id(call, sig), type="function")
                    t.name = str(call.get("name", ""))
                    t.arguments = orjson.dumps(call.get("args") or {}).decode()
                    t.extra_json = _tool_call_extra(sig)
                elif part.get("thought") and "text" in part:
                    thoughts.append(str(part["text"]))
                elif "text" in part:
                    texts.append(str(part["text"]))
            if texts:
                d.content = "".join(texts)
            if thoughts:
                d.reasoning_content = "".join(thoughts)
            reason = str(cand.get("finishReason") or "")
            if reason:
                ch.finish_reason = map_finish(reason, self._tool_counts.get(index, 0) > 0)
                if reason not in ("STOP", "MAX_TOKENS"):
                    ch.extra_json = orjson.dumps({"provider_specific_fields": {"finish_reason": reason}})
            if cand.get("logprobsResult"):
                ch.logprobs_json = orjson.dumps(_logprobs(cand["logprobsResult"]))
        extra = _metadata(candidates)
        if extra:
            chunk.extra_json = orjson.dumps(extra)
        return (chunk,)


# --- errors -------------------------------------------------------------------------------


def _duration_seconds(value: Any) -> float | None:
    """A google.protobuf.Duration in JSON form ("23s", "0.5s")."""
    if isinstance(value, str) and value.endswith("s"):
        try:
            return max(0.0, float(value[:-1]))
        except ValueError:
            return None
    return None


def google_error(
    provider: str, status: int, headers: Mapping[str, str], body: bytes, secrets: Iterable[str]
) -> error_pb2.Error:
    """A google.rpc.Status error body → typed error. Google answers an invalid API key with 400
    INVALID_ARGUMENT (reason API_KEY_INVALID), which is an authentication failure, and puts the
    wait of a 429 in a RetryInfo detail rather than a retry-after header."""
    err = provider_error(provider, status, headers, body, secrets)
    try:
        data = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return err
    if isinstance(data, list) and data:
        data = data[0]
    inner = data.get("error") if isinstance(data, Mapping) else None
    if not isinstance(inner, Mapping):
        return err
    details = [d for d in inner.get("details") or () if isinstance(d, Mapping)]
    reasons = {str(d.get("reason")) for d in details if d.get("reason")}
    message = str(inner.get("message") or "")
    if status == 400 and (reasons & {"API_KEY_INVALID", "API_KEY_EXPIRED"} or message.startswith("API key")):
        auth = make_error(
            K.ERROR_KIND_AUTHENTICATION, err.message, provider=provider, details_json=err.provider_details_json
        )
        return auth
    if err.kind == K.ERROR_KIND_RATE_LIMIT and not err.HasField("retry_after_seconds"):
        for d in details:
            if str(d.get("@type", "")).endswith("google.rpc.RetryInfo"):
                seconds = _duration_seconds(d.get("retryDelay"))
                if seconds is not None:
                    err.retry_after_seconds = seconds
    return err


# --- providers ----------------------------------------------------------------------------


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

    async def _model_url(self, ctx: CallContext, action: str) -> str:
        project = str(ctx.params.get("vertex_project") or ctx.params.get("vertex_ai_project") or "")
        if not project:
            project = (await self._token(ctx)).project_id
        if not project:
            raise bad_request(
                self.name, f"deployment '{ctx.deployment.id}' needs vertex_project (or credentials naming a project)"
            )
        loc = self._location(ctx)
        model = ctx.model.removeprefix("models/")
        if model.startswith(_PARTNER_MODELS):
            # Partner models on Vertex speak their own vendor's API (rawPredict), not Gemini's.
            raise bad_request(self.name, f"'{model}' is a Vertex partner model; only Gemini models are supported")
        # A numeric model id is a deployed endpoint (e.g. a tuned model), not a publisher model.
        path = f"endpoints/{model}" if model.isdigit() else f"publishers/google/models/{model}"
        return f"{self._base(ctx)}/projects/{project}/locations/{loc}/{path}:{action}"

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
