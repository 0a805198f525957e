"""OpenAI's Responses API (https://platform.openai.com/docs/api-reference/responses) and the
pipeline's chat model.

A request is read once (``parse_request``): its own input becomes items with ids (what is stored
and what ``input_items`` lists). With the items of the conversation its ``previous_response_id``
names, it becomes the chat request every deployment can serve (``to_chat``), and, for a
deployment that serves the Responses API itself, the body it is sent as is (``native_request``).
Answers come back as the chat model's completion or chunks (``from_completion``,
``TranslatedEvents``) or as the deployment's own Responses JSON (``from_native``, ``NativeEvents``),
and leave as a Response object or its event stream, under Switchyard's own response id: a stored
conversation continues on whichever deployment serves the next turn.

What the chat model cannot express is sent only natively: built-in tools and items of their
calls, ``include``, ``truncation``, ``reasoning.summary``, ``text.verbosity``, ``prompt_cache_key``,
``safety_identifier``, ``max_tool_calls``. A translated request leaves them out; its reasoning
comes back as reasoning items (their summary when one was asked for), whose ``encrypted_content``
carries a provider's thinking blocks so the next turn can return them."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from switchyard.llm.v1 import chat_pb2, error_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_edge.dialects import message_text
from switchyard_llm.errors import RequestError
from switchyard_llm.event_fields import MAX_ID_CHARS, MAX_MODEL_CHARS, text_problem
from switchyard_llm.openai_codec.options import GATEWAY_KEYS, options_from_json

API = "responses"
ENDPOINT = "/v1/responses"

# Keys the response object echoes from the request, with OpenAI's values when absent.
_ECHOED_DEFAULTS: dict[str, Any] = {
    "instructions": None,
    "max_output_tokens": None,
    "max_tool_calls": None,
    "parallel_tool_calls": True,
    "reasoning": {"effort": None, "summary": None},
    "service_tier": "default",
    "temperature": 1.0,
    "text": {"format": {"type": "text"}},
    "tool_choice": "auto",
    "tools": [],
    "top_logprobs": 0,
    "top_p": 1.0,
    "truncation": "disabled",
    "user": None,
    "metadata": {},
}
# Request keys this module reads or echoes; any other key is a provider parameter (as in chat).
_KNOWN = frozenset(
    {
        "model",
        "input",
        "previous_response_id",
        "store",
        "stream",
        "stream_options",
        "include",
        "background",
        "conversation",
        "prompt",
        "prompt_cache_key",
        "prompt_cache_retention",
        "safety_identifier",
        *_ECHOED_DEFAULTS,
    }
)
_ROLES = frozenset({"user", "assistant", "system", "developer"})
# Reasoning items made here carry the provider's thinking blocks (with their signatures) as their
# encrypted content: opaque to the client, returned on the next turn.
_THINKING_PREFIX = "switchyard-thinking:"
# The Response error codes the SDK knows, by kind (`ResponseError.code`).
_FAILURE_CODES = {
    ErrorKind.ERROR_KIND_RATE_LIMIT: "rate_limit_exceeded",
    ErrorKind.ERROR_KIND_BUDGET_EXCEEDED: "rate_limit_exceeded",
    ErrorKind.ERROR_KIND_NO_DEPLOYMENTS: "rate_limit_exceeded",
    ErrorKind.ERROR_KIND_BAD_REQUEST: "invalid_prompt",
    ErrorKind.ERROR_KIND_CONTEXT_WINDOW_EXCEEDED: "invalid_prompt",
    ErrorKind.ERROR_KIND_GUARDRAIL_BLOCKED: "invalid_prompt",
    ErrorKind.ERROR_KIND_CONTENT_POLICY_VIOLATION: "invalid_prompt",
}


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def response_id(call_id: str) -> str:
    """A response's id: the gateway call's (so spend logs and stored responses meet)."""
    return "resp_" + call_id.replace("-", "")


@dataclass(slots=True)
class ResponsesRequest:
    """A ``POST /v1/responses`` body as read: what the answer echoes, its own input as items
    (with ids), and what steers the gateway."""

    # The body without the gateway's own keys (what the response echoes, and a native call sends).
    body: dict[str, Any]
    model: str
    input_items: list[dict[str, Any]]
    previous_response_id: str | None
    store: bool
    stream: bool
    # Reasoning summaries were asked for (`reasoning.summary`).
    summary: bool
    options: chat_pb2.RequestOptions = field(default_factory=chat_pb2.RequestOptions)


# --- reading a request ----------------------------------------------------------------------


def _check_text(value: Any, key: str, max_chars: int) -> str:
    if not isinstance(value, str) or not value:
        raise RequestError(f"'{key}' must be a non-empty string", key)
    if problem := text_problem(value, key, max_chars):
        raise RequestError(problem, key)
    return value


def _optional(body: Mapping[str, Any], key: str, kind: type | tuple[type, ...], what: str) -> Any:
    v = body.get(key)
    if v is not None and (not isinstance(v, kind) or (isinstance(v, bool) and bool not in _types(kind))):
        raise RequestError(f"'{key}' must be {what}", key)
    return v


def _types(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _refuse(body: Mapping[str, Any]) -> None:
    """Features of OpenAI's platform that a gateway cannot offer, refused rather than ignored."""
    if body.get("background"):
        raise RequestError("background responses are not supported; stream the response instead", "background")
    if body.get("conversation") is not None:
        raise RequestError(
            "the Conversations API is not supported; continue a conversation with previous_response_id",
            "conversation",
        )
    if body.get("prompt") is not None:
        raise RequestError("stored prompt templates ('prompt') are not supported", "prompt")


