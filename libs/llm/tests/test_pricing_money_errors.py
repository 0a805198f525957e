"""Cost, money formatting and the error table."""

from __future__ import annotations

from decimal import Decimal

from switchyard.llm.v1 import chat_pb2, deployment_pb2, error_pb2
from switchyard_llm.errors import http_status, make_error, openai_error_body
from switchyard_llm.money import format_usd, parse_usd
from switchyard_llm.pricing import PriceBook, Rates, compute


def _usage(p: int, c: int, cached: int = 0, written: int = 0, reasoning: int = 0) -> chat_pb2.Usage:
    u = chat_pb2.Usage(prompt_tokens=p, completion_tokens=c, total_tokens=p + c)
    if cached or written:
        u.prompt_tokens_details.cached_tokens = cached
        u.prompt_tokens_details.cache_creation_tokens = written
    if reasoning:
        u.completion_tokens_details.reasoning_tokens = reasoning
    return u


def test_compute_prices_cache_and_reasoning() -> None:
    r = Rates(Decimal("0.000003"), Decimal("0.000015"), Decimal("0.0000003"), Decimal("0.00000375"))
    assert compute(r, _usage(1000, 100, cached=600, written=200)) == (
        200 * Decimal("0.000003") + 600 * Decimal("0.0000003") + 200 * Decimal("0.00000375") + 100 * Decimal("0.000015")
    )
    r2 = Rates(Decimal(1), Decimal(2), Decimal(1), Decimal(1), reasoning=Decimal(5))
    assert compute(r2, _usage(0, 10, reasoning=4)) == 4 * 5 + 6 * 2


def test_price_library_and_overrides() -> None:
    book = PriceBook()
    dep = deployment_pb2.Deployment(provider="openai", model="gpt-4o")
    assert book.cost(dep, _usage(1_000_000, 0)) == Decimal("2.5")
    dep.pricing.input_cost_per_token = 0.000001
    dep.pricing.output_cost_per_token = 0.000002
    assert book.cost(dep, _usage(10, 5)) == Decimal("0.00002")
    azure = deployment_pb2.Deployment(provider="azure", model="my-deployment")
    azure.pricing.base_model = "azure/gpt-4o"
    assert book.cost(azure, _usage(1_000_000, 0)) == Decimal("2.5")
    assert book.cost(deployment_pb2.Deployment(provider="openai", model="no-such-model-xyz"), _usage(1, 1)) is None


def test_money() -> None:
    assert format_usd(Decimal("0.000001500")) == "0.0000015"
    assert format_usd(Decimal("1E-7")) == "0.0000001"
    assert format_usd(Decimal(0)) == "0"
    assert parse_usd("") == 0 and parse_usd("1.5") == Decimal("1.5")


def test_error_bodies_have_string_codes() -> None:
    err = make_error(error_pb2.ERROR_KIND_RATE_LIMIT, "slow down", retry_after=3)
    body = openai_error_body(err)
    assert body == {"error": {"message": "slow down", "type": "rate_limit_error", "param": None, "code": "429"}}
    assert http_status(error_pb2.ERROR_KIND_NO_DEPLOYMENTS) == 429
    assert http_status(error_pb2.ERROR_KIND_BUDGET_EXCEEDED) == 429
    assert make_error(error_pb2.ERROR_KIND_SERVICE_UNAVAILABLE, "x").http_status == 503
