"""OpenAI Chat Completions JSON ⇄ protobuf.

The edge parses client bodies with ``chat_request_from_json`` and renders answers with
``completion_to_json`` / ``chunk_to_json``; OpenAI-compatible provider adapters go the other way.
Keys without a typed field travel in ``extra_json`` so a round trip keeps them."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import orjson

from switchyard.llm.v1 import chat_pb2, embeddings_pb2, images_pb2
from switchyard_llm import sampling
from switchyard_llm.event_fields import (
    MAX_ID_CHARS,
    MAX_MODEL_CHARS,
    metadata_problem,
    tags_problem,
    text_problem,
)

ChatCompletionRequest = chat_pb2.ChatCompletionRequest
ChatCompletion = chat_pb2.ChatCompletion
ChatCompletionChunk = chat_pb2.ChatCompletionChunk
ChatMessage = chat_pb2.ChatMessage
Usage = chat_pb2.Usage


class RequestError(ValueError):
    """A client body that cannot be served; ``param`` names the offending field."""

    def __init__(self, message: str, param: str = "") -> None:
        super().__init__(message)
        self.param = param


# Gateway controls in the request body (LiteLLM's extensions), never forwarded to providers.
GATEWAY_KEYS = frozenset(
    {
        "fallbacks",
        "num_retries",
        "timeout",
        "disable_fallbacks",
        "mock_testing_fallbacks",
        "drop_params",
        "tags",
        "guardrails",
        "metadata",
        "litellm_metadata",
        "caching",
        "cache",
        "mock_response",
        "context_window_fallback_dict",
        "request_timeout",
        "max_retries",
        "additional_drop_params",
    }
)

_REQUEST_KEYS = frozenset(
    {
        "model",
        "messages",
        "temperature",
        "top_p",
        "n",
        "stream",
        "stream_options",
        "stop",
        "max_tokens",
        "max_completion_tokens",
        "presence_penalty",
        "frequency_penalty",
        "logit_bias",
        "logprobs",
        "top_logprobs",
        "user",
        "seed",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "response_format",
        "reasoning_effort",
        "service_tier",
        "store",
        "modalities",
    }
)

_MESSAGE_KEYS = frozenset(
    {"role", "content", "name", "tool_calls", "tool_call_id", "refusal", "reasoning_content", "function_call"}
)
_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value)


def _extra(obj: Mapping[str, Any], known: frozenset[str]) -> bytes:
    rest = {k: v for k, v in obj.items() if k not in known}
    return orjson.dumps(rest) if rest else b""


def _merge_extra(target: dict[str, Any], extra: bytes) -> None:
    if extra:
        for k, v in orjson.loads(extra).items():
            target.setdefault(k, v)


# --- field checks -------------------------------------------------------------------------


def _num(body: Mapping[str, Any], key: str) -> float | None:
    v = body.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise RequestError(f"'{key}' must be a number", key)
    return float(v)


def _int(body: Mapping[str, Any], key: str, *, bits: int = 64) -> int | None:
    """An integer field; ``bits`` is the width of the proto field it goes into."""
    v = body.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int):
        if not (isinstance(v, float) and v.is_integer()):
            raise RequestError(f"'{key}' must be an integer", key)
        v = int(v)
    limit = 1 << (bits - 1)
    if not -limit <= v < limit:
        raise RequestError(f"'{key}' is out of range (at most {limit - 1})", key)
    return v


def _bool(body: Mapping[str, Any], key: str) -> bool | None:
    v = body.get(key)
    if v is None:
        return None
    if not isinstance(v, bool):
        raise RequestError(f"'{key}' must be a boolean", key)
    return v


def _str(body: Mapping[str, Any], key: str) -> str | None:
    v = body.get(key)
    if v is None:
        return None
    if not isinstance(v, str):
        raise RequestError(f"'{key}' must be a string", key)
    return v


def _str_list(value: Any, key: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise RequestError(f"'{key}' must be a string or a list of strings", key)


def _check_event_text(value: str, key: str, max_chars: int) -> None:
    """Values that reach usage events and the spend ledger (see ``event_fields``)."""
    if problem := text_problem(value, key, max_chars):
        raise RequestError(problem, key)


def _model(body: Mapping[str, Any]) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise RequestError("'model' is required", "model")
    _check_event_text(model, "model", MAX_MODEL_CHARS)
    return model


def _user(body: Mapping[str, Any]) -> str | None:
    user = _str(body, "user")
    if user is not None:
        _check_event_text(user, "user", MAX_ID_CHARS)
    return user


# --- messages -----------------------------------------------------------------------------


def _part_from_json(part: Any, where: str) -> chat_pb2.ContentPart:
    if isinstance(part, str):
        return chat_pb2.ContentPart(text=part)
    if not isinstance(part, Mapping):
        raise RequestError(f"{where} must be an object", where)
    ptype = part.get("type")
    out = chat_pb2.ContentPart()
    if ptype == "text":
        text = part.get("text")
        if not isinstance(text, str):
            raise RequestError(f"{where}.text must be a string", where)
        out.text = text
        out.extra_json = _extra(part, frozenset({"type", "text"}))
    elif ptype == "image_url":
        img = part.get("image_url")
        if isinstance(img, str):
            out.image_url.url = img
        elif isinstance(img, Mapping) and isinstance(img.get("url"), str):
            out.image_url.url = img["url"]
            if img.get("detail") is not None:
                out.image_url.detail = str(img["detail"])
        else:
            raise RequestError(f"{where}.image_url.url is required", where)
        out.extra_json = _extra(part, frozenset({"type", "image_url"}))
    elif ptype == "input_audio":
        audio = part.get("input_audio")
        if not isinstance(audio, Mapping):
            raise RequestError(f"{where}.input_audio must be an object", where)
        out.input_audio.data = str(audio.get("data", ""))
        out.input_audio.format = str(audio.get("format", ""))
        out.extra_json = _extra(part, frozenset({"type", "input_audio"}))
    elif ptype == "file" and isinstance(part.get("file"), Mapping):
        f = part["file"]
        out.file.SetInParent()
        for key in ("file_id", "file_data", "filename", "format"):
            if f.get(key) is not None:
                setattr(out.file, key, str(f[key]))
        out.extra_json = _extra(part, frozenset({"type", "file"}))
    elif ptype == "refusal" and isinstance(part.get("refusal"), str):
        out.refusal = part["refusal"]
        out.extra_json = _extra(part, frozenset({"type", "refusal"}))
    else:
        out.other_json = _dumps(part)
    return out


def _tool_call_from_json(tc: Any, where: str) -> chat_pb2.ToolCall:
    if not isinstance(tc, Mapping):
        raise RequestError(f"{where} must be an object", where)
    fn = tc.get("function") or {}
    if not isinstance(fn, Mapping):
        raise RequestError(f"{where}.function must be an object", where)
    args = fn.get("arguments", "")
    if not isinstance(args, str):
        args = orjson.dumps(args).decode()
    out = chat_pb2.ToolCall(id=str(tc.get("id") or ""), type=str(tc.get("type") or "function"))
    out.function.name = str(fn.get("name") or "")
    out.function.arguments = args
    out.extra_json = _extra(tc, frozenset({"id", "type", "function", "index"}))
    return out


def message_from_json(m: Any, where: str = "messages") -> chat_pb2.ChatMessage:
    if not isinstance(m, Mapping):
        raise RequestError(f"{where} must be an object", where)
    role = m.get("role")
    if not isinstance(role, str) or role not in _ROLES:
        raise RequestError(f"{where}.role must be one of {', '.join(sorted(_ROLES))}", where)
    msg = chat_pb2.ChatMessage(role=role)
    content = m.get("content")
    if isinstance(content, str):
        msg.text = content
    elif isinstance(content, list):
        msg.parts.SetInParent()
        msg.parts.parts.extend(_part_from_json(p, f"{where}.content[{i}]") for i, p in enumerate(content))
    elif content is not None:
        raise RequestError(f"{where}.content must be a string, a list of parts or null", where)
    if m.get("name") is not None:
        msg.name = str(m["name"])
    tool_calls = m.get("tool_calls")
    if tool_calls:
        if not isinstance(tool_calls, list):
            raise RequestError(f"{where}.tool_calls must be a list", where)
        msg.tool_calls.extend(_tool_call_from_json(tc, f"{where}.tool_calls[{i}]") for i, tc in enumerate(tool_calls))
    if m.get("tool_call_id") is not None:
        msg.tool_call_id = str(m["tool_call_id"])
    if m.get("refusal") is not None:
        msg.refusal = str(m["refusal"])
    if m.get("reasoning_content") is not None:
        msg.reasoning_content = str(m["reasoning_content"])
    fc = m.get("function_call")
    if isinstance(fc, Mapping):
        msg.function_call.name = str(fc.get("name") or "")
        args = fc.get("arguments", "")
        msg.function_call.arguments = args if isinstance(args, str) else orjson.dumps(args).decode()
    msg.extra_json = _extra(m, _MESSAGE_KEYS)
    return msg


def _part_to_json(p: chat_pb2.ContentPart) -> Any:
    which = p.WhichOneof("part")
    out: dict[str, Any]
    if which == "text":
        out = {"type": "text", "text": p.text}
    elif which == "image_url":
        img: dict[str, Any] = {"url": p.image_url.url}
        if p.image_url.HasField("detail"):
            img["detail"] = p.image_url.detail
        out = {"type": "image_url", "image_url": img}
    elif which == "input_audio":
        out = {"type": "input_audio", "input_audio": {"data": p.input_audio.data, "format": p.input_audio.format}}
    elif which == "file":
        f = {k: getattr(p.file, k) for k in ("file_id", "file_data", "filename", "format") if p.file.HasField(k)}
        out = {"type": "file", "file": f}
    elif which == "refusal":
        out = {"type": "refusal", "refusal": p.refusal}
    elif which == "other_json":
        return orjson.loads(p.other_json)
    else:
        out = {"type": "text", "text": ""}
    _merge_extra(out, p.extra_json)
    return out


def tool_call_to_json(tc: chat_pb2.ToolCall) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": tc.id,
        "type": tc.type or "function",
        "function": {"name": tc.function.name, "arguments": tc.function.arguments},
    }
    _merge_extra(out, tc.extra_json)
    return out


def content_to_json(msg: chat_pb2.ChatMessage) -> Any:
    which = msg.WhichOneof("content")
    if which == "text":
        return msg.text
    if which == "parts":
        return [_part_to_json(p) for p in msg.parts.parts]
    return None


def message_to_json(msg: chat_pb2.ChatMessage, *, response: bool = False) -> dict[str, Any]:
    """A message as OpenAI writes it; ``response=True`` adds ``refusal: null`` like OpenAI's answers."""
    out: dict[str, Any] = {"role": msg.role, "content": content_to_json(msg)}
    if msg.HasField("name"):
        out["name"] = msg.name
    if msg.HasField("refusal"):
        out["refusal"] = msg.refusal
    elif response:
        out["refusal"] = None
    if msg.tool_calls:
        out["tool_calls"] = [tool_call_to_json(tc) for tc in msg.tool_calls]
    if msg.HasField("tool_call_id"):
        out["tool_call_id"] = msg.tool_call_id
    if msg.HasField("function_call"):
        out["function_call"] = {"name": msg.function_call.name, "arguments": msg.function_call.arguments}
    if msg.HasField("reasoning_content"):
        out["reasoning_content"] = msg.reasoning_content
    _merge_extra(out, msg.extra_json)
    return out