def _content(content: Any, role: str, where: str) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "output_text" if role == "assistant" else "input_text", "text": content}]
    if not isinstance(content, list):
        raise RequestError(f"{where}.content must be a string or a list of content parts", where)
    for i, part in enumerate(content):
        if not isinstance(part, Mapping) or not isinstance(part.get("type"), str):
            raise RequestError(f"{where}.content[{i}] must be an object with a type", where)
        if part["type"] in ("input_text", "output_text") and not isinstance(part.get("text"), str):
            raise RequestError(f"{where}.content[{i}].text must be a string", where)
    return [dict(p) for p in content]


def _item(raw: Any, where: str) -> dict[str, Any]:
    """One input item, checked, as stored and listed: messages get a type, parts and an id."""
    if not isinstance(raw, Mapping):
        raise RequestError(f"{where} must be an object", where)
    item = dict(raw)
    kind = item.get("type")
    if kind is None and "role" in item:
        kind = item["type"] = "message"
    if not isinstance(kind, str):
        raise RequestError(f"{where}.type is required", where)
    if kind == "message":
        role = item.get("role")
        if role not in _ROLES:
            raise RequestError(f"{where}.role must be one of {', '.join(sorted(_ROLES))}", where)
        item["content"] = _content(item.get("content"), role, where)
        item.setdefault("id", new_id("msg"))
        item.setdefault("status", "completed")
    elif kind == "function_call":
        for key in ("call_id", "name", "arguments"):
            if not isinstance(item.get(key), str):
                raise RequestError(f"{where}.{key} must be a string", where)
        item.setdefault("id", new_id("fc"))
        item.setdefault("status", "completed")
    elif kind == "function_call_output":
        if not isinstance(item.get("call_id"), str):
            raise RequestError(f"{where}.call_id must be a string", where)
        output = item.get("output")
        if not isinstance(output, str | list):
            raise RequestError(f"{where}.output must be a string or a list of content parts", where)
        item.setdefault("id", new_id("fco"))
        item.setdefault("status", "completed")
    elif kind == "reasoning":
        if not isinstance(item.get("summary", []), list):
            raise RequestError(f"{where}.summary must be a list", where)
        item.setdefault("summary", [])
    elif kind == "item_reference":
        raise RequestError(
            f"{where}: item references are not supported; send the item itself, or continue with previous_response_id",
            where,
        )
    return item


def parse_request(body: Any) -> ResponsesRequest:
    """Check a client's ``POST /v1/responses`` body."""
    if not isinstance(body, Mapping):
        raise RequestError("the request body must be a JSON object")
    _refuse(body)
    model = _check_text(body.get("model"), "model", MAX_MODEL_CHARS)
    previous = body.get("previous_response_id")
    if previous is not None:
        previous = _check_text(previous, "previous_response_id", MAX_ID_CHARS)
    raw = body.get("input")
    if isinstance(raw, str):
        items = [_item({"role": "user", "content": raw}, "input")]
    elif isinstance(raw, list):
        items = [_item(x, f"input[{i}]") for i, x in enumerate(raw)]
    elif raw is None and previous is not None:
        items = []
    else:
        raise RequestError("'input' must be a string or a list of input items", "input")
    _optional(body, "instructions", str, "a string")
    _optional(body, "tools", list, "a list")
    _optional(body, "text", dict, "an object")
    _optional(body, "reasoning", dict, "an object")
    _optional(body, "include", list, "a list")
    _optional(body, "metadata", dict, "an object")
    for key in ("store", "stream", "parallel_tool_calls"):
        _optional(body, key, bool, "a boolean")
    for key in ("max_output_tokens", "top_logprobs", "max_tool_calls"):
        v = _optional(body, key, int, "an integer")
        if v is not None and v < 0:
            raise RequestError(f"'{key}' must not be negative", key)
    for key in ("temperature", "top_p"):
        _optional(body, key, (int, float), "a number")
    user = _optional(body, "user", str, "a string")
    if user is not None and (problem := text_problem(user, "user", MAX_ID_CHARS)):
        raise RequestError(problem, "user")
    out = ResponsesRequest(
        body={k: v for k, v in body.items() if k not in GATEWAY_KEYS or k == "metadata"},
        model=model,
        input_items=items,
        previous_response_id=previous,
        store=body.get("store") is not False,
        stream=bool(body.get("stream")),
        summary=bool((body.get("reasoning") or {}).get("summary")),
    )
    options_from_json(body, out.options)
    out.body["input"] = items
    return out


