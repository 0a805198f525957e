"""Worst-case cost estimates for budget admission."""

from __future__ import annotations

from collections.abc import Iterable

from switchyard.llm.v1 import chat_pb2, deployment_pb2

# Tokens assumed per image part (a high-detail 1024x1024 image is ~765 tokens on OpenAI).
_IMAGE_TOKENS = 1000


def prompt_tokens(messages: Iterable[chat_pb2.ChatMessage], tools: Iterable[chat_pb2.Tool] = ()) -> int:
    """A generous estimate (about 1 token per 3 characters plus per-message overhead)."""
    chars = 0
    tokens = 0
    for m in messages:
        tokens += 4
        which = m.WhichOneof("content")
        if which == "text":
            chars += len(m.text)
        elif which == "parts":
            for p in m.parts.parts:
                kind = p.WhichOneof("part")
                if kind == "text":
                    chars += len(p.text)
                elif kind in ("image_url", "file", "input_audio"):
                    tokens += _IMAGE_TOKENS
                else:
                    chars += len(p.other_json)
        for tc in m.tool_calls:
            chars += len(tc.function.name) + len(tc.function.arguments)
    for t in tools:
        chars += len(t.function.name) + len(t.function.parameters_json) + len(t.extra_json)
    return tokens + chars // 3 + 1


def max_output_tokens(req: chat_pb2.ChatCompletionRequest, dep: deployment_pb2.Deployment, default: int) -> int:
    if req.HasField("max_completion_tokens"):
        n = req.max_completion_tokens
    elif req.HasField("max_tokens"):
        n = req.max_tokens
    else:
        n = dep.max_output_tokens or default
    return max(1, n) * max(1, req.n if req.HasField("n") else 1)


def worst_case_usd(
    input_tokens: int,
    deployments: Iterable[deployment_pb2.Deployment],
    req: chat_pb2.ChatCompletionRequest | None,
    default_output: int,
) -> float:
    worst = 0.0
    for dep in deployments:
        out = max_output_tokens(req, dep, default_output) if req is not None else 0
        cost = (
            input_tokens * dep.pricing.admission_input_cost_per_token
            + out * dep.pricing.admission_output_cost_per_token
        )
        worst = max(worst, cost)
    return worst