# --- requests -----------------------------------------------------------------------------


def _tool_from_json(t: Any, where: str) -> chat_pb2.Tool:
    if not isinstance(t, Mapping):
        raise RequestError(f"{where} must be an object", where)
    out = chat_pb2.Tool(type=str(t.get("type") or "function"))
    if out.type == "function":
        fn = t.get("function")
        if not isinstance(fn, Mapping) or not isinstance(fn.get("name"), str):
            raise RequestError(f"{where}.function.name is required", where)
        out.function.name = fn["name"]
        if fn.get("description") is not None:
            out.function.description = str(fn["description"])
        if fn.get("parameters") is not None:
            out.function.parameters_json = _dumps(fn["parameters"])
        if fn.get("strict") is not None:
            out.function.strict = bool(fn["strict"])
        extra_fn = _extra(fn, frozenset({"name", "description", "parameters", "strict"}))
        rest = {k: v for k, v in t.items() if k not in ("type", "function")}
        if extra_fn:
            rest["__function_extra__"] = orjson.loads(extra_fn)
        out.extra_json = _dumps(rest) if rest else b""
    else:
        out.extra_json = _dumps(dict(t))
    return out


def tool_to_json(t: chat_pb2.Tool) -> dict[str, Any]:
    if t.type != "function":
        return dict(orjson.loads(t.extra_json)) if t.extra_json else {"type": t.type}
    fn: dict[str, Any] = {"name": t.function.name}
    if t.function.HasField("description"):
        fn["description"] = t.function.description
    if t.function.parameters_json:
        fn["parameters"] = orjson.loads(t.function.parameters_json)
    if t.function.HasField("strict"):
        fn["strict"] = t.function.strict
    out: dict[str, Any] = {"type": "function", "function": fn}
    if t.extra_json:
        rest = orjson.loads(t.extra_json)
        fn.update(rest.pop("__function_extra__", {}))
        out.update(rest)
    return out


