"""Converse answers → OpenAI completions: content blocks, stop reasons and usage."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from switchyard.llm.v1 import chat_pb2
from switchyard_provider_adapter.domain.providers.claude import ClaudeMessage, redacted_thinking_block
from switchyard_provider_adapter.domain.providers.common.answers import (
    cached_usage,
    completion_id,
    mapped_finish,
    now,
)
from switchyard_provider_adapter.domain.providers.common.params import JSON_TOOL_NAME

_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "guardrail_intervened": "content_filter",
    "content_filtered": "content_filter",
    "malformed_model_output": "stop",
    "malformed_tool_use": "stop",
}


def finish_reason(stop_reason: Any, json_unwrapped: bool = False) -> str:
    return mapped_finish(_FINISH, stop_reason, json_unwrapped)


def usage_from_bedrock(u: Mapping[str, Any]) -> chat_pb2.Usage:
    """Bedrock's ``inputTokens`` excludes cache reads and writes, as Claude's does."""
    return cached_usage(
        int(u.get("inputTokens") or 0),
        int(u.get("cacheReadInputTokens") or 0),
        int(u.get("cacheWriteInputTokens") or 0),
        int(u.get("outputTokens") or 0),
    )


def parse_completion(model: str, body: bytes, json_tool: bool) -> chat_pb2.ChatCompletion:
    d = orjson.loads(body)
    out = chat_pb2.ChatCompletion(id=completion_id(), created=now(), model=model)
    choice = out.choices.add(index=0)
    msg = choice.message
    msg.role = "assistant"
    message = (d.get("output") or {}).get("message") or {}
    answer = ClaudeMessage()
    for block in message.get("content") or ():
        if not isinstance(block, Mapping):
            continue
        if "text" in block:
            answer.texts.append(str(block["text"]))
        elif "toolUse" in block:
            tu = block["toolUse"] or {}
            if json_tool and tu.get("name") == JSON_TOOL_NAME:
                answer.json_texts.append(orjson.dumps(tu.get("input") if tu.get("input") is not None else {}).decode())
            else:
                answer.tool_call(msg, tu.get("toolUseId"), tu.get("name"), tu.get("input"))
        elif "reasoningContent" in block:
            rc = block["reasoningContent"] or {}
            if isinstance(rc.get("reasoningText"), Mapping):
                rt = rc["reasoningText"]
                answer.thinking(rt.get("text"), rt.get("signature"))
            elif rc.get("redactedContent"):
                answer.thinking_blocks.append(redacted_thinking_block(rc["redactedContent"]))
        elif "citationsContent" in block:
            cc = block["citationsContent"] or {}
            answer.texts.extend(str(c.get("text") or "") for c in cc.get("content") or () if isinstance(c, Mapping))
            answer.citations.extend(cc.get("citations") or ())
    unwrapped = answer.fill(msg)
    choice.finish_reason = finish_reason(d.get("stopReason"), unwrapped and not msg.tool_calls)
    if isinstance(d.get("usage"), Mapping):
        out.usage.CopyFrom(usage_from_bedrock(d["usage"]))
    if d.get("trace"):
        # Guardrail assessments (guardrailConfig.trace = enabled) reach the client.
        out.extra_json = orjson.dumps({"trace": d["trace"]})
    return out
