"""OpenAI Chat Completions JSON ⇄ protobuf.

The edge parses client bodies with ``chat_request_from_json`` and renders answers with
``completion_to_json`` / ``chunk_to_json``; OpenAI-compatible provider adapters go the other way."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from switchyard.llm.v1 import chat_pb2
from switchyard_llm import sampling
from switchyard_llm.errors import RequestError
from switchyard_llm.openai_codec.checks import MAX_MESSAGES
from switchyard_llm.openai_codec.fields import (
    boolean,
    dumps,
    extra_of,
    integer,
    merge_extra,
    model_of,
    number,
    string,
    strings,
    user_of,
)
from switchyard_llm.openai_codec.messages import (
    message_from_json,
    message_to_json,
    response_format_from_json,
    response_format_to_json,
    tool_choice_from_json,
    tool_choice_to_json,
    tool_from_json,
    tool_to_json,
)
from switchyard_llm.openai_codec.options import GATEWAY_KEYS, options_from_json
from switchyard_llm.openai_codec.usage import usage_from_json, usage_to_json

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


def chat_request_from_json(body: Any, *, max_messages: int = MAX_MESSAGES) -> chat_pb2.ChatCompletionRequest:
    """Parse and check a client's chat completion body."""
    if not isinstance(body, Mapping):
        raise RequestError("the request body must be a JSON object")
    model = model_of(body)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RequestError("'messages' must be a non-empty list", "messages")
    if len(messages) > max_messages:
        raise RequestError(
            f"'messages' holds {len(messages)} messages; at most {max_messages} are accepted", "messages"
        )
    req = chat_pb2.ChatCompletionRequest(model=model)
    req.messages.extend(message_from_json(m, f"messages[{i}]") for i, m in enumerate(messages))
    if (f := number(body, "temperature")) is not None:
        req.temperature = f
    if (f := number(body, "top_p")) is not None:
        req.top_p = f
    if (i := integer(body, "n", bits=32)) is not None:
        req.n = i
    req.stream = bool(boolean(body, "stream"))
    so = body.get("stream_options")
    if so is not None:
        if not isinstance(so, Mapping):
            raise RequestError("'stream_options' must be an object", "stream_options")
        req.stream_options.include_usage = bool(boolean(so, "include_usage"))
        req.stream_options.extra_json = extra_of(so, frozenset({"include_usage"}))
    req.stop.extend(strings(body.get("stop"), "stop"))
    if (i := integer(body, "max_tokens")) is not None:
        req.max_tokens = i
    if (i := integer(body, "max_completion_tokens")) is not None:
        req.max_completion_tokens = i
    if (f := number(body, "presence_penalty")) is not None:
        req.presence_penalty = f
    if (f := number(body, "frequency_penalty")) is not None:
        req.frequency_penalty = f
    lb = body.get("logit_bias")
    if lb is not None:
        if not isinstance(lb, Mapping):
            raise RequestError("'logit_bias' must be an object", "logit_bias")
        for k, v in lb.items():
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise RequestError("'logit_bias' values must be numbers", "logit_bias")
            req.logit_bias[str(k)] = float(v)
    if (b := boolean(body, "logprobs")) is not None:
        req.logprobs = b
    if (i := integer(body, "top_logprobs", bits=32)) is not None:
        req.top_logprobs = i
    if (s := user_of(body)) is not None:
        req.user = s
    if (i := integer(body, "seed")) is not None:
        req.seed = i
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise RequestError("'tools' must be a list", "tools")
        req.tools.extend(tool_from_json(t, f"tools[{i}]") for i, t in enumerate(tools))
    if body.get("tool_choice") is not None:
        req.tool_choice.CopyFrom(tool_choice_from_json(body["tool_choice"]))
    if (b := boolean(body, "parallel_tool_calls")) is not None:
        req.parallel_tool_calls = b
    if body.get("response_format") is not None:
        req.response_format.CopyFrom(response_format_from_json(body["response_format"]))
    if (s := string(body, "reasoning_effort")) is not None:
        req.reasoning_effort = s
    if (s := string(body, "service_tier")) is not None:
        req.service_tier = s
    if (b := boolean(body, "store")) is not None:
        req.store = b
    req.modalities.extend(strings(body.get("modalities"), "modalities"))
    options_from_json(body, req.options)
    meta = body.get("metadata")
    if req.store and isinstance(meta, Mapping) and all(isinstance(v, str) for v in meta.values()):
        req.openai_metadata.update(meta)
    req.extra_json = extra_of(body, _REQUEST_KEYS | GATEWAY_KEYS)
    return req


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
        merge_extra(so, req.stream_options.extra_json)
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
        merge_extra(out, req.extra_json)
    return out


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
            choice.logprobs_json = dumps(c["logprobs"])
        choice.extra_json = extra_of(c, _CHOICE_KEYS)
    if isinstance(d.get("usage"), Mapping):
        usage_from_json(d["usage"], out.usage)
    out.extra_json = extra_of(d, _COMPLETION_KEYS)
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
    merge_extra(out, c.extra_json)
    return out


def _choice_to_json(ch: chat_pb2.Choice) -> dict[str, Any]:
    out: dict[str, Any] = {
        "index": ch.index,
        "message": message_to_json(ch.message, response=True),
        "logprobs": orjson.loads(ch.logprobs_json) if ch.logprobs_json else None,
        "finish_reason": ch.finish_reason or None,
    }
    merge_extra(out, ch.extra_json)
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
            dd.extra_json = extra_of(delta, _DELTA_KEYS)
        if c.get("logprobs") is not None:
            ch.logprobs_json = dumps(c["logprobs"])
        if not _CHUNK_CHOICE_KEYS.issuperset(c):
            ch.extra_json = extra_of(c, _CHUNK_CHOICE_KEYS)
    if isinstance(d.get("usage"), Mapping):
        usage_from_json(d["usage"], out.usage)
    if not _COMPLETION_KEYS.issuperset(d):
        out.extra_json = extra_of(d, _COMPLETION_KEYS)
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
                merge_extra(tj, t.extra_json)
                tcs.append(tj)
            delta["tool_calls"] = tcs
        merge_extra(delta, d.extra_json)
        cj: dict[str, Any] = {
            "index": ch.index,
            "delta": delta,
            "logprobs": orjson.loads(ch.logprobs_json) if ch.logprobs_json else None,
            "finish_reason": ch.finish_reason or None,
        }
        merge_extra(cj, ch.extra_json)
        choices.append(cj)
    out["choices"] = choices
    if c.HasField("usage"):
        out["usage"] = usage_to_json(c.usage)
    elif include_usage_key:
        out["usage"] = None
    merge_extra(out, c.extra_json)
    return out
