"""Chat answers as Messages API messages (https://docs.anthropic.com/en/api/messages), for the
requests a deployment of another API served. A Claude deployment's own answer needs none of
this: it reaches the client as the provider wrote it."""

from __future__ import annotations

from typing import Any

import orjson

from switchyard.llm.v1 import chat_pb2

# OpenAI finish_reason → Anthropic stop_reason.
_STOP_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}


def stop_reason(finish_reason: str, tool_calls: bool) -> str:
    """A tool call ends the turn for a tool whatever the provider said (some say ``stop``)."""
    if tool_calls and finish_reason in ("", "stop"):
        return "tool_use"
    return _STOP_REASONS.get(finish_reason, "end_turn")


def usage_json(u: chat_pb2.Usage) -> dict[str, int]:
    """Anthropic counts cache reads and writes apart from ``input_tokens``; OpenAI's
    ``prompt_tokens`` holds them all."""
    details = u.prompt_tokens_details
    read, written = details.cached_tokens, details.cache_creation_tokens
    return {
        "input_tokens": max(0, u.prompt_tokens - read - written),
        "cache_creation_input_tokens": written,
        "cache_read_input_tokens": read,
        "output_tokens": u.completion_tokens,
    }


def tool_input(arguments: str) -> dict[str, Any]:
    """A tool call's JSON-string arguments as ``tool_use.input`` (always an object)."""
    if not arguments.strip():
        return {}
    try:
        value = orjson.loads(arguments)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def thinking_blocks(extra_json: bytes) -> list[dict[str, Any]]:
    """The thinking blocks (with signatures) a Claude deployment's answer carries under LiteLLM's
    ``thinking_blocks`` key."""
    if not extra_json:
        return []
    blocks = orjson.loads(extra_json).get("thinking_blocks")
    if not isinstance(blocks, list):
        return []
    out = []
    for b in blocks:
        if not isinstance(b, dict):
            continue
        if b.get("type") == "redacted_thinking":
            out.append({"type": "redacted_thinking", "data": b.get("data", "")})
        elif b.get("type") == "thinking":
            out.append({"type": "thinking", "thinking": b.get("thinking") or "", "signature": b.get("signature") or ""})
    return out


def _text(msg: chat_pb2.ChatMessage) -> str:
    which = msg.WhichOneof("content")
    if which == "text":
        return msg.text
    if which == "parts":
        return "".join(p.text for p in msg.parts.parts if p.WhichOneof("part") == "text")
    return msg.refusal if msg.HasField("refusal") else ""


def message_json(completion: chat_pb2.ChatCompletion, fallback_id: str) -> dict[str, Any]:
    """A completion (its first choice: the Messages API has one) as a Messages API message."""
    content: list[dict[str, Any]] = []
    finish = ""
    if completion.choices:
        choice = completion.choices[0]
        msg = choice.message
        finish = choice.finish_reason
        blocks = thinking_blocks(msg.extra_json)
        if blocks:
            content.extend(blocks)
        elif msg.reasoning_content:
            # Reasoning of a model that signs nothing (DeepSeek, OpenAI-compatible servers).
            content.append({"type": "thinking", "thinking": msg.reasoning_content, "signature": ""})
        if text := _text(msg):
            content.append({"type": "text", "text": text})
        for tc in msg.tool_calls:
            content.append(
                {"type": "tool_use", "id": tc.id, "name": tc.function.name, "input": tool_input(tc.function.arguments)}
            )
        tool_calls = bool(msg.tool_calls)
    else:
        tool_calls = False
    return {
        "id": completion.id or fallback_id,
        "type": "message",
        "role": "assistant",
        "model": completion.model,
        "content": content,
        "stop_reason": stop_reason(finish, tool_calls),
        "stop_sequence": None,
        "usage": usage_json(completion.usage),
    }