# --- the chat translation ---------------------------------------------------------------------


def _text_of(parts: Iterable[Mapping[str, Any]]) -> str:
    return "".join(str(p.get("text", "")) for p in parts if p.get("type") in ("input_text", "output_text"))


def _chat_part(part: Mapping[str, Any]) -> chat_pb2.ContentPart:
    kind = part.get("type")
    out = chat_pb2.ContentPart()
    if kind in ("input_text", "output_text"):
        out.text = str(part.get("text", ""))
    elif kind == "input_image" and isinstance(part.get("image_url"), str):
        out.image_url.url = part["image_url"]
        if isinstance(part.get("detail"), str):
            out.image_url.detail = part["detail"]
    elif kind in ("input_image", "input_file") and (
        isinstance(part.get("file_id"), str) or isinstance(part.get("file_data"), str)
    ):
        out.file.SetInParent()
        for key in ("file_id", "file_data", "filename"):
            if isinstance(part.get(key), str):
                setattr(out.file, key, part[key])
    elif kind == "input_audio" and isinstance(part.get("input_audio"), Mapping):
        audio = part["input_audio"]
        out.input_audio.data = str(audio.get("data", ""))
        out.input_audio.format = str(audio.get("format", ""))
    elif kind == "refusal":
        out.refusal = str(part.get("refusal", ""))
    else:
        # A part the chat model has no field for (a file by URL, ...): the provider decides.
        out.other_json = orjson.dumps(part)
    return out


def _set_content(msg: chat_pb2.ChatMessage, parts: list[Mapping[str, Any]]) -> None:
    if all(p.get("type") in ("input_text", "output_text") for p in parts):
        msg.text = _text_of(parts)
    else:
        msg.parts.SetInParent()
        msg.parts.parts.extend(_chat_part(p) for p in parts)


def thinking_blocks(encrypted: Any) -> list[Any] | None:
    """The thinking blocks a reasoning item made here carries (None for another's)."""
    if not isinstance(encrypted, str) or not encrypted.startswith(_THINKING_PREFIX):
        return None
    try:
        blocks = orjson.loads(base64.b64decode(encrypted[len(_THINKING_PREFIX) :], validate=True))
    except (ValueError, orjson.JSONDecodeError):
        return None
    return blocks if isinstance(blocks, list) else None


def _encrypted(blocks: list[Any]) -> str:
    return _THINKING_PREFIX + base64.b64encode(orjson.dumps(blocks)).decode()


class _Messages:
    """Items in order → chat messages: an assistant turn gathers its reasoning, its message and
    the function calls that follow it; each function call output is a tool message."""

    def __init__(self) -> None:
        self.out: list[chat_pb2.ChatMessage] = []
        self._assistant: chat_pb2.ChatMessage | None = None
        self._reasoning: list[str] = []
        self._blocks: list[Any] = []

    def _turn(self) -> chat_pb2.ChatMessage:
        if self._assistant is None:
            self._assistant = chat_pb2.ChatMessage(role="assistant")
            self.out.append(self._assistant)
            if self._reasoning:
                self._assistant.reasoning_content = "\n\n".join(self._reasoning)
            if self._blocks:
                self._assistant.extra_json = orjson.dumps({"thinking_blocks": self._blocks})
            self._reasoning, self._blocks = [], []
        return self._assistant

    def add(self, item: Mapping[str, Any]) -> None:
        kind = item.get("type")
        if kind == "message":
            if item["role"] == "assistant":
                msg = self._turn()
                if msg.WhichOneof("content") is not None or msg.tool_calls:
                    self._assistant = None  # a second message is a turn of its own
                    msg = self._turn()
                refusals = [str(p.get("refusal", "")) for p in item["content"] if p.get("type") == "refusal"]
                texts = [p for p in item["content"] if p.get("type") != "refusal"]
                if texts:
                    _set_content(msg, texts)
                if refusals:
                    msg.refusal = "".join(refusals)
                return
            self._assistant = None
            msg = chat_pb2.ChatMessage(role=item["role"])
            _set_content(msg, item["content"])
            self.out.append(msg)
        elif kind == "function_call":
            tc = self._turn().tool_calls.add(id=item["call_id"], type="function")
            tc.function.name = item["name"]
            tc.function.arguments = item["arguments"]
        elif kind == "function_call_output":
            self._assistant = None
            msg = chat_pb2.ChatMessage(role="tool", tool_call_id=item["call_id"])
            output = item["output"]
            if isinstance(output, str):
                msg.text = output
            else:
                _set_content(msg, [p for p in output if isinstance(p, Mapping)])
            self.out.append(msg)
        elif kind == "reasoning":
            self._assistant = None
            texts = [str(s.get("text", "")) for s in item.get("summary") or () if isinstance(s, Mapping)]
            if any(texts):
                self._reasoning.append("\n\n".join(t for t in texts if t))
            self._blocks.extend(thinking_blocks(item.get("encrypted_content")) or ())
        # Items of built-in tools (web search, file search, ...) are records of what such a tool
        # did; a model served through the chat model cannot take them, and its answer already
        # holds their results.


