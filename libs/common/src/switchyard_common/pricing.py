"""Cost of a call: per-deployment price overrides first, then the genai-prices library.

Looking a model up in genai-prices costs ~0.1 ms, so the rates of each model are resolved once
and cached; a call's cost is then a few Decimal multiplications. Models with tiered prices use
the library's own calculation."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from switchyard.llm.v1 import chat_pb2, deployment_pb2
from switchyard_common.model_config import ConfigError, split_model

log = logging.getLogger(__name__)

_MILLION = Decimal(1_000_000)

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


def _dec(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(repr(value))


class PriceBook:
    def __init__(self) -> None:
        self._library: dict[tuple[str | None, str], tuple[Rates | None, Any]] = {}

    def _lookup(self, provider: str, model: str) -> tuple[Rates | None, Any]:
        provider_id = _PRICE_PROVIDER.get(provider)
        key = (provider_id, model)
        hit = self._library.get(key)
        if hit is not None:
            return hit
        from genai_prices import Usage, calc_price

        result: tuple[Rates | None, Any] = (None, None)
        try:
            calc = calc_price(Usage(input_tokens=0, output_tokens=0), model_ref=model, provider_id=provider_id)
            mp = calc.model_price
            fields = {
                k: getattr(mp, k, None) for k in ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok")
            }
            if all(v is None or isinstance(v, Decimal) for v in fields.values()):
                inp = fields["input_mtok"] or Decimal(0)
                rates = Rates(
                    input=inp / _MILLION,
                    output=(fields["output_mtok"] or Decimal(0)) / _MILLION,
                    cache_read=(fields["cache_read_mtok"] if fields["cache_read_mtok"] is not None else inp) / _MILLION,
                    cache_write=(fields["cache_write_mtok"] if fields["cache_write_mtok"] is not None else inp)
                    / _MILLION,
                )
                result = (rates, None)
            else:
                result = (None, mp)  # tiered: use the library per call
        except LookupError:
            log.warning(
                "no price known for model; its cost is recorded as unknown",
                extra={"provider": provider, "model": model},
            )
        except Exception:
            log.warning("price lookup failed", extra={"provider": provider, "model": model}, exc_info=True)
        self._library[key] = result
        return result

    def admission_rates(self, dep: deployment_pb2.Deployment) -> tuple[float, float]:
        """(input, output) USD per token that budget admission assumes for a deployment."""
        p = dep.pricing
        provider, model = self._price_model(dep)
        rates, _ = (
            (None, None)
            if (p.HasField("input_cost_per_token") and p.HasField("output_cost_per_token"))
            else self._lookup(provider, model)
        )
        inp = p.input_cost_per_token if p.HasField("input_cost_per_token") else float(rates.input if rates else 0)
        out = p.output_cost_per_token if p.HasField("output_cost_per_token") else float(rates.output if rates else 0)
        return inp, out

    @staticmethod
    def _price_model(dep: deployment_pb2.Deployment) -> tuple[str, str]:
        provider, model = dep.provider, dep.model
        if dep.pricing.base_model:
            try:
                provider, model = split_model(dep.pricing.base_model)
            except ConfigError:
                model = dep.pricing.base_model
        return provider, model

    def cost(self, dep: deployment_pb2.Deployment, usage: chat_pb2.Usage) -> Decimal | None:
        """USD for ``usage`` on ``dep``; None when no price is known."""
        p = dep.pricing
        provider, model = self._price_model(dep)
        rates, tiered = (None, None)
        if not (p.HasField("input_cost_per_token") and p.HasField("output_cost_per_token")):
            rates, tiered = self._lookup(provider, model)
        if tiered is not None and not (p.HasField("input_cost_per_token") or p.HasField("output_cost_per_token")):
            return self._tiered(tiered, usage)
        base = rates or Rates(Decimal(0), Decimal(0), Decimal(0), Decimal(0))
        if rates is None and not (p.HasField("input_cost_per_token") or p.HasField("output_cost_per_token")):
            return None
        inp = _dec(p.input_cost_per_token) if p.HasField("input_cost_per_token") else base.input
        out = _dec(p.output_cost_per_token) if p.HasField("output_cost_per_token") else base.output
        assert inp is not None and out is not None
        cache_read = (
            _dec(p.cache_read_input_token_cost)
            if p.HasField("cache_read_input_token_cost")
            else (base.cache_read if rates else inp)
        )
        cache_write = (
            _dec(p.cache_creation_input_token_cost)
            if p.HasField("cache_creation_input_token_cost")
            else (base.cache_write if rates else inp)
        )
        reasoning = _dec(p.output_cost_per_reasoning_token) if p.HasField("output_cost_per_reasoning_token") else None
        assert cache_read is not None and cache_write is not None
        return compute(Rates(inp, out, cache_read, cache_write, reasoning), usage)

    @staticmethod
    def _tiered(model_price: Any, usage: chat_pb2.Usage) -> Decimal:
        from genai_prices import Usage

        d = usage.prompt_tokens_details
        calc = model_price.calc_price(
            Usage(
                input_tokens=usage.prompt_tokens,
                output_tokens=usage.completion_tokens,
                cache_read_tokens=d.cached_tokens or None,
                cache_write_tokens=d.cache_creation_tokens or None,
            )
        )
        return Decimal(calc["total_price"])


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