def _tool_choice_from_json(tc: Any) -> chat_pb2.ToolChoice:
    if isinstance(tc, str):
        if tc not in ("auto", "none", "required"):
            raise RequestError("'tool_choice' must be auto, none, required or a function", "tool_choice")
        return chat_pb2.ToolChoice(mode=tc)
    if isinstance(tc, Mapping):
        fn = tc.get("function")
        if tc.get("type") == "function" and isinstance(fn, Mapping) and isinstance(fn.get("name"), str):
            return chat_pb2.ToolChoice(function_name=fn["name"])
        return chat_pb2.ToolChoice(other_json=_dumps(dict(tc)))
    raise RequestError("'tool_choice' must be a string or an object", "tool_choice")


def tool_choice_to_json(tc: chat_pb2.ToolChoice) -> Any:
    which = tc.WhichOneof("choice")
    if which == "mode":
        return tc.mode
    if which == "function_name":
        return {"type": "function", "function": {"name": tc.function_name}}
    if which == "other_json":
        return orjson.loads(tc.other_json)
    return None


def _response_format_from_json(rf: Any) -> chat_pb2.ResponseFormat:
    if not isinstance(rf, Mapping) or not isinstance(rf.get("type"), str):
        raise RequestError("'response_format' must be an object with a type", "response_format")
    out = chat_pb2.ResponseFormat(type=rf["type"])
    if rf["type"] == "json_schema":
        js = rf.get("json_schema")
        if not isinstance(js, Mapping) or not isinstance(js.get("name"), str):
            raise RequestError("'response_format.json_schema.name' is required", "response_format")
        out.json_schema.name = js["name"]
        if js.get("description") is not None:
            out.json_schema.description = str(js["description"])
        if js.get("schema") is not None:
            out.json_schema.schema_json = _dumps(js["schema"])
        if js.get("strict") is not None:
            out.json_schema.strict = bool(js["strict"])
    return out


def response_format_to_json(rf: chat_pb2.ResponseFormat) -> dict[str, Any]:
    out: dict[str, Any] = {"type": rf.type}
    if rf.type == "json_schema":
        js: dict[str, Any] = {"name": rf.json_schema.name}
        if rf.json_schema.HasField("description"):
            js["description"] = rf.json_schema.description
        if rf.json_schema.schema_json:
            js["schema"] = orjson.loads(rf.json_schema.schema_json)
        if rf.json_schema.HasField("strict"):
            js["strict"] = rf.json_schema.strict
        out["json_schema"] = js
    return out