def _tool(t: Any, where: str) -> chat_pb2.Tool:
    if not isinstance(t, Mapping) or not isinstance(t.get("type"), str):
        raise RequestError(f"{where} must be an object with a type", where)
    if t["type"] != "function":
        # Hosted tools: the provider decides (most refuse what they do not know).
        return chat_pb2.Tool(type=t["type"], extra_json=orjson.dumps(t))
    name = t.get("name")
    if not isinstance(name, str) or not name:
        raise RequestError(f"{where}.name is required", where)
    out = chat_pb2.Tool(type="function")
    out.function.name = name
    if isinstance(t.get("description"), str):
        out.function.description = t["description"]
    if t.get("parameters") is not None:
        out.function.parameters_json = orjson.dumps(t["parameters"])
    if isinstance(t.get("strict"), bool):
        out.function.strict = t["strict"]
    return out


def _tool_choice(tc: Any, out: chat_pb2.ToolChoice) -> None:
    if isinstance(tc, str):
        if tc not in ("auto", "none", "required"):
            raise RequestError("'tool_choice' must be auto, none, required or an object", "tool_choice")
        out.mode = tc
    elif isinstance(tc, Mapping) and tc.get("type") == "function" and isinstance(tc.get("name"), str):
        out.function_name = tc["name"]
    elif isinstance(tc, Mapping):
        out.other_json = orjson.dumps(tc)
    else:
        raise RequestError("'tool_choice' must be a string or an object", "tool_choice")


def _text_format(fmt: Any, out: chat_pb2.ResponseFormat) -> None:
    if not isinstance(fmt, Mapping) or not isinstance(fmt.get("type"), str):
        raise RequestError("'text.format' must be an object with a type", "text")
    out.type = fmt["type"]
    if fmt["type"] == "json_schema":
        if not isinstance(fmt.get("name"), str) or not isinstance(fmt.get("schema"), Mapping):
            raise RequestError("'text.format' of type json_schema needs a name and a schema", "text")
        out.json_schema.name = fmt["name"]
        out.json_schema.schema_json = orjson.dumps(fmt["schema"])
        if isinstance(fmt.get("description"), str):
            out.json_schema.description = fmt["description"]
        if isinstance(fmt.get("strict"), bool):
            out.json_schema.strict = fmt["strict"]


def to_chat(req: ResponsesRequest, context: list[dict[str, Any]]) -> chat_pb2.ChatCompletionRequest:
    """The request in the chat model: ``instructions`` (this request's only: they do not carry
    over from previous responses), the conversation ``context`` and the request's own input."""
    body = req.body
    chat = chat_pb2.ChatCompletionRequest(model=req.model, stream=req.stream)
    chat.options.CopyFrom(req.options)
    if body.get("instructions"):
        chat.messages.add(role="system", text=body["instructions"])
    messages = _Messages()
    for item in (*context, *req.input_items):
        messages.add(item)
    chat.messages.extend(messages.out)
    if not chat.messages:
        raise RequestError("the conversation is empty: send some input", "input")
    for i, t in enumerate(body.get("tools") or ()):
        chat.tools.append(_tool(t, f"tools[{i}]"))
    if body.get("tool_choice") is not None:
        _tool_choice(body["tool_choice"], chat.tool_choice)
    if body.get("parallel_tool_calls") is not None:
        chat.parallel_tool_calls = body["parallel_tool_calls"]
    text = body.get("text") or {}
    if text.get("format") is not None:
        _text_format(text["format"], chat.response_format)
    effort = (body.get("reasoning") or {}).get("effort")
    if isinstance(effort, str):
        chat.reasoning_effort = effort
    if body.get("max_output_tokens") is not None:
        chat.max_tokens = body["max_output_tokens"]
    for key in ("temperature", "top_p"):
        if body.get(key) is not None:
            setattr(chat, key, float(body[key]))
    if body.get("top_logprobs"):
        chat.logprobs = True
        chat.top_logprobs = body["top_logprobs"]
    if body.get("user") is not None:
        chat.user = body["user"]
    if isinstance(body.get("service_tier"), str):
        chat.service_tier = body["service_tier"]
    extra = {k: v for k, v in body.items() if k not in _KNOWN and k not in GATEWAY_KEYS}
    if extra:
        chat.extra_json = orjson.dumps(extra)
    return chat


