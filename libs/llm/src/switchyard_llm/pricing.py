"""Cost of a call: per-deployment price overrides first, then the genai-prices library.

Looking a model up in genai-prices costs ~0.1 ms, so each model's prices are resolved once and
kept in a bounded LRU cache (wildcard deployments let clients name any model, and runtime models
come and go); a call's cost is then a few Decimal multiplications.

Tiered prices (every token of a call costs more once its prompt passes a threshold, e.g.
claude-sonnet-4-5 and gemini-2.5-pro above 200k prompt tokens) are kept as steps: a call is
charged at its prompt's tier, and budget admission, which must bound a cost before the provider
has counted the prompt, assumes the highest one.

Image generations are priced per image where the model is priced so (a deployment override, or
DALL-E's published prices, which the library lacks), else by their tokens (gpt-image models bill
the image as output tokens)."""

from __future__ import annotations

import functools
import logging
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from switchyard.llm.v1 import chat_pb2, deployment_pb2, images_pb2
from switchyard_common.settings import ConfigError
from switchyard_llm.model_config import split_model

log = logging.getLogger(__name__)

_MILLION = Decimal(1_000_000)
# Models whose library prices are kept (each entry is a few hundred bytes).
LIBRARY_CACHE_SIZE = 4096

# Our provider names → genai-prices provider ids.
_PRICE_PROVIDER = {
    "openai": "openai",
    "text-completion-openai": "openai",
    "azure": "azure",
    "azure_ai": "azure",
    "anthropic": "anthropic",
    "gemini": "google",
    "vertex_ai": "google",
    "vertex_ai_beta": "google",
    "bedrock": "aws",
    "bedrock_converse": "aws",
    "cohere": "cohere",
    "cohere_chat": "cohere",
    "mistral": "mistral",
    "codestral": "mistral",
    "groq": "groq",
    "deepseek": "deepseek",
    "xai": "x-ai",
    "together_ai": "together",
    "fireworks_ai": "fireworks",
    "openrouter": "openrouter",
    "perplexity": "perplexity",
    "cerebras": "cerebras",
}


@dataclass(frozen=True, slots=True)
class Rates:
    """USD per token."""

    input: Decimal
    output: Decimal
    cache_read: Decimal
    cache_write: Decimal
    reasoning: Decimal | None = None


# A per-token rate as steps: (prompt tokens above which it applies, USD per token), ascending,
# the first from 0. One step is a flat price.
Steps = tuple[tuple[int, Decimal], ...]

_ZERO: Steps = ((0, Decimal(0)),)