def options_from_json(body: Mapping[str, Any], opts: chat_pb2.RequestOptions) -> None:
    """Take LiteLLM's request-body extensions into ``opts``."""
    fb = body.get("fallbacks")
    if fb is not None:
        if not isinstance(fb, list):
            raise RequestError("'fallbacks' must be a list", "fallbacks")
        for f in fb:
            if isinstance(f, str):
                opts.fallbacks.append(f)
            elif isinstance(f, Mapping) and isinstance(f.get("model"), str):
                opts.fallbacks.append(f["model"])
            else:
                raise RequestError("'fallbacks' entries must be model names", "fallbacks")
    if (v := _int(body, "num_retries", bits=32)) is not None:
        if v < 0:
            raise RequestError("'num_retries' must not be negative", "num_retries")
        opts.num_retries = v
    timeout = body.get("timeout", body.get("request_timeout"))
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise RequestError("'timeout' must be a positive number of seconds", "timeout")
        opts.timeout_seconds = float(timeout)
    opts.disable_fallbacks = bool(_bool(body, "disable_fallbacks"))
    opts.mock_testing_fallbacks = bool(_bool(body, "mock_testing_fallbacks"))
    if (v2 := _bool(body, "drop_params")) is not None:
        opts.drop_params = v2
    opts.tags.extend(_str_list(body.get("tags"), "tags"))
    guardrails = body.get("guardrails")
    if guardrails is not None:
        opts.guardrails.extend(_str_list(guardrails, "guardrails"))
    meta = body.get("metadata", body.get("litellm_metadata"))
    if meta is not None:
        if not isinstance(meta, Mapping):
            raise RequestError("'metadata' must be an object", "metadata")
        opts.metadata_json = _dumps(meta)
        tags = meta.get("tags")
        if isinstance(tags, list):
            opts.tags.extend(str(t) for t in tags)
    _check_event_options(opts)


def _check_event_options(opts: chat_pb2.RequestOptions) -> None:
    """``metadata`` and ``tags`` reach the usage event and the ledger: bounded, and without NUL."""
    if opts.metadata_json and (problem := metadata_problem(opts.metadata_json)):
        raise RequestError(problem, "metadata")
    if opts.tags and (problem := tags_problem(opts.tags)):
        raise RequestError(problem, "tags")


# Messages one chat request may hold (agent transcripts run to a few thousand; far beyond is an
# attempt to make the gateway parse and copy something huge).
MAX_MESSAGES = 10_000


def chat_request_from_json(body: Any, *, max_messages: int = MAX_MESSAGES) -> chat_pb2.ChatCompletionRequest:
    """Parse and check a client's chat completion body."""
    if not isinstance(body, Mapping):
        raise RequestError("the request body must be a JSON object")
    model = _model(body)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RequestError("'messages' must be a non-empty list", "messages")
    if len(messages) > max_messages:
        raise RequestError(
            f"'messages' holds {len(messages)} messages; at most {max_messages} are accepted", "messages"
        )
    req = chat_pb2.ChatCompletionRequest(model=model)
    req.messages.extend(message_from_json(m, f"messages[{i}]") for i, m in enumerate(messages))
    if (f := _num(body, "temperature")) is not None:
        req.temperature = f
    if (f := _num(body, "top_p")) is not None:
        req.top_p = f
    if (i := _int(body, "n", bits=32)) is not None:
        req.n = i
    req.stream = bool(_bool(body, "stream"))
    so = body.get("stream_options")
    if so is not None:
        if not isinstance(so, Mapping):
            raise RequestError("'stream_options' must be an object", "stream_options")
        req.stream_options.include_usage = bool(_bool(so, "include_usage"))
        req.stream_options.extra_json = _extra(so, frozenset({"include_usage"}))
    req.stop.extend(_str_list(body.get("stop"), "stop"))
    if (i := _int(body, "max_tokens")) is not None:
        req.max_tokens = i
    if (i := _int(body, "max_completion_tokens")) is not None:
        req.max_completion_tokens = i
    if (f := _num(body, "presence_penalty")) is not None:
        req.presence_penalty = f
    if (f := _num(body, "frequency_penalty")) is not None:
        req.frequency_penalty = f
    lb = body.get("logit_bias")
    if lb is not None:
        if not isinstance(lb, Mapping):
            raise RequestError("'logit_bias' must be an object", "logit_bias")
        for k, v in lb.items():
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise RequestError("'logit_bias' values must be numbers", "logit_bias")
            req.logit_bias[str(k)] = float(v)
    if (b := _bool(body, "logprobs")) is not None:
        req.logprobs = b
    if (i := _int(body, "top_logprobs", bits=32)) is not None:
        req.top_logprobs = i
    if (s := _user(body)) is not None:
        req.user = s
    if (i := _int(body, "seed")) is not None:
        req.seed = i
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise RequestError("'tools' must be a list", "tools")
        req.tools.extend(_tool_from_json(t, f"tools[{i}]") for i, t in enumerate(tools))
    if body.get("tool_choice") is not None:
        req.tool_choice.CopyFrom(_tool_choice_from_json(body["tool_choice"]))
    if (b := _bool(body, "parallel_tool_calls")) is not None:
        req.parallel_tool_calls = b
    if body.get("response_format") is not None:
        req.response_format.CopyFrom(_response_format_from_json(body["response_format"]))
    if (s := _str(body, "reasoning_effort")) is not None:
        req.reasoning_effort = s
    if (s := _str(body, "service_tier")) is not None:
        req.service_tier = s
    if (b := _bool(body, "store")) is not None:
        req.store = b
    req.modalities.extend(_str_list(body.get("modalities"), "modalities"))
    options_from_json(body, req.options)
    meta = body.get("metadata")
    if req.store and isinstance(meta, Mapping) and all(isinstance(v, str) for v in meta.values()):
        req.openai_metadata.update(meta)
    req.extra_json = _extra(body, _REQUEST_KEYS | GATEWAY_KEYS)
    return req


def _check_json(raw: bytes, where: str, *, obj: bool = True) -> None:
    if not raw:
        return
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise RequestError(f"{where} must be JSON", where) from None
    if obj and not isinstance(value, dict):
        raise RequestError(f"{where} must be a JSON object", where)