# --- the native request -------------------------------------------------------------------------


def _native_item(item: Mapping[str, Any]) -> dict[str, Any] | None:
    """An item as sent to a deployment that stores nothing, in the shape clients that keep their
    own history send it (Codex with ``store: false``): without the ids and statuses Switchyard
    gave it (the deployment would look the ids up); reasoning only with the deployment's own
    encrypted content, the one form it can read back."""
    if item.get("type") == "reasoning":
        encrypted = item.get("encrypted_content")
        if not isinstance(encrypted, str) or encrypted.startswith(_THINKING_PREFIX):
            return None
        return {k: v for k, v in item.items() if k != "status"}
    return {k: v for k, v in item.items() if k not in ("id", "status")}


def native_request(
    req: ResponsesRequest, context: list[dict[str, Any]], chat: chat_pb2.ChatCompletionRequest
) -> chat_pb2.ChatCompletionRequest:
    """The request for a deployment serving the Responses API: the client's body with the whole
    conversation as its input (the deployment stores nothing: Switchyard does)."""
    body = {k: v for k, v in req.body.items() if k not in ("previous_response_id", "stream")}
    meta = body.get("metadata")
    if meta is not None and not all(isinstance(v, str) for v in meta.values()):
        # The gateway's metadata (tags and the like), which OpenAI's string map cannot hold.
        del body["metadata"]
    body["input"] = [i for i in map(_native_item, (*context, *req.input_items)) if i is not None]
    body["store"] = False
    out = chat_pb2.ChatCompletionRequest(model=chat.model, stream=chat.stream)
    out.options.CopyFrom(chat.options)
    if chat.HasField("max_tokens"):
        out.max_tokens = chat.max_tokens
    if chat.HasField("user"):
        out.user = chat.user
    out.native.api = API
    out.native.body_json = orjson.dumps(body)
    return out


def serves_natively(endpoints: Iterable[str]) -> bool:
    return ENDPOINT in endpoints


# --- answers -------------------------------------------------------------------------------------


def response_object(
    req: ResponsesRequest,
    *,
    rid: str,
    created_at: int,
    model: str,
    status: str,
    output: list[dict[str, Any]],
    usage: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
    incomplete: dict[str, Any] | None = None,
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "id": rid,
        "object": "response",
        "created_at": created_at,
        "status": status,
        "background": False,
        "error": error,
        "incomplete_details": incomplete,
        "model": model,
        "output": output,
        "previous_response_id": req.previous_response_id,
        "store": req.store,
        "usage": usage,
    }
    body = req.body
    for key, default in _ECHOED_DEFAULTS.items():
        value = body.get(key)
        obj[key] = default if value is None else value
    return obj


def usage_json(u: chat_pb2.Usage) -> dict[str, Any]:
    return {
        "input_tokens": u.prompt_tokens,
        "input_tokens_details": {
            "cached_tokens": u.prompt_tokens_details.cached_tokens,
            "cache_write_tokens": u.prompt_tokens_details.cache_creation_tokens,
        },
        "output_tokens": u.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": u.completion_tokens_details.reasoning_tokens},
        "total_tokens": u.total_tokens or u.prompt_tokens + u.completion_tokens,
    }


def _logprobs(raw: bytes) -> list[Any]:
    """Chat logprobs ``content`` entries are the Responses ``logprobs`` entries (token, logprob,
    bytes, top_logprobs)."""
    if not raw:
        return []
    content = orjson.loads(raw).get("content")
    return content if isinstance(content, list) else []


def _reasoning_item(text: str, blocks: list[Any], summary: bool) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": new_id("rs"),
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": text}] if summary and text else [],
    }
    if blocks:
        item["encrypted_content"] = _encrypted(blocks)
    return item


def _output_text(text: str, logprobs: list[Any]) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": logprobs}


def _status(finish_reason: str) -> tuple[str, dict[str, Any] | None]:
    if finish_reason == "length":
        return "incomplete", {"reason": "max_output_tokens"}
    if finish_reason == "content_filter":
        return "incomplete", {"reason": "content_filter"}
    return "completed", None


