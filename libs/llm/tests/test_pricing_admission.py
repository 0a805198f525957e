"""What budget admission assumes a deployment costs (tiers, unknown prices, images) and what an
image generation is charged."""

from __future__ import annotations

from decimal import Decimal

import pytest
from genai_prices import Usage, calc_price

from switchyard.llm.v1 import chat_pb2, deployment_pb2, images_pb2
from switchyard_llm.pricing import PriceBook, image_output_tokens, image_price


def _dep(provider: str, model: str, **pricing: float | str) -> deployment_pb2.Deployment:
    dep = deployment_pb2.Deployment(provider=provider, model=model)
    for key, value in pricing.items():
        setattr(dep.pricing, key, value)
    return dep


def _usage(prompt: int, completion: int, cached: int = 0, written: int = 0) -> chat_pb2.Usage:
    u = chat_pb2.Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)
    u.prompt_tokens_details.cached_tokens = cached
    u.prompt_tokens_details.cache_creation_tokens = written
    return u


def test_tiered_models_are_admitted_at_their_highest_tier() -> None:
    book = PriceBook()
    # claude-sonnet-4-5: $3 / $15 per MTok, $6 / $22.50 above 200k prompt tokens; a prompt token
    # written to the cache costs $3.75 ($7.50 above 200k).
    sonnet = _dep("anthropic", "claude-sonnet-4-5")
    assert book.admission_rates(sonnet) == pytest.approx((7.5e-6, 22.5e-6))
    assert book.list_rates(sonnet) == pytest.approx((3e-6, 15e-6))
    gemini = _dep("gemini", "gemini-2.5-pro")
    assert book.admission_rates(gemini) == pytest.approx((2.5e-6, 15e-6))
    # A flat price is admitted as listed.
    assert book.admission_rates(_dep("openai", "gpt-4o")) == pytest.approx((2.5e-6, 10e-6))


def test_tiered_models_are_charged_at_their_prompts_tier() -> None:
    book = PriceBook()
    sonnet = _dep("anthropic", "claude-sonnet-4-5")
    for prompt, cached, written in ((1000, 0, 0), (200_000, 100, 0), (250_000, 1000, 2000)):
        expected = calc_price(
            Usage(
                input_tokens=prompt,
                output_tokens=100,
                cache_read_tokens=cached or None,
                cache_write_tokens=written or None,
            ),
            model_ref="claude-sonnet-4-5",
            provider_id="anthropic",
        ).total_price
        assert book.cost(sonnet, _usage(prompt, 100, cached, written)) == expected
    # Overriding one side of a tiered model keeps the library's tiers for the other.
    output_only = _dep("anthropic", "claude-sonnet-4-5", output_cost_per_token=0.00001)
    assert book.cost(output_only, _usage(300_000, 10)) == 300_000 * Decimal("0.000006") + 10 * Decimal("0.00001")
    assert book.admission_rates(output_only) == pytest.approx((7.5e-6, 1e-5))


def test_a_model_without_a_known_price_is_flagged_not_priced_at_zero() -> None:
    book = PriceBook()
    unknown = _dep("openai", "no-such-model-xyz")
    assert book.admission_rates(unknown) is None
    assert book.list_rates(unknown) is None
    assert book.cost(unknown, _usage(10, 10)) is None
    # A deployment price makes it known; an explicit 0 is a free model, not an unknown one.
    assert book.admission_rates(_dep("openai", "no-such-model-xyz", input_cost_per_token=0.000001)) == (1e-6, 0.0)
    free = _dep("ollama", "llama3.2", input_cost_per_token=0, output_cost_per_token=0)
    assert book.admission_rates(free) == (0.0, 0.0)


def test_library_prices_are_kept_in_a_bounded_cache() -> None:
    book = PriceBook(cache_size=8)
    for i in range(50):
        book.cost(_dep("anthropic", f"claude-made-up-{i}"), _usage(1, 1))
    assert book._library.cache_info().currsize == 8


def test_images_priced_per_image_by_size_and_quality() -> None:
    dalle3 = _dep("openai", "dall-e-3")
    assert image_price(dalle3, "", "") == Decimal("0.04"), "standard 1024x1024 by default"
    assert image_price(dalle3, "1024x1024", "hd") == Decimal("0.08")
    assert image_price(dalle3, "1792x1024", "hd") == Decimal("0.12")
    assert image_price(dalle3, "4096x4096", "ultra") == Decimal("0.12"), "unknown: the most expensive"
    azure = _dep("azure", "my-dalle", base_model="azure/dall-e-3")
    assert image_price(azure, "1024x1792", "standard") == Decimal("0.08")
    assert image_price(_dep("openai", "dall-e-2"), "256x256", "") == Decimal("0.016")
    # Deployment prices: per image wins, then per pixel (LiteLLM's DALL-E pricing).
    assert image_price(_dep("openai", "dall-e-3", output_cost_per_image=0.5), "1024x1024", "hd") == Decimal("0.5")
    per_pixel = _dep("openai", "my-image-model", input_cost_per_pixel=1e-8)
    assert image_price(per_pixel, "512x512", "") == Decimal("1E-8") * 512 * 512
    # Token-billed and unknown models have no per-image price.
    assert image_price(_dep("openai", "gpt-image-1"), "1024x1024", "high") is None
    assert image_price(_dep("openai", "no-such-image-model"), "", "") is None


def test_token_billed_images_are_bounded_by_their_output_tokens() -> None:
    assert image_output_tokens("1024x1024", "low") == 272
    assert image_output_tokens("1536x1024", "medium") == 1568
    assert image_output_tokens("", "") == 6240, "auto size and quality: the largest, high"
    assert image_output_tokens("1024x1024", "auto") == 4160
    assert image_output_tokens("2048x2048", "high") == 16640, "other sizes scale with their pixels"


def test_image_generations_are_charged_per_image_or_by_tokens() -> None:
    book = PriceBook()
    hd = images_pb2.ImageGenerationRequest(model="m", prompt="a fox", n=2, size="1024x1024", quality="hd")
    assert book.image_cost(_dep("openai", "dall-e-3"), hd, 2, chat_pb2.Usage()) == Decimal("0.16")
    # gpt-image-1.5 bills image output tokens at $32/MTok (text output is $10).
    tokens = _usage(10, 1056)
    cost = book.image_cost(_dep("openai", "gpt-image-1.5"), hd, 1, tokens)
    assert cost == 10 * Decimal("0.000005") + 1056 * Decimal("0.000032")
    assert book.image_cost(_dep("openai", "no-such-image-model"), hd, 2, chat_pb2.Usage()) is None