def _check_finite(msg: Any, fields: tuple[str, ...]) -> None:
    for f in fields:
        if msg.HasField(f) and not math.isfinite(getattr(msg, f)):
            raise RequestError(f"'{f}' must be a finite number", f)


def check_options(opts: chat_pb2.RequestOptions) -> None:
    if opts.HasField("timeout_seconds") and not (math.isfinite(opts.timeout_seconds) and opts.timeout_seconds > 0):
        raise RequestError("'timeout' must be a positive number of seconds", "timeout")
    if opts.HasField("num_retries") and opts.num_retries < 0:
        raise RequestError("'num_retries' must not be negative", "num_retries")
    _check_json(opts.metadata_json, "metadata")
    _check_event_options(opts)


def _check_request_ids(req: chat_pb2.ChatCompletionRequest | embeddings_pb2.EmbeddingRequest) -> None:
    if not req.model:
        raise RequestError("'model' is required", "model")
    _check_event_text(req.model, "model", MAX_MODEL_CHARS)
    if req.HasField("user"):
        _check_event_text(req.user, "user", MAX_ID_CHARS)


def check_chat_request(req: chat_pb2.ChatCompletionRequest, *, max_messages: int = MAX_MESSAGES) -> None:
    """The checks ``chat_request_from_json`` makes, for a request that arrives as protobuf (the
    gRPC Gateway API): everything a provider adapter relies on is well formed."""
    _check_request_ids(req)
    if not req.messages:
        raise RequestError("'messages' must be a non-empty list", "messages")
    if len(req.messages) > max_messages:
        raise RequestError(
            f"'messages' holds {len(req.messages)} messages; at most {max_messages} are accepted", "messages"
        )
    for i, m in enumerate(req.messages):
        where = f"messages[{i}]"
        if m.role not in _ROLES:
            raise RequestError(f"{where}.role must be one of {', '.join(sorted(_ROLES))}", where)
        _check_json(m.extra_json, f"{where}.extra_json")
        for j, part in enumerate(m.parts.parts if m.WhichOneof("content") == "parts" else ()):
            pw = f"{where}.content[{j}]"
            kind = part.WhichOneof("part")
            if kind is None:
                raise RequestError(f"{pw} has no content", where)
            if kind == "image_url" and not part.image_url.url:
                raise RequestError(f"{pw}.image_url.url is required", where)
            if kind == "other_json":
                _check_json(part.other_json, pw)
            _check_json(part.extra_json, f"{pw}.extra_json")
        for j, tc in enumerate(m.tool_calls):
            _check_json(tc.extra_json, f"{where}.tool_calls[{j}].extra_json")
    _check_finite(req, ("temperature", "top_p", "presence_penalty", "frequency_penalty"))
    if any(not math.isfinite(v) for v in req.logit_bias.values()):
        raise RequestError("'logit_bias' values must be finite numbers", "logit_bias")
    for i, t in enumerate(req.tools):
        where = f"tools[{i}]"
        if (t.type or "function") == "function" and not t.function.name:
            raise RequestError(f"{where}.function.name is required", where)
        _check_json(t.function.parameters_json, f"{where}.function.parameters")
        _check_json(t.extra_json, f"{where}.extra_json")
    if req.HasField("tool_choice") and req.tool_choice.WhichOneof("choice") == "other_json":
        _check_json(req.tool_choice.other_json, "tool_choice")
    if req.HasField("response_format"):
        rf = req.response_format
        if not rf.type:
            raise RequestError("'response_format' must be an object with a type", "response_format")
        if rf.type == "json_schema":
            if not rf.json_schema.name:
                raise RequestError("'response_format.json_schema.name' is required", "response_format")
            _check_json(rf.json_schema.schema_json, "response_format.json_schema.schema")
    _check_json(req.stream_options.extra_json, "stream_options")
    check_options(req.options)
    _check_json(req.extra_json, "extra_json")


def check_embedding_request(req: embeddings_pb2.EmbeddingRequest) -> None:
    """``embedding_request_from_json``'s checks for a protobuf request."""
    _check_request_ids(req)
    which = req.WhichOneof("input")
    rows = req.texts.values if which == "texts" else req.tokens.values if which == "tokens" else ()
    if not rows:
        raise RequestError("'input' must be a non-empty string, list of strings or token arrays", "input")
    if which == "tokens" and any(not 0 <= v <= _MAX_TOKEN_ID for row in req.tokens.values for v in row.values):
        raise RequestError(f"'input' token arrays must hold integers from 0 to {_MAX_TOKEN_ID}", "input")
    if req.HasField("encoding_format") and req.encoding_format not in ("float", "base64"):
        raise RequestError("'encoding_format' must be float or base64", "encoding_format")
    check_options(req.options)
    _check_json(req.extra_json, "extra_json")