def from_completion(req: ResponsesRequest, c: chat_pb2.ChatCompletion, rid: str, created_at: int) -> dict[str, Any]:
    """A translated answer as a Response (its first choice: the Responses API has no ``n``)."""
    output: list[dict[str, Any]] = []
    finish = ""
    if c.choices:
        choice = c.choices[0]
        m = choice.message
        finish = choice.finish_reason
        extra = orjson.loads(m.extra_json) if m.extra_json else {}
        raw_blocks = extra.get("thinking_blocks")
        blocks: list[Any] = raw_blocks if isinstance(raw_blocks, list) else []
        if m.reasoning_content or blocks:
            output.append(_reasoning_item(m.reasoning_content, blocks, req.summary))
        content: list[dict[str, Any]] = []
        text = message_text(m)
        if text or not (m.HasField("refusal") or m.tool_calls):
            content.append(_output_text(text, _logprobs(choice.logprobs_json)))
        if m.HasField("refusal"):
            content.append({"type": "refusal", "refusal": m.refusal})
        if content:
            output.append(
                {"id": new_id("msg"), "type": "message", "status": "completed", "role": "assistant", "content": content}
            )
        for tc in m.tool_calls:
            output.append(
                {
                    "id": new_id("fc"),
                    "type": "function_call",
                    "status": "completed",
                    "call_id": tc.id or new_id("call"),
                    "name": tc.function.name,
                    "arguments": tc.function.arguments,
                }
            )
    status, incomplete = _status(finish)
    return response_object(
        req,
        rid=rid,
        created_at=created_at,
        model=c.model or req.model,
        status=status,
        output=output,
        usage=usage_json(c.usage),
        incomplete=incomplete,
    )


def _as_ours(req: ResponsesRequest, obj: dict[str, Any], rid: str) -> dict[str, Any]:
    """A deployment's Response object under Switchyard's id and storage fields (the deployment
    was sent the whole conversation with ``store: false``)."""
    obj["id"] = rid
    obj["previous_response_id"] = req.previous_response_id
    obj["store"] = req.store
    return obj


def from_native(req: ResponsesRequest, raw: bytes, rid: str) -> dict[str, Any]:
    obj = orjson.loads(raw)
    if not isinstance(obj, dict):
        raise ValueError("the deployment's answer is not a Response object")
    return _as_ours(req, obj, rid)


def output_of(response: Mapping[str, Any]) -> list[dict[str, Any]]:
    output = response.get("output")
    return [o for o in output if isinstance(o, dict)] if isinstance(output, list) else []


def failure(err: error_pb2.Error) -> dict[str, Any]:
    """A Response's ``error`` for a failed stream."""
    return {
        "code": _FAILURE_CODES.get(err.kind, "server_error"),
        "message": err.message,
        "type": err.type or None,
        "param": err.param or None,
    }


# --- streams -------------------------------------------------------------------------------------


def sse(event: Mapping[str, Any]) -> bytes:
    return b"event: " + str(event["type"]).encode() + b"\ndata: " + orjson.dumps(event) + b"\n\n"


