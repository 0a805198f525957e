"""Token usage: OpenAI JSON ⇄ protobuf (with the Anthropic-style cache keys some servers report)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from switchyard.llm.v1 import chat_pb2

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