def chat_request_to_json(
    req: chat_pb2.ChatCompletionRequest, *, model: str | None = None, include_extra: bool = True
) -> dict[str, Any]:
    """The OpenAI body for a request (gateway controls left out)."""
    out: dict[str, Any] = {"model": model or req.model, "messages": [message_to_json(m) for m in req.messages]}
    sampling.OPENAI.apply(req, out)
    if req.stream:
        out["stream"] = True
    if req.HasField("stream_options"):
        so: dict[str, Any] = {"include_usage": req.stream_options.include_usage}
        _merge_extra(so, req.stream_options.extra_json)
        out["stream_options"] = so
    if req.logit_bias:
        out["logit_bias"] = dict(req.logit_bias)
    if req.HasField("user"):
        out["user"] = req.user
    if req.tools:
        out["tools"] = [tool_to_json(t) for t in req.tools]
    if req.HasField("tool_choice"):
        out["tool_choice"] = tool_choice_to_json(req.tool_choice)
    if req.HasField("parallel_tool_calls"):
        out["parallel_tool_calls"] = req.parallel_tool_calls
    if req.HasField("response_format"):
        out["response_format"] = response_format_to_json(req.response_format)
    if req.HasField("reasoning_effort"):
        out["reasoning_effort"] = req.reasoning_effort
    if req.HasField("service_tier"):
        out["service_tier"] = req.service_tier
    if req.HasField("store"):
        out["store"] = req.store
    if req.modalities:
        out["modalities"] = list(req.modalities)
    if req.openai_metadata:
        out["metadata"] = dict(req.openai_metadata)
    if include_extra:
        _merge_extra(out, req.extra_json)
    return out


# --- usage --------------------------------------------------------------------------------

_PROMPT_DETAIL_KEYS = ("cached_tokens", "audio_tokens", "cache_creation_tokens", "text_tokens", "image_tokens")
_COMPLETION_DETAIL_KEYS = (
    "reasoning_tokens",
    "audio_tokens",
    "accepted_prediction_tokens",
    "rejected_prediction_tokens",
    "text_tokens",
)


def usage_from_json(u: Mapping[str, Any], out: chat_pb2.Usage) -> chat_pb2.Usage:
    out.prompt_tokens = int(u.get("prompt_tokens") or 0)
    out.completion_tokens = int(u.get("completion_tokens") or 0)
    out.total_tokens = int(u.get("total_tokens") or (out.prompt_tokens + out.completion_tokens))
    ptd = u.get("prompt_tokens_details")
    if isinstance(ptd, Mapping):
        out.prompt_tokens_details.SetInParent()
        for k in _PROMPT_DETAIL_KEYS:
            if ptd.get(k) is not None:
                setattr(out.prompt_tokens_details, k, int(ptd[k]))
    # Anthropic-style keys some OpenAI-compatible servers (and LiteLLM) report.
    if u.get("cache_creation_input_tokens") is not None:
        out.prompt_tokens_details.cache_creation_tokens = int(u["cache_creation_input_tokens"])
    if u.get("cache_read_input_tokens") is not None and not out.prompt_tokens_details.HasField("cached_tokens"):
        out.prompt_tokens_details.cached_tokens = int(u["cache_read_input_tokens"])
    ctd = u.get("completion_tokens_details")
    if isinstance(ctd, Mapping):
        out.completion_tokens_details.SetInParent()
        for k in _COMPLETION_DETAIL_KEYS:
            if ctd.get(k) is not None:
                setattr(out.completion_tokens_details, k, int(ctd[k]))
    return out


def usage_to_json(u: chat_pb2.Usage) -> dict[str, Any]:
    out: dict[str, Any] = {
        "completion_tokens": u.completion_tokens,
        "prompt_tokens": u.prompt_tokens,
        "total_tokens": u.total_tokens,
    }
    if u.HasField("completion_tokens_details"):
        d = u.completion_tokens_details
        out["completion_tokens_details"] = {k: getattr(d, k) for k in _COMPLETION_DETAIL_KEYS if d.HasField(k)}
    if u.HasField("prompt_tokens_details"):
        p = u.prompt_tokens_details
        out["prompt_tokens_details"] = {k: getattr(p, k) for k in _PROMPT_DETAIL_KEYS if p.HasField(k)}
    return out


# --- completions --------------------------------------------------------------------------

_COMPLETION_KEYS = frozenset(
    {"id", "object", "created", "model", "system_fingerprint", "service_tier", "choices", "usage"}
)
_CHOICE_KEYS = frozenset({"index", "message", "finish_reason", "logprobs"})
_DELTA_KEYS = frozenset({"role", "content", "reasoning_content", "refusal", "tool_calls"})
_CHUNK_CHOICE_KEYS = frozenset({"index", "delta", "finish_reason", "logprobs"})


def completion_from_json(d: Mapping[str, Any]) -> chat_pb2.ChatCompletion:
    out = chat_pb2.ChatCompletion(
        id=str(d.get("id") or ""), created=int(d.get("created") or 0), model=str(d.get("model") or "")
    )
    if d.get("system_fingerprint") is not None:
        out.system_fingerprint = str(d["system_fingerprint"])
    if d.get("service_tier") is not None:
        out.service_tier = str(d["service_tier"])
    for i, c in enumerate(d.get("choices") or []):
        choice = out.choices.add(index=int(c.get("index", i)), finish_reason=str(c.get("finish_reason") or ""))
        msg = c.get("message") or {"role": "assistant", "content": None}
        if "role" not in msg:
            msg = {**msg, "role": "assistant"}
        choice.message.CopyFrom(message_from_json(msg, f"choices[{i}].message"))
        if c.get("logprobs") is not None:
            choice.logprobs_json = _dumps(c["logprobs"])
        choice.extra_json = _extra(c, _CHOICE_KEYS)
    if isinstance(d.get("usage"), Mapping):
        usage_from_json(d["usage"], out.usage)
    out.extra_json = _extra(d, _COMPLETION_KEYS)
    return out


def completion_to_json(c: chat_pb2.ChatCompletion) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": c.id,
        "object": "chat.completion",
        "created": c.created,
        "model": c.model,
        "choices": [_choice_to_json(ch) for ch in c.choices],
    }
    if c.HasField("usage"):
        out["usage"] = usage_to_json(c.usage)
    if c.HasField("service_tier"):
        out["service_tier"] = c.service_tier
    if c.HasField("system_fingerprint"):
        out["system_fingerprint"] = c.system_fingerprint
    _merge_extra(out, c.extra_json)
    return out