class TranslatedEvents:
    """A chat stream as the Responses event sequence: ``response.created`` and ``in_progress``,
    then per output item its ``added`` event, its parts and deltas and their ``done`` events, and
    at the end ``response.completed`` (or ``incomplete``, or ``failed``) with the whole response.
    Only the first choice is read (the Responses API has no ``n``)."""

    def __init__(self, req: ResponsesRequest, rid: str, created_at: int, model: str) -> None:
        self._req = req
        self._rid = rid
        self._created_at = created_at
        self.model = model
        self._seq = 0
        self.output: list[dict[str, Any]] = []
        # The items still open, by role: at most one reasoning item and one message, and the
        # function calls by their index in the chat stream.
        self._reasoning: tuple[int, dict[str, Any]] | None = None
        self._reasoning_text = ""
        self._blocks: list[Any] = []
        self._message: tuple[int, dict[str, Any]] | None = None
        self._calls: dict[int, tuple[int, dict[str, Any]]] = {}
        self._finish = ""

    def _event(self, kind: str, **fields: Any) -> bytes:
        event = {"type": kind, "sequence_number": self._seq, **fields}
        self._seq += 1
        return sse(event)

    def _response(self, status: str, **kw: Any) -> dict[str, Any]:
        return response_object(
            self._req, rid=self._rid, created_at=self._created_at, model=self.model, status=status, output=[], **kw
        )

    def start(self) -> list[bytes]:
        snapshot = self._response("in_progress")
        return [
            self._event("response.created", response=snapshot),
            self._event("response.in_progress", response=snapshot),
        ]

    def _add(self, item: dict[str, Any]) -> tuple[int, bytes]:
        index = len(self.output)
        self.output.append(item)
        return index, self._event("response.output_item.added", output_index=index, item=item)

    # --- items ------------------------------------------------------------------------------
    def _open_reasoning(self) -> list[bytes]:
        if self._reasoning is not None:
            return []
        out = self._close_message()
        item: dict[str, Any] = {"id": new_id("rs"), "type": "reasoning", "summary": []}
        index, added = self._add(item)
        out.append(added)
        self._reasoning, self._reasoning_text = (index, item), ""
        if self._req.summary:
            part = {"type": "summary_text", "text": ""}
            out.append(
                self._event(
                    "response.reasoning_summary_part.added",
                    item_id=item["id"],
                    output_index=index,
                    summary_index=0,
                    part=part,
                )
            )
        return out

    def _close_reasoning(self) -> list[bytes]:
        if self._reasoning is None:
            return []
        index, item = self._reasoning
        self._reasoning = None
        out = []
        text = self._reasoning_text
        if self._req.summary:
            done = {"item_id": item["id"], "output_index": index, "summary_index": 0}
            out.append(self._event("response.reasoning_summary_text.done", text=text, **done))
            part = {"type": "summary_text", "text": text}
            out.append(self._event("response.reasoning_summary_part.done", part=part, **done))
        finished = _reasoning_item(text, self._blocks, self._req.summary)
        finished["id"] = item["id"]
        self._blocks = []
        self.output[index] = finished
        out.append(self._event("response.output_item.done", output_index=index, item=finished))
        return out

    def _open_message(self, kind: str) -> list[bytes]:
        out = self._close_reasoning()
        if self._message is None:
            item: dict[str, Any] = {
                "id": new_id("msg"),
                "type": "message",
                "status": "in_progress",
                "role": "assistant",
                "content": [],
            }
            index, added = self._add(item)
            out.append(added)
            self._message = (index, item)
        index, item = self._message
        parts = item["content"]
        if not parts or parts[-1]["type"] != kind:
            part = _output_text("", []) if kind == "output_text" else {"type": "refusal", "refusal": ""}
            parts.append(part)
            out.append(
                self._event(
                    "response.content_part.added",
                    item_id=item["id"],
                    output_index=index,
                    content_index=len(parts) - 1,
                    part=dict(part),
                )
            )
        return out

    def _close_message(self) -> list[bytes]:
        if self._message is None:
            return []
        index, item = self._message
        self._message = None
        out = []
        for ci, part in enumerate(item["content"]):
            at = {"item_id": item["id"], "output_index": index, "content_index": ci}
            if part["type"] == "output_text":
                out.append(self._event("response.output_text.done", text=part["text"], logprobs=part["logprobs"], **at))
            else:
                out.append(self._event("response.refusal.done", refusal=part["refusal"], **at))
            out.append(self._event("response.content_part.done", part=part, **at))
        item["status"] = "completed"
        out.append(self._event("response.output_item.done", output_index=index, item=item))
        return out

    def _close_calls(self) -> list[bytes]:
        out = []
        for index, item in sorted(self._calls.values(), key=lambda c: c[0]):
            done = {"item_id": item["id"], "output_index": index}
            out.append(self._event("response.function_call_arguments.done", arguments=item["arguments"], **done))
            item["status"] = "completed"
            out.append(self._event("response.output_item.done", output_index=index, item=item))
        self._calls = {}
        return out

    def _close_all(self) -> list[bytes]:
        return [*self._close_reasoning(), *self._close_message(), *self._close_calls()]

    # --- chunks -------------------------------------------------------------------------------
    def chunk(self, chunk: chat_pb2.ChatCompletionChunk) -> list[bytes]:
        out: list[bytes] = []
        if chunk.model and not self.model:
            self.model = chunk.model
        for choice in chunk.choices:
            if choice.index != 0:
                continue
            d = choice.delta
            blocks = orjson.loads(d.extra_json).get("thinking_blocks") if d.extra_json else None
            if d.reasoning_content or blocks:
                out += self._open_reasoning()
                assert self._reasoning is not None
                index, item = self._reasoning
                if d.reasoning_content:
                    self._reasoning_text += d.reasoning_content
                    if self._req.summary:
                        out.append(
                            self._event(
                                "response.reasoning_summary_text.delta",
                                item_id=item["id"],
                                output_index=index,
                                summary_index=0,
                                delta=d.reasoning_content,
                            )
                        )
                for block in blocks or ():
                    # Streamed signatures arrive as a block of their own, after the text.
                    if isinstance(block, dict) and block.get("type") == "thinking" and not block.get("thinking"):
                        block = {**block, "thinking": self._reasoning_text}
                    self._blocks.append(block)
            for kind, text in (("output_text", d.content), ("refusal", d.refusal)):
                if not text:
                    continue
                out += self._open_message(kind)
                assert self._message is not None
                index, item = self._message
                part = item["content"][-1]
                key = "text" if kind == "output_text" else "refusal"
                part[key] += text
                at = {"item_id": item["id"], "output_index": index, "content_index": len(item["content"]) - 1}
                if kind == "output_text":
                    out.append(self._event("response.output_text.delta", delta=text, logprobs=[], **at))
                else:
                    out.append(self._event("response.refusal.delta", delta=text, **at))
            for tc in d.tool_calls:
                if tc.index not in self._calls:
                    out += self._close_reasoning() + self._close_message()
                    item = {
                        "id": new_id("fc"),
                        "type": "function_call",
                        "status": "in_progress",
                        "call_id": tc.id or new_id("call"),
                        "name": tc.name,
                        "arguments": "",
                    }
                    index, added = self._add(item)
                    self._calls[tc.index] = (index, item)
                    out.append(added)
                index, item = self._calls[tc.index]
                if tc.arguments:
                    item["arguments"] += tc.arguments
                    out.append(
                        self._event(
                            "response.function_call_arguments.delta",
                            item_id=item["id"],
                            output_index=index,
                            delta=tc.arguments,
                        )
                    )
            if choice.finish_reason:
                self._finish = choice.finish_reason
                out += self._close_all()
        return out

    def finish(self, usage: chat_pb2.Usage) -> tuple[dict[str, Any], list[bytes]]:
        """The stream ended well: the items still open are closed; returns the final response
        and the events before the last one (``completed_event`` gives that one, once stored)."""
        out = self._close_all()
        if not self.output:
            out += self._open_message("output_text") + self._close_message()
        status, incomplete = _status(self._finish)
        final = response_object(
            self._req,
            rid=self._rid,
            created_at=self._created_at,
            model=self.model,
            status=status,
            output=self.output,
            usage=usage_json(usage),
            incomplete=incomplete,
        )
        return final, out

    def completed_event(self, final: dict[str, Any]) -> bytes:
        kind = "response.completed" if final["status"] == "completed" else "response.incomplete"
        return self._event(kind, response=final)

    def fail(self, err: error_pb2.Error) -> list[bytes]:
        """The stream failed after it started: the items so far, and ``response.failed``."""
        out = self._close_all()
        failed = response_object(
            self._req,
            rid=self._rid,
            created_at=self._created_at,
            model=self.model,
            status="failed",
            output=self.output,
            error=failure(err),
        )
        out.append(self._event("response.failed", response=failed))
        return out


