"""Chat messages, content parts, tools, tool choice and response format: OpenAI JSON ⇄ protobuf."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from switchyard.llm.v1 import chat_pb2
from switchyard_llm.errors import RequestError
from switchyard_llm.openai_codec.fields import dumps, extra_of, merge_extra

_MESSAGE_KEYS = frozenset(
    {"role", "content", "name", "tool_calls", "tool_call_id", "refusal", "reasoning_content", "function_call"}
)
ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


def part_from_json(part: Any, where: str) -> chat_pb2.ContentPart:
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
        out.extra_json = extra_of(part, frozenset({"type", "text"}))
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
        out.extra_json = extra_of(part, frozenset({"type", "image_url"}))
    elif ptype == "input_audio":
        audio = part.get("input_audio")
        if not isinstance(audio, Mapping):
            raise RequestError(f"{where}.input_audio must be an object", where)
        out.input_audio.data = str(audio.get("data", ""))
        out.input_audio.format = str(audio.get("format", ""))
        out.extra_json = extra_of(part, frozenset({"type", "input_audio"}))
    elif ptype == "file" and isinstance(part.get("file"), Mapping):
        f = part["file"]
        out.file.SetInParent()
        for key in ("file_id", "file_data", "filename", "format"):
            if f.get(key) is not None:
                setattr(out.file, key, str(f[key]))
        out.extra_json = extra_of(part, frozenset({"type", "file"}))
    elif ptype == "refusal" and isinstance(part.get("refusal"), str):
        out.refusal = part["refusal"]
        out.extra_json = extra_of(part, frozenset({"type", "refusal"}))
    else:
        out.other_json = dumps(part)
    return out


def tool_call_from_json(tc: Any, where: str) -> chat_pb2.ToolCall:
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
    out.extra_json = extra_of(tc, frozenset({"id", "type", "function", "index"}))
    return out


def message_from_json(m: Any, where: str = "messages") -> chat_pb2.ChatMessage:
    if not isinstance(m, Mapping):
        raise RequestError(f"{where} must be an object", where)
    role = m.get("role")
    if not isinstance(role, str) or role not in ROLES:
        raise RequestError(f"{where}.role must be one of {', '.join(sorted(ROLES))}", where)
    msg = chat_pb2.ChatMessage(role=role)
    content = m.get("content")
    if isinstance(content, str):
        msg.text = content
    elif isinstance(content, list):
        msg.parts.SetInParent()
        msg.parts.parts.extend(part_from_json(p, f"{where}.content[{i}]") for i, p in enumerate(content))
    elif content is not None:
        raise RequestError(f"{where}.content must be a string, a list of parts or null", where)
    if m.get("name") is not None:
        msg.name = str(m["name"])
    tool_calls = m.get("tool_calls")
    if tool_calls:
        if not isinstance(tool_calls, list):
            raise RequestError(f"{where}.tool_calls must be a list", where)
        msg.tool_calls.extend(tool_call_from_json(tc, f"{where}.tool_calls[{i}]") for i, tc in enumerate(tool_calls))
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
    msg.extra_json = extra_of(m, _MESSAGE_KEYS)
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
    merge_extra(out, p.extra_json)
    return out


def tool_call_to_json(tc: chat_pb2.ToolCall) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": tc.id,
        "type": tc.type or "function",
        "function": {"name": tc.function.name, "arguments": tc.function.arguments},
    }
    merge_extra(out, tc.extra_json)
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
    merge_extra(out, msg.extra_json)
    return out


def tool_from_json(t: Any, where: str) -> chat_pb2.Tool:
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
            out.function.parameters_json = dumps(fn["parameters"])
        if fn.get("strict") is not None:
            out.function.strict = bool(fn["strict"])
        extra_fn = extra_of(fn, frozenset({"name", "description", "parameters", "strict"}))
        rest = {k: v for k, v in t.items() if k not in ("type", "function")}
        if extra_fn:
            rest["__function_extra__"] = orjson.loads(extra_fn)
        out.extra_json = dumps(rest) if rest else b""
    else:
        out.extra_json = dumps(dict(t))
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


def tool_choice_from_json(tc: Any) -> chat_pb2.ToolChoice:
    if isinstance(tc, str):
        if tc not in ("auto", "none", "required"):
            raise RequestError("'tool_choice' must be auto, none, required or a function", "tool_choice")
        return chat_pb2.ToolChoice(mode=tc)
    if isinstance(tc, Mapping):
        fn = tc.get("function")
        if tc.get("type") == "function" and isinstance(fn, Mapping) and isinstance(fn.get("name"), str):
            return chat_pb2.ToolChoice(function_name=fn["name"])
        return chat_pb2.ToolChoice(other_json=dumps(dict(tc)))
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


def response_format_from_json(rf: Any) -> chat_pb2.ResponseFormat:
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
            out.json_schema.schema_json = dumps(js["schema"])
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