def _choice_to_json(ch: chat_pb2.Choice) -> dict[str, Any]:
    out: dict[str, Any] = {
        "index": ch.index,
        "message": message_to_json(ch.message, response=True),
        "logprobs": orjson.loads(ch.logprobs_json) if ch.logprobs_json else None,
        "finish_reason": ch.finish_reason or None,
    }
    _merge_extra(out, ch.extra_json)
    return out


def chunk_from_json(d: Mapping[str, Any]) -> chat_pb2.ChatCompletionChunk:
    out = chat_pb2.ChatCompletionChunk(
        id=str(d.get("id") or ""), created=int(d.get("created") or 0), model=str(d.get("model") or "")
    )
    if d.get("system_fingerprint") is not None:
        out.system_fingerprint = str(d["system_fingerprint"])
    if d.get("service_tier") is not None:
        out.service_tier = str(d["service_tier"])
    for i, c in enumerate(d.get("choices") or ()):
        ch = out.choices.add(index=int(c.get("index", i)), finish_reason=str(c.get("finish_reason") or ""))
        delta = c.get("delta") or {}
        dd = ch.delta
        if delta.get("role") is not None:
            dd.role = str(delta["role"])
        if delta.get("content") is not None:
            dd.content = str(delta["content"])
        if delta.get("reasoning_content") is not None:
            dd.reasoning_content = str(delta["reasoning_content"])
        if delta.get("refusal") is not None:
            dd.refusal = str(delta["refusal"])
        for j, tc in enumerate(delta.get("tool_calls") or ()):
            t = dd.tool_calls.add(index=int(tc.get("index", j)))
            if tc.get("id") is not None:
                t.id = str(tc["id"])
            if tc.get("type") is not None:
                t.type = str(tc["type"])
            fn = tc.get("function") or {}
            if fn.get("name") is not None:
                t.name = str(fn["name"])
            if fn.get("arguments") is not None:
                t.arguments = str(fn["arguments"])
        if not _DELTA_KEYS.issuperset(delta):
            dd.extra_json = _extra(delta, _DELTA_KEYS)
        if c.get("logprobs") is not None:
            ch.logprobs_json = _dumps(c["logprobs"])
        if not _CHUNK_CHOICE_KEYS.issuperset(c):
            ch.extra_json = _extra(c, _CHUNK_CHOICE_KEYS)
    if isinstance(d.get("usage"), Mapping):
        usage_from_json(d["usage"], out.usage)
    if not _COMPLETION_KEYS.issuperset(d):
        out.extra_json = _extra(d, _COMPLETION_KEYS)
    return out


def chunk_to_json(c: chat_pb2.ChatCompletionChunk, *, include_usage_key: bool = False) -> dict[str, Any]:
    """A chunk as OpenAI streams it. ``include_usage_key`` adds ``"usage": null`` to chunks
    without usage, as OpenAI does when the client asked for ``include_usage``."""
    out: dict[str, Any] = {"id": c.id, "object": "chat.completion.chunk", "created": c.created, "model": c.model}
    if c.HasField("service_tier"):
        out["service_tier"] = c.service_tier
    if c.HasField("system_fingerprint"):
        out["system_fingerprint"] = c.system_fingerprint
    choices = []
    for ch in c.choices:
        d = ch.delta
        delta: dict[str, Any] = {}
        if d.HasField("role"):
            delta["role"] = d.role
        if d.HasField("content"):
            delta["content"] = d.content
        if d.HasField("role") and not d.HasField("refusal"):
            delta["refusal"] = None  # OpenAI's first chunk carries "refusal": null
        if d.HasField("reasoning_content"):
            delta["reasoning_content"] = d.reasoning_content
        if d.HasField("refusal"):
            delta["refusal"] = d.refusal
        if d.tool_calls:
            tcs = []
            for t in d.tool_calls:
                tj: dict[str, Any] = {"index": t.index}
                if t.HasField("id"):
                    tj["id"] = t.id
                if t.HasField("type"):
                    tj["type"] = t.type
                fn: dict[str, Any] = {}
                if t.HasField("name"):
                    fn["name"] = t.name
                if t.HasField("arguments"):
                    fn["arguments"] = t.arguments
                tj["function"] = fn
                _merge_extra(tj, t.extra_json)
                tcs.append(tj)
            delta["tool_calls"] = tcs
        _merge_extra(delta, d.extra_json)
        cj: dict[str, Any] = {
            "index": ch.index,
            "delta": delta,
            "logprobs": orjson.loads(ch.logprobs_json) if ch.logprobs_json else None,
            "finish_reason": ch.finish_reason or None,
        }
        _merge_extra(cj, ch.extra_json)
        choices.append(cj)
    out["choices"] = choices
    if c.HasField("usage"):
        out["usage"] = usage_to_json(c.usage)
    elif include_usage_key:
        out["usage"] = None
    _merge_extra(out, c.extra_json)
    return out


# --- embeddings ---------------------------------------------------------------------------

_EMBED_KEYS = frozenset({"model", "input", "encoding_format", "dimensions", "user"})


# Token ids are vocabulary indices: non-negative and far below this (the largest vocabularies
# have about a million entries).
_MAX_TOKEN_ID = (1 << 31) - 1


