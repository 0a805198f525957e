"""The official OpenAI SDK through the whole stack to the fake Cohere v2 API."""

from __future__ import annotations

import json
from decimal import Decimal

import openai

from switchyard_fakes.cohere_server import REPLY

INPUT = Decimal("0.0000025")
OUTPUT = Decimal("0.00001")


def test_non_streaming_chat(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="cohere-chat", messages=[{"role": "user", "content": "Say hello"}], top_p=0.5
    )
    completion = raw.parse()
    assert completion.choices[0].message.content == REPLY
    assert completion.choices[0].finish_reason == "stop"
    usage = completion.usage
    assert usage is not None and usage.completion_tokens == len(REPLY.split())
    # Billed units, not the template-inflated token counts.
    assert usage.prompt_tokens == 2
    assert Decimal(raw.headers["x-litellm-response-cost"]) == INPUT * 2 + OUTPUT * usage.completion_tokens


def test_streaming_chat_and_tools(client: openai.OpenAI) -> None:
    chunks = list(
        client.chat.completions.create(
            model="cohere-chat",
            messages=[{"role": "user", "content": "Stream please"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert len({c.id for c in chunks}) == 1
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == REPLY
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == len(REPLY.split())
    tool = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}
    chunks = list(
        client.chat.completions.create(
            model="cohere-chat",
            messages=[{"role": "user", "content": "Look it up"}],
            tools=[tool],
            tool_choice="required",
            stream=True,
        )
    )
    deltas = [t for c in chunks if c.choices for t in c.choices[0].delta.tool_calls or ()]
    assert deltas[0].id == "call_fake_1" and deltas[0].function.name == "lookup"
    assert json.loads("".join(d.function.arguments or "" for d in deltas)) == {"value": 42}
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["tool_calls"]
