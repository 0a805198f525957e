"""The official OpenAI SDK through the whole stack to the fake Azure OpenAI resource: chat
(streamed and not), embeddings and image generation; OpenAI image generation too."""

from __future__ import annotations

from decimal import Decimal

import httpx
import openai
import pytest
from genai_prices import Usage, calc_price

from e2e.support import wait_for_spend
from switchyard_fakes.azure_server import BASE_MODEL, REPLY


def _azure_gpt4o_cost(prompt: int, completion: int) -> Decimal:
    return calc_price(
        Usage(input_tokens=prompt, output_tokens=completion), model_ref="gpt-4o", provider_id="azure"
    ).total_price


def test_chat_priced_by_base_model(client: openai.OpenAI, http: httpx.Client) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="azure-chat", messages=[{"role": "user", "content": "Say hello"}]
    )
    completion = raw.parse()
    assert completion.choices[0].message.content == REPLY
    assert completion.model == BASE_MODEL, "Azure names its base model; the client sees it"
    usage = completion.usage
    assert usage is not None
    cost = Decimal(raw.headers["x-litellm-response-cost"])
    assert cost == _azure_gpt4o_cost(usage.prompt_tokens, usage.completion_tokens) > 0
    rows = wait_for_spend(http, raw.headers["x-litellm-call-id"])
    assert Decimal(str(rows[0]["spend"])) == cost


def test_streaming_chat(client: openai.OpenAI) -> None:
    chunks = list(
        client.chat.completions.create(
            model="azure-chat",
            messages=[{"role": "user", "content": "Stream please"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert len({c.id for c in chunks}) == 1, "Azure's id-less prompt-filter chunk is folded into the stream"
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == REPLY
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == len(REPLY.split())


def test_embeddings(client: openai.OpenAI) -> None:
    raw = client.embeddings.with_raw_response.create(model="azure-embedding", input=["first text", "second"])
    resp = raw.parse()
    assert [d.index for d in resp.data] == [0, 1]
    assert all(len(d.embedding) == 8 for d in resp.data)
    assert resp.usage.prompt_tokens == 3
    assert Decimal(raw.headers["x-litellm-response-cost"]) == Decimal("0.00000002") * 3


def test_azure_image_generation(client: openai.OpenAI, http: httpx.Client) -> None:
    raw = client.images.with_raw_response.generate(model="azure-image", prompt="a red fox", n=2, size="1024x1024")
    resp = raw.parse()
    assert [d.url for d in resp.data or []] == ["https://fake.blob.core.windows.net/images/generated.png"] * 2
    assert (resp.data or [])[0].revised_prompt == "a red fox"
    rows = wait_for_spend(http, raw.headers["x-litellm-call-id"])
    assert rows[0]["status"] == "success" and rows[0]["model_group"] == "azure-image"


def test_openai_image_generation_with_token_usage_and_cost(client: openai.OpenAI) -> None:
    raw = client.images.with_raw_response.generate(model="openai-image", prompt="a red fox", response_format="b64_json")
    resp = raw.parse()
    assert (resp.data or [])[0].b64_json
    assert resp.usage is not None and resp.usage.output_tokens == 1056
    expected = Decimal("0.000005") * resp.usage.input_tokens + Decimal("0.00004") * 1056
    assert Decimal(raw.headers["x-litellm-response-cost"]) == expected


def test_image_generation_without_prompt_is_a_clear_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.images.generate(model="openai-image", prompt="")
    assert info.value.status_code == 400 and "prompt" in str(info.value.message)
