"""The official OpenAI SDK through the whole stack to the fake Anthropic Messages API."""

from __future__ import annotations

from decimal import Decimal

import httpx
import openai
import pytest

from e2e.support import wait_for_spend
from switchyard_fakes.anthropic_server import REPLY

INPUT = Decimal("0.000003")
OUTPUT = Decimal("0.000015")


def test_non_streaming_chat_is_translated_both_ways(client: openai.OpenAI, http: httpx.Client) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="anthropic-chat",
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello"}],
        max_tokens=200,
        stop=["STOP"],
    )
    completion = raw.parse()
    choice = completion.choices[0]
    assert choice.message.role == "assistant" and choice.message.content == REPLY
    assert choice.finish_reason == "stop"
    assert completion.id.startswith("msg_")
    usage = completion.usage
    assert usage is not None and usage.completion_tokens == len(REPLY.split())
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    cost = Decimal(raw.headers["x-litellm-response-cost"])
    assert cost == INPUT * usage.prompt_tokens + OUTPUT * usage.completion_tokens
    rows = wait_for_spend(http, raw.headers["x-litellm-call-id"])
    assert rows[0]["status"] == "success" and Decimal(str(rows[0]["spend"])) == cost
    assert rows[0]["model_id"] == "anthropic-chat-1"


def test_streaming_chat_with_usage(client: openai.OpenAI, http: httpx.Client) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="anthropic-chat",
        messages=[{"role": "user", "content": "Stream please"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(raw.parse())
    assert len({c.id for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == REPLY
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 1, "streamed piece by piece"
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    usage = chunks[-1].usage
    assert chunks[-1].choices == [] and usage is not None
    assert usage.completion_tokens == len(REPLY.split())
    rows = wait_for_spend(http, raw.headers["x-litellm-call-id"])
    assert rows[0]["stream"] is True
    assert Decimal(str(rows[0]["spend"])) == INPUT * usage.prompt_tokens + OUTPUT * usage.completion_tokens


def test_provider_authentication_error_reaches_the_client(client: openai.OpenAI) -> None:
    with pytest.raises(openai.AuthenticationError) as info:
        client.chat.completions.create(model="anthropic-wrong-key", messages=[{"role": "user", "content": "hi"}])
    assert info.value.status_code == 401
    assert "invalid x-api-key" in str(info.value.message)
    assert "sk-ant-not-the-fake-key" not in str(info.value.body)