# Events whose `response` is the whole Response object (rewritten under our id).
_LIFECYCLE = frozenset(
    {
        "response.created",
        "response.in_progress",
        "response.queued",
        "response.completed",
        "response.incomplete",
        "response.failed",
    }
)
_FINAL = frozenset({"response.completed", "response.incomplete", "response.failed"})


class NativeEvents:
    """A deployment's own Responses event stream, passed on event by event; the events that carry
    the Response object get Switchyard's id and storage fields. ``final`` is the last Response
    object once the stream has ended (to store), and ``sequence`` the next sequence number."""

    def __init__(self, req: ResponsesRequest, rid: str, created_at: int, model: str) -> None:
        self._req = req
        self._rid = rid
        self._created_at = created_at
        self._model = model
        self.final: dict[str, Any] | None = None
        self.sequence = 0

    def event(self, raw: bytes) -> tuple[bytes, bool]:
        """The event to send for ``raw``, and whether it is the stream's last."""
        event = orjson.loads(raw)
        if not isinstance(event, dict):
            raise ValueError("a streamed event is not a JSON object")
        seq = event.get("sequence_number")
        if isinstance(seq, int):
            self.sequence = seq + 1
        kind = event.get("type")
        if kind in _LIFECYCLE and isinstance(event.get("response"), dict):
            response = _as_ours(self._req, event["response"], self._rid)
            self._model = str(response.get("model") or self._model)
            if kind in _FINAL:
                self.final = event["response"]
            return sse(event), kind in _FINAL
        return b"event: " + str(kind).encode() + b"\ndata: " + raw + b"\n\n", False

    def fail(self, err: error_pb2.Error) -> bytes:
        failed = response_object(
            self._req,
            rid=self._rid,
            created_at=self._created_at,
            model=self._model,
            status="failed",
            output=[],
            error=failure(err),
        )
        event = {"type": "response.failed", "sequence_number": self.sequence, "response": failed}
        self.sequence += 1
        return sse(event)


# --- listing input items -------------------------------------------------------------------------


def item_page(items: list[dict[str, Any]], *, limit: int, order: str, after: str | None) -> dict[str, Any]:
    """``GET /v1/responses/{id}/input_items``: the items the response was made from (the
    conversation before it and its own input), ``order`` by position (``desc``: newest first),
    ``limit`` of them after the item ``after``."""
    ordered = list(reversed(items)) if order == "desc" else list(items)
    if after is not None:
        ids = [i.get("id") for i in ordered]
        if after not in ids:
            raise RequestError(f"no input item with id '{after}' in this response", "after")
        ordered = ordered[ids.index(after) + 1 :]
    page = ordered[:limit]
    return {
        "object": "list",
        "data": page,
        "first_id": page[0].get("id") if page else None,
        "last_id": page[-1].get("id") if page else None,
        "has_more": len(ordered) > limit,
    }


def conversation(rows: list[tuple[list[dict[str, Any]], dict[str, Any]]]) -> list[dict[str, Any]]:
    """The items of a chain of stored responses, oldest first: each one's input, then its output."""
    items: list[dict[str, Any]] = []
    for input_items, response in rows:
        items += input_items
        items += output_of(response)
    return items