def _dec(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(repr(value))


def _flat(value: float) -> Steps:
    return ((0, Decimal(repr(value))),)


def _library_steps(value: Any) -> Steps:
    """A genai-prices price (USD per million tokens, flat or tiered; None when absent) as steps."""
    from genai_prices.types import TieredPrices

    if value is None:
        return ()
    if isinstance(value, TieredPrices):
        return ((0, value.base / _MILLION), *((t.start, t.price / _MILLION) for t in value.tiers))
    return ((0, Decimal(value) / _MILLION),)


def _at(steps: Steps, prompt_tokens: int) -> Decimal:
    # genai-prices' rule: a tier applies to every token once the prompt exceeds its start.
    rate = steps[0][1]
    for start, step_rate in steps[1:]:
        if prompt_tokens > start:
            rate = step_rate
    return rate


def _top(steps: Steps) -> Decimal:
    return max((rate for _, rate in steps), default=Decimal(0))


def _floats(pair: tuple[Decimal, Decimal]) -> tuple[float, float]:
    return float(pair[0]), float(pair[1])


@dataclass(frozen=True, slots=True)
class Price:
    """A deployment's per-token prices: its overrides over the library's."""

    input: Steps
    output: Steps
    cache_read: Steps
    cache_write: Steps
    reasoning: Steps = ()
    # Image output tokens of an image generation, where the model prices them apart from text.
    output_image: Steps = ()

    def at(self, prompt_tokens: int, *, image: bool = False) -> Rates:
        """The rates of a call whose prompt has ``prompt_tokens`` tokens."""
        output = self.output_image if image and self.output_image else self.output
        return Rates(
            input=_at(self.input, prompt_tokens),
            output=_at(output, prompt_tokens),
            cache_read=_at(self.cache_read, prompt_tokens),
            cache_write=_at(self.cache_write, prompt_tokens),
            reasoning=_at(self.reasoning, prompt_tokens) if self.reasoning else None,
        )

    def highest(self) -> tuple[Decimal, Decimal]:
        """The most one prompt token and one completion token can be charged (any tier, any kind):
        what budget admission assumes."""
        return (
            max(_top(self.input), _top(self.cache_read), _top(self.cache_write)),
            max(_top(self.output), _top(self.reasoning), _top(self.output_image)),
        )

    def listed(self) -> tuple[Decimal, Decimal]:
        """The list price of a prompt and a completion token (lowest tier), for display and routing."""
        return self.input[0][1], self.output[0][1]


def compute(rates: Rates, usage: chat_pb2.Usage) -> Decimal:
    """``prompt_tokens`` includes cache reads and writes (normalised by every adapter);
    reasoning tokens are part of ``completion_tokens``."""
    d = usage.prompt_tokens_details
    cached = d.cached_tokens
    written = d.cache_creation_tokens
    plain_in = max(0, usage.prompt_tokens - cached - written)
    cost = plain_in * rates.input + cached * rates.cache_read + written * rates.cache_write
    if rates.reasoning is not None:
        reasoning = usage.completion_tokens_details.reasoning_tokens
        cost += reasoning * rates.reasoning + max(0, usage.completion_tokens - reasoning) * rates.output
    else:
        cost += usage.completion_tokens * rates.output
    return cost


def _library_price(provider_id: str | None, model: str) -> Price | None:
    from genai_prices import Usage, calc_price

    try:
        calc = calc_price(Usage(input_tokens=0, output_tokens=0), model_ref=model, provider_id=provider_id)
    except LookupError:
        log.warning(
            "no price known for model; its cost is recorded as unknown",
            extra={"provider": provider_id, "model": model},
        )
        return None
    except Exception:
        log.warning("price lookup failed", extra={"provider": provider_id, "model": model}, exc_info=True)
        return None
    mp = calc.model_price
    inp, out = _library_steps(mp.input_mtok), _library_steps(mp.output_mtok)
    if not inp and not out:
        # Priced by something other than tokens (seconds, requests): not a price we can apply.
        log.warning(
            "no per-token price known for model; its cost is recorded as unknown",
            extra={"provider": provider_id, "model": model},
        )
        return None
    inp = inp or _ZERO
    return Price(
        input=inp,
        output=out or _ZERO,
        cache_read=_library_steps(mp.cache_read_mtok) or inp,
        cache_write=_library_steps(mp.cache_write_mtok) or inp,
        output_image=_library_steps(mp.output_image_mtok),
    )


class PriceBook:
    def __init__(self, cache_size: int = LIBRARY_CACHE_SIZE) -> None:
        self._library = functools.lru_cache(maxsize=cache_size)(_library_price)

    def price(self, dep: deployment_pb2.Deployment) -> Price | None:
        """The deployment's per-token prices; None when neither its overrides nor the library
        give one."""
        p = dep.pricing
        has_in, has_out = p.HasField("input_cost_per_token"), p.HasField("output_cost_per_token")
        lib = None
        if not (has_in and has_out):
            provider, model = self._price_model(dep)
            lib = self._library(_PRICE_PROVIDER.get(provider), model)
        if lib is None and not (has_in or has_out):
            return None

        def overridden(field: str, otherwise: Steps) -> Steps:
            return _flat(getattr(p, field)) if p.HasField(field) else otherwise

        inp = overridden("input_cost_per_token", lib.input if lib else _ZERO)
        return Price(
            input=inp,
            output=overridden("output_cost_per_token", lib.output if lib else _ZERO),
            cache_read=overridden("cache_read_input_token_cost", lib.cache_read if lib else inp),
            cache_write=overridden("cache_creation_input_token_cost", lib.cache_write if lib else inp),
            reasoning=overridden("output_cost_per_reasoning_token", ()),
            # An output override is the price of every output token.
            output_image=lib.output_image if lib and not has_out else (),
        )

    def admission_rates(self, dep: deployment_pb2.Deployment) -> tuple[float, float] | None:
        """(input, output) USD per token that budget admission assumes for a deployment: the
        highest each can cost; None when no price is known."""
        price = self.price(dep)
        return None if price is None else _floats(price.highest())

    def list_rates(self, dep: deployment_pb2.Deployment) -> tuple[float, float] | None:
        """(input, output) USD per token as listed (lowest tier); None when no price is known."""
        price = self.price(dep)
        return None if price is None else _floats(price.listed())

    @staticmethod
    def _price_model(dep: deployment_pb2.Deployment) -> tuple[str, str]:
        provider, model = dep.provider, dep.model
        if dep.pricing.base_model:
            try:
                provider, model = split_model(dep.pricing.base_model)
            except ConfigError:
                model = dep.pricing.base_model
        return provider, model

    def cost(self, dep: deployment_pb2.Deployment, usage: chat_pb2.Usage, *, image: bool = False) -> Decimal | None:
        """USD for ``usage`` on ``dep`` (``image``: of an image generation); None when no price
        is known."""
        price = self.price(dep)
        return None if price is None else compute(price.at(usage.prompt_tokens, image=image), usage)

    def image_cost(
        self,
        dep: deployment_pb2.Deployment,
        req: images_pb2.ImageGenerationRequest,
        images: int,
        usage: chat_pb2.Usage,
    ) -> Decimal | None:
        """USD for ``images`` generated for ``req``: per image where the model is priced so, else
        by the answer's tokens; None when no price is known."""
        per_image = image_price(dep, req.size, req.quality)
        if per_image is not None:
            return per_image * images
        return self.cost(dep, usage, image=True)


# USD per image of models the library does not price, by quality then size (OpenAI's published
# prices, https://platform.openai.com/docs/pricing#image-generation). The first quality is the
# model's default; the API's default size is 1024x1024.
_PER_IMAGE: dict[str, dict[str, dict[str, Decimal]]] = {
    "dall-e-3": {
        "standard": {"1024x1024": Decimal("0.04"), "1024x1792": Decimal("0.08"), "1792x1024": Decimal("0.08")},
        "hd": {"1024x1024": Decimal("0.08"), "1024x1792": Decimal("0.12"), "1792x1024": Decimal("0.12")},
    },
    "dall-e-2": {
        "standard": {"256x256": Decimal("0.016"), "512x512": Decimal("0.018"), "1024x1024": Decimal("0.02")},
    },
}
_DEFAULT_IMAGE_SIZE = "1024x1024"
# The largest image the OpenAI image API makes when a request leaves the size to it ("auto").
_LARGEST_IMAGE = (1792, 1024)

# Output tokens one image is billed for on token-billed image models, by quality then size
# (gpt-image-1's published table,
# https://platform.openai.com/docs/guides/image-generation#cost-and-latency).
_IMAGE_TOKENS: dict[str, dict[str, int]] = {
    "low": {"1024x1024": 272, "1024x1536": 408, "1536x1024": 400},
    "medium": {"1024x1024": 1056, "1024x1536": 1584, "1536x1024": 1568},
    "high": {"1024x1024": 4160, "1024x1536": 6240, "1536x1024": 6208},
}


def _dimensions(size: str) -> tuple[int, int] | None:
    width, sep, height = size.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit():
        return None
    return int(width), int(height)


def _pixels(size: str) -> int:
    width, height = _dimensions(size) or _LARGEST_IMAGE
    return width * height


# Sizes the table does not list are billed like its densest entry of the same quality.
_IMAGE_TOKENS_PER_PIXEL = {
    quality: max(tokens / _pixels(size) for size, tokens in by_size.items())
    for quality, by_size in _IMAGE_TOKENS.items()
}


def image_price(dep: deployment_pb2.Deployment, size: str, quality: str) -> Decimal | None:
    """USD per image of ``size`` and ``quality`` ("" when the request leaves them to the
    model) when the deployment is priced per image, else None (priced by tokens, or unknown).
    A size or quality the table does not list costs its most expensive entry, so admission
    still bounds the call."""
    p = dep.pricing
    if p.HasField("output_cost_per_image"):
        return _dec(p.output_cost_per_image)
    if p.HasField("input_cost_per_pixel"):
        return Decimal(repr(p.input_cost_per_pixel)) * _pixels(size or _DEFAULT_IMAGE_SIZE)
    table = _PER_IMAGE.get((p.base_model or dep.model).rsplit("/", 1)[-1])
    if table is None:
        return None
    by_size = table.get(quality or next(iter(table)))
    if by_size is None:
        return max(price for sizes in table.values() for price in sizes.values())
    return by_size.get(size or _DEFAULT_IMAGE_SIZE) or max(by_size.values())


def image_output_tokens(size: str, quality: str) -> int:
    """The most output tokens one image of ``size`` and ``quality`` is billed for on a
    token-billed image model: "auto", unset or unknown quality counts as high, "auto" or unset
    size as the largest listed; other sizes scale with their pixels."""
    if quality not in _IMAGE_TOKENS:
        quality = "high"
    by_size = _IMAGE_TOKENS[quality]
    if size in by_size:
        return by_size[size]
    if _dimensions(size) is None:
        return max(by_size.values())
    return math.ceil(_IMAGE_TOKENS_PER_PIXEL[quality] * _pixels(size))
