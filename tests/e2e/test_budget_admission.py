"""Budget admission bounds what a request can cost on every price model: tiered prices, models
without a known price, images priced per image, and requests that set no max_tokens."""

from __future__ import annotations

import concurrent.futures
import uuid
from decimal import Decimal
from typing import Any

import httpx
import openai
import pytest

from devstack import stack
from e2e.support import wait_for_spend

# The output limit the edge assumes (and sends) when a budgeted request sets none and the
# model's maximum output is unknown (its default_max_output_tokens).
DEFAULT_MAX_OUTPUT_TOKENS = 4096
# The Anthropic fake's answer is 13 output tokens; "count me" is 2 prompt tokens.
ASK = {"max_tokens": 13, "messages": [{"role": "user", "content": "count me"}]}


def _budgeted(http: httpx.Client, stack_cfg: stack.StackConfig, base_url: str, max_budget: str) -> openai.OpenAI:
    resp = http.post("/key/generate", json={"max_budget": max_budget})
    assert resp.status_code == 200, resp.text
    # No wait for the identity event: the key's limit holds from its first request.
    return openai.OpenAI(base_url=f"{base_url}/v1", api_key=resp.json()["key"], max_retries=0, timeout=30)


def test_a_key_with_max_budget_0_is_refused_on_every_model(
    http: httpx.Client, stack_cfg: stack.StackConfig, base_url: str
) -> None:
    user = _budgeted(http, stack_cfg, base_url, "0")
    # A tiered price, a free model (priced at 0) and a flat price.
    for model in ("anthropic-tiered", "ollama-chat", "fake-chat"):
        with pytest.raises(openai.RateLimitError) as info:
            user.chat.completions.create(model=model, **ASK)
        assert info.value.body["type"] == "budget_exceeded", model


def test_a_tiered_model_is_admitted_at_its_highest_tier(
    http: httpx.Client, stack_cfg: stack.StackConfig, base_url: str
) -> None:
    # claude-sonnet-4-5's highest tier charges $22.50 per million output tokens, so 13 of them
    # may cost $0.0002925: more than this budget, though the request really costs ~$0.0002.
    user = _budgeted(http, stack_cfg, base_url, "0.00025")
    with pytest.raises(openai.RateLimitError) as info:
        user.chat.completions.create(model="anthropic-tiered", **ASK)
    assert info.value.body["type"] == "budget_exceeded"


def test_concurrent_requests_on_a_tiered_model_cannot_overspend(
    http: httpx.Client, stack_cfg: stack.StackConfig, base_url: str
) -> None:
    budget = Decimal("0.001")  # about three worst cases; ten requests really cost ~$0.002
    user = _budgeted(http, stack_cfg, base_url, str(budget))

    def ask(_: int) -> str | openai.RateLimitError:
        try:
            raw = user.chat.completions.with_raw_response.create(model="anthropic-tiered", **ASK)
        except openai.RateLimitError as exc:
            return exc
        return str(raw.headers["x-litellm-call-id"])

    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        outcomes = list(pool.map(ask, range(10)))
    admitted = [o for o in outcomes if isinstance(o, str)]
    refused = [o for o in outcomes if isinstance(o, openai.RateLimitError)]
    assert admitted and refused, f"{len(admitted)} admitted, {len(refused)} refused"
    assert all(r.body["type"] == "budget_exceeded" for r in refused)
    spent = sum(Decimal(str(wait_for_spend(http, call_id)[0]["spend"])) for call_id in admitted)
    assert 0 < spent <= budget
    info = httpx.get(f"{base_url}/key/info", headers={"Authorization": f"Bearer {user.api_key}"}).json()["info"]
    assert Decimal(str(info["spend"])) == spent


def test_a_model_without_a_price_is_refused_for_a_budgeted_key_saying_why(
    http: httpx.Client, stack_cfg: stack.StackConfig, base_url: str, client: openai.OpenAI
) -> None:
    user = _budgeted(http, stack_cfg, base_url, "10")
    with pytest.raises(openai.PermissionDeniedError) as info:
        user.chat.completions.create(model="unpriced-chat", **ASK)
    message = info.value.message
    assert "unpriced-chat" in message and "no known price" in message and "input_cost_per_token" in message
    with pytest.raises(openai.PermissionDeniedError):
        user.images.generate(model="azure-image", prompt="a red fox")
    # Without a budget nothing needs bounding: the model is served.
    assert client.chat.completions.create(model="unpriced-chat", **ASK).choices


def test_a_budgeted_request_without_max_tokens_is_sent_with_the_limit_its_estimate_assumed(
    http: httpx.Client, stack_cfg: stack.StackConfig, base_url: str, client: openai.OpenAI, fake: httpx.Client
) -> None:
    user = _budgeted(http, stack_cfg, base_url, "10")

    def sent(c: openai.OpenAI, stream: bool, **extra: Any) -> dict[str, Any]:
        marker = f"limit-{uuid.uuid4()}"
        resp = c.chat.completions.create(
            model="fake-chat", messages=[{"role": "user", "content": marker}], stream=stream, **extra
        )
        if stream:
            list(resp)
        body: dict[str, Any] = next(e for e in reversed(fake.get("/__log").json()) if marker in str(e["body"]))["body"]
        return body

    for stream in (False, True):
        assert sent(user, stream)["max_tokens"] == DEFAULT_MAX_OUTPUT_TOKENS
    assert sent(user, False, max_tokens=7)["max_tokens"] == 7, "the client's own limit is kept"
    assert "max_tokens" not in sent(client, False), "requests without a budget are unchanged"


def test_images_are_priced_and_admitted_per_image(
    http: httpx.Client, stack_cfg: stack.StackConfig, base_url: str, client: openai.OpenAI
) -> None:
    # DALL-E 3: $0.04 per standard 1024x1024 image, $0.08 in HD.
    raw = client.images.with_raw_response.generate(
        model="openai-dalle", prompt="a red fox", n=2, size="1024x1024", quality="hd"
    )
    assert Decimal(raw.headers["x-litellm-response-cost"]) == Decimal("0.16")
    assert Decimal(str(wait_for_spend(http, raw.headers["x-litellm-call-id"])[0]["spend"])) == Decimal("0.16")
    user = _budgeted(http, stack_cfg, base_url, "0.1")
    with pytest.raises(openai.RateLimitError) as info:
        user.images.generate(model="openai-dalle", prompt="a red fox", n=2, quality="hd")
    assert info.value.body["type"] == "budget_exceeded"
    assert user.images.generate(model="openai-dalle", prompt="a red fox", n=2).data
