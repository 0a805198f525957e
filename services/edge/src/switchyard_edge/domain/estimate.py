"""Worst-case cost estimates for budget admission.

The estimate must bound what the provider can really bill: prices are the highest a token can
cost on the deployment (the router fills them in), output is what the request lets the model
write, and a budgeted request that sets no limit is sent with the one its estimate assumed."""

from __future__ import annotations

from collections.abc import Iterable

from switchyard.llm.v1 import chat_pb2, deployment_pb2, images_pb2
from switchyard_llm.pricing import image_output_tokens, image_price

# Tokens assumed per image part (a high-detail 1024x1024 image is ~765 tokens on OpenAI).
_IMAGE_TOKENS = 1000

Request = chat_pb2.ChatCompletionRequest | images_pb2.ImageGenerationRequest | None


class Unpriced(Exception):
    """A deployment the request may reach has no known price, so no budget can bound its cost."""

    def __init__(self, dep: deployment_pb2.Deployment) -> None:
        super().__init__(
            f"This key has a budget, and model '{dep.model_group}' has no known price "
            f"(deployment '{dep.id}'), so the cost of a request cannot be bounded. Set "
            "input_cost_per_token and output_cost_per_token (for image models "
            "output_cost_per_image) in the deployment's model_info to use it with a budget."
        )
        self.deployment = dep


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


def sets_output_limit(req: chat_pb2.ChatCompletionRequest) -> bool:
    return req.HasField("max_completion_tokens") or req.HasField("max_tokens")


def max_output_tokens(req: chat_pb2.ChatCompletionRequest, dep: deployment_pb2.Deployment, default: int) -> int:
    if req.HasField("max_completion_tokens"):
        n = req.max_completion_tokens
    elif req.HasField("max_tokens"):
        n = req.max_tokens
    else:
        n = dep.max_output_tokens or default
    return max(1, n) * _answers(req)


def _answers(req: chat_pb2.ChatCompletionRequest) -> int:
    """Answers the provider may bill: ``n`` per request, or for a legacy text completion
    ``best_of`` (generated, billed, then the best ``n`` kept) for each prompt."""
    n = max(1, req.n if req.HasField("n") else 1)
    if not req.HasField("text_completion"):
        return n
    tc = req.text_completion
    return max(n, tc.best_of if tc.HasField("best_of") else 1) * max(1, len(req.messages))


def limit_output(req: chat_pb2.ChatCompletionRequest, dep: deployment_pb2.Deployment, default: int) -> None:
    """Make a budgeted request that set no output limit ask ``dep`` for at most what its worst
    case assumed: the model's maximum output when known (the provider cannot exceed it), else
    ``default`` tokens, sent as ``max_tokens``."""
    if dep.max_output_tokens:
        req.ClearField("max_tokens")
    else:
        req.max_tokens = default


def _image_usd(input_tokens: int, dep: deployment_pb2.Deployment, req: images_pb2.ImageGenerationRequest) -> float:
    n = max(1, req.n if req.HasField("n") else 1)
    per_image = image_price(dep, req.size, req.quality)
    if per_image is not None:
        return float(per_image) * n
    if dep.pricing.admission_price_unknown:
        raise Unpriced(dep)
    p = dep.pricing
    tokens = image_output_tokens(req.size, req.quality) * n
    return input_tokens * p.admission_input_cost_per_token + tokens * p.admission_output_cost_per_token


def worst_case_usd(
    input_tokens: int,
    deployments: Iterable[deployment_pb2.Deployment],
    req: Request,
    default_output: int,
) -> float:
    """The most the request can cost on any of ``deployments``; raises Unpriced when one of
    them has no known price."""
    worst = 0.0
    for dep in deployments:
        if isinstance(req, images_pb2.ImageGenerationRequest):
            cost = _image_usd(input_tokens, dep, req)
        else:
            if dep.pricing.admission_price_unknown:
                raise Unpriced(dep)
            out = max_output_tokens(req, dep, default_output) if req is not None else 0
            cost = (
                input_tokens * dep.pricing.admission_input_cost_per_token
                + out * dep.pricing.admission_output_cost_per_token
            )
        worst = max(worst, cost)
    return worst