def _token_ids(row: Any) -> Any:
    if not isinstance(row, list) or not all(
        isinstance(x, int) and not isinstance(x, bool) and 0 <= x <= _MAX_TOKEN_ID for x in row
    ):
        raise RequestError(f"'input' token arrays must hold integers from 0 to {_MAX_TOKEN_ID}", "input")
    return row


def embedding_request_from_json(body: Any) -> embeddings_pb2.EmbeddingRequest:
    if not isinstance(body, Mapping):
        raise RequestError("the request body must be a JSON object")
    model = _model(body)
    req = embeddings_pb2.EmbeddingRequest(model=model)
    inp = body.get("input")
    if isinstance(inp, str):
        req.texts.values.append(inp)
    elif isinstance(inp, list) and inp and all(isinstance(x, str) for x in inp):
        req.texts.values.extend(inp)
    elif isinstance(inp, list) and inp and all(isinstance(x, int) and not isinstance(x, bool) for x in inp):
        req.tokens.values.add().values.extend(_token_ids(inp))
    elif isinstance(inp, list) and inp and all(isinstance(x, list) for x in inp):
        for row in inp:
            req.tokens.values.add().values.extend(_token_ids(row))
    else:
        raise RequestError("'input' must be a non-empty string, list of strings or token arrays", "input")
    if (s := _str(body, "encoding_format")) is not None:
        if s not in ("float", "base64"):
            raise RequestError("'encoding_format' must be float or base64", "encoding_format")
        req.encoding_format = s
    if (i := _int(body, "dimensions", bits=32)) is not None:
        req.dimensions = i
    if (s := _user(body)) is not None:
        req.user = s
    options_from_json(body, req.options)
    req.extra_json = _extra(body, _EMBED_KEYS | GATEWAY_KEYS)
    return req


def embedding_input_to_json(req: embeddings_pb2.EmbeddingRequest) -> Any:
    if req.WhichOneof("input") == "tokens":
        return [list(t.values) for t in req.tokens.values]
    return list(req.texts.values)


def embedding_request_to_json(req: embeddings_pb2.EmbeddingRequest, *, model: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"model": model or req.model, "input": embedding_input_to_json(req)}
    if req.HasField("encoding_format"):
        out["encoding_format"] = req.encoding_format
    if req.HasField("dimensions"):
        out["dimensions"] = req.dimensions
    if req.HasField("user"):
        out["user"] = req.user
    _merge_extra(out, req.extra_json)
    return out


def embedding_response_from_json(d: Mapping[str, Any]) -> embeddings_pb2.EmbeddingResponse:
    out = embeddings_pb2.EmbeddingResponse(model=str(d.get("model") or ""))
    for i, item in enumerate(d.get("data") or ()):
        e = out.data.add(index=int(item.get("index", i)))
        vec = item.get("embedding")
        if isinstance(vec, str):
            e.base64 = vec
        else:
            e.floats.values.extend(vec or ())
    if isinstance(d.get("usage"), Mapping):
        usage_from_json(d["usage"], out.usage)
    return out


def embedding_response_to_json(r: embeddings_pb2.EmbeddingResponse) -> dict[str, Any]:
    data = []
    for e in r.data:
        vec: Any = e.base64 if e.WhichOneof("vector") == "base64" else list(e.floats.values)
        data.append({"object": "embedding", "index": e.index, "embedding": vec})
    out: dict[str, Any] = {"object": "list", "data": data, "model": r.model}
    out["usage"] = {"prompt_tokens": r.usage.prompt_tokens, "total_tokens": r.usage.total_tokens}
    return out


# --- images -------------------------------------------------------------------------------

_IMAGE_KEYS = frozenset({"model", "prompt", "n", "size", "quality", "response_format", "style", "user"})


def image_request_from_json(body: Any) -> images_pb2.ImageGenerationRequest:
    """Parse and check a client's ``POST /v1/images/generations`` body."""
    if not isinstance(body, Mapping):
        raise RequestError("the request body must be a JSON object")
    model = _model(body)
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt:
        raise RequestError("'prompt' must be a non-empty string", "prompt")
    req = images_pb2.ImageGenerationRequest(model=model, prompt=prompt)
    if (i := _int(body, "n", bits=32)) is not None:
        if i < 1:
            raise RequestError("'n' must be at least 1", "n")
        req.n = i
    for key in ("size", "quality", "style"):
        if (s := _str(body, key)) is not None:
            setattr(req, key, s)
    if (s := _user(body)) is not None:
        req.user = s
    if (s := _str(body, "response_format")) is not None:
        if s not in ("url", "b64_json"):
            raise RequestError("'response_format' must be url or b64_json", "response_format")
        req.response_format = s
    options_from_json(body, req.options)
    req.extra_json = _extra(body, _IMAGE_KEYS | GATEWAY_KEYS)
    return req


def image_response_to_json(r: images_pb2.ImageGenerationResponse) -> dict[str, Any]:
    data = []
    for img in r.data:
        item: dict[str, Any] = {}
        for key in ("url", "b64_json", "revised_prompt"):
            if img.HasField(key):
                item[key] = getattr(img, key)
        data.append(item)
    out: dict[str, Any] = {"created": r.created, "data": data}
    if r.usage.total_tokens or r.usage.prompt_tokens or r.usage.completion_tokens:
        # The shape of OpenAI's image usage (gpt-image-1).
        out["usage"] = {
            "input_tokens": r.usage.prompt_tokens,
            "output_tokens": r.usage.completion_tokens,
            "total_tokens": r.usage.total_tokens or r.usage.prompt_tokens + r.usage.completion_tokens,
        }
    _merge_extra(out, r.extra_json)
    return out
