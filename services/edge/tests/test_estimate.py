"""The worst case budget admission holds: it bounds what the provider can bill, or refuses."""

from __future__ import annotations

import pytest

from switchyard.llm.v1 import chat_pb2, deployment_pb2, images_pb2
from switchyard_edge.domain import estimate

DEFAULT_OUTPUT = 4096


def _dep(model: str = "m", *, unknown: bool = False, inp: float = 0.0, out: float = 0.0) -> deployment_pb2.Deployment:
    dep = deployment_pb2.Deployment(id=f"{model}-1", model_group=f"group-{model}", provider="openai", model=model)
    dep.pricing.admission_price_unknown = unknown
    dep.pricing.admission_input_cost_per_token = inp
    dep.pricing.admission_output_cost_per_token = out
    return dep


def _chat(**fields: int) -> chat_pb2.ChatCompletionRequest:
    req = chat_pb2.ChatCompletionRequest(model="m", **fields)
    req.messages.add(role="user", text="hi")
    return req


def test_a_deployment_without_a_price_refuses_budgeted_admission() -> None:
    priced, unpriced = _dep("a", inp=1e-6, out=2e-6), _dep("secret-sauce", unknown=True)
    with pytest.raises(estimate.Unpriced) as info:
        estimate.worst_case_usd(10, [priced, unpriced], _chat(max_tokens=5), DEFAULT_OUTPUT)
    message = str(info.value)
    assert "group-secret-sauce" in message and "no known price" in message
    assert "input_cost_per_token" in message and "output_cost_per_token" in message
    with pytest.raises(estimate.Unpriced):
        estimate.worst_case_usd(10, [unpriced], None, DEFAULT_OUTPUT)  # embeddings too
    # A free model is priced (at 0), not unknown.
    assert estimate.worst_case_usd(10, [_dep()], _chat(max_tokens=5), DEFAULT_OUTPUT) == 0.0


def test_requests_without_an_output_limit_are_sent_with_the_one_their_estimate_assumed() -> None:
    dep = _dep(inp=1e-6, out=2e-6)
    req = _chat()
    assert not estimate.sets_output_limit(req)
    worst = estimate.worst_case_usd(10, [dep], req, DEFAULT_OUTPUT)
    assert worst == pytest.approx(10 * 1e-6 + DEFAULT_OUTPUT * 2e-6)
    estimate.limit_output(req, dep, DEFAULT_OUTPUT)
    assert req.max_tokens == DEFAULT_OUTPUT
    # A model whose maximum output is known is bounded by it: nothing to send, the estimate uses it.
    known = _dep(inp=1e-6, out=2e-6)
    known.max_output_tokens = 64_000
    estimate.limit_output(req, known, DEFAULT_OUTPUT)
    assert not req.HasField("max_tokens")
    assert estimate.worst_case_usd(10, [known], req, DEFAULT_OUTPUT) == pytest.approx(10 * 1e-6 + 64_000 * 2e-6)
    assert estimate.sets_output_limit(_chat(max_completion_tokens=5))


def test_images_are_admitted_per_image_or_by_their_output_tokens() -> None:
    hd = images_pb2.ImageGenerationRequest(model="m", prompt="a fox", n=3, size="1792x1024", quality="hd")
    dalle = _dep("dall-e-3", unknown=True)  # no token price, priced per image
    assert estimate.worst_case_usd(5, [dalle], hd, DEFAULT_OUTPUT) == pytest.approx(3 * 0.12)
    low = images_pb2.ImageGenerationRequest(model="m", prompt="a fox", n=2, size="1024x1024", quality="low")
    gpt_image = _dep("gpt-image-1", inp=5e-6, out=40e-6)
    assert estimate.worst_case_usd(5, [gpt_image], low, DEFAULT_OUTPUT) == pytest.approx(5 * 5e-6 + 2 * 272 * 40e-6)
    with pytest.raises(estimate.Unpriced):
        estimate.worst_case_usd(5, [gpt_image, _dep("my-diffusion", unknown=True)], low, DEFAULT_OUTPUT)
