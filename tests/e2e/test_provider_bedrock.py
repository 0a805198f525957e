"""The official OpenAI SDK through the whole stack to the fake Amazon Bedrock runtime (Converse,
ConverseStream's binary event-stream, InvokeModel embeddings), every call SigV4-signed by the
provider adapter and the signature verified by the fake."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import openai
import pytest

from e2e.support import wait_for_spend
from switchyard_fakes.bedrock_server import REPLY

INPUT = Decimal("0.000003")
OUTPUT = Decimal("0.000015")
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def test_non_streaming_chat_through_converse(client: openai.OpenAI, http: httpx.Client) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="bedrock-chat",
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello"}],
        max_tokens=200,
        temperature=0.2,
    )
    completion = raw.parse()
    choice = completion.choices[0]
    assert choice.message.role == "assistant" and choice.message.content == REPLY
    assert choice.finish_reason == "stop"
    assert completion.id.startswith("chatcmpl-")
    usage = completion.usage
    # The fake counts words: "Be brief." + "Say hello" in, its reply out.
    assert usage is not None and (usage.prompt_tokens, usage.completion_tokens) == (4, len(REPLY.split()))
    cost = Decimal(raw.headers["x-litellm-response-cost"])
    assert cost == INPUT * usage.prompt_tokens + OUTPUT * usage.completion_tokens
    rows = wait_for_spend(http, raw.headers["x-litellm-call-id"])
    assert rows[0]["status"] == "success" and Decimal(str(rows[0]["spend"])) == cost
    assert rows[0]["model_id"] == "bedrock-chat-1"


def test_streaming_chat_through_converse_stream(client: openai.OpenAI, http: httpx.Client) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="bedrock-chat",
        messages=[{"role": "user", "content": "Stream please"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(raw.parse())
    assert len({c.id for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == REPLY
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) == len(REPLY.split()), (
        "one chunk per event-stream delta"
    )
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    usage = chunks[-1].usage
    assert chunks[-1].choices == [] and usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens) == (2, len(REPLY.split()))
    rows = wait_for_spend(http, raw.headers["x-litellm-call-id"])
    assert rows[0]["stream"] is True
    assert Decimal(str(rows[0]["spend"])) == INPUT * usage.prompt_tokens + OUTPUT * usage.completion_tokens


def test_forced_tool_call_streamed_and_not(client: openai.OpenAI) -> None:
    request = {
        "model": "bedrock-chat",
        "messages": [{"role": "user", "content": "Weather in Paris?"}],
        "tools": [WEATHER_TOOL],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
    }
    completion = client.chat.completions.create(**request)  # type: ignore[call-overload]
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    (call,) = choice.message.tool_calls or []
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "fake"}
    stream = client.chat.completions.create(**request, stream=True)  # type: ignore[call-overload]
    pieces: dict[int, dict[str, str]] = {}
    finish = None
    for chunk in stream:
        for c in chunk.choices:
            for t in c.delta.tool_calls or []:
                slot = pieces.setdefault(t.index, {"id": "", "name": "", "arguments": ""})
                slot["id"] += t.id or ""
                slot["name"] += (t.function.name if t.function else None) or ""
                slot["arguments"] += (t.function.arguments if t.function else None) or ""
            finish = c.finish_reason or finish
    assert finish == "tool_calls"
    assert list(pieces) == [0]
    assert pieces[0]["name"] == "get_weather" and pieces[0]["id"] == call.id
    assert json.loads(pieces[0]["arguments"]) == {"city": "fake"}


def test_bad_signature_is_an_authentication_error(client: openai.OpenAI) -> None:
    with pytest.raises(openai.AuthenticationError) as info:
        client.chat.completions.create(model="bedrock-wrong-secret", messages=[{"role": "user", "content": "hi"}])
    assert info.value.status_code == 401
    assert "InvalidSignatureException" in str(info.value.message)
    assert "not-the-fake-secret" not in str(info.value.body)


def test_titan_embeddings(client: openai.OpenAI, http: httpx.Client) -> None:
    # The SDK asks for base64 by default and decodes it; the adapter encodes Titan's floats so.
    raw = client.embeddings.with_raw_response.create(model="bedrock-embedding", input="hello world", dimensions=256)
    result = raw.parse()
    assert len(result.data) == 1 and len(result.data[0].embedding) == 256
    norm = sum(x * x for x in result.data[0].embedding)
    assert abs(norm - 1.0) < 1e-3, "Titan v2 normalises by default"
    assert result.usage.prompt_tokens == 2
    rows = wait_for_spend(http, raw.headers["x-litellm-call-id"])
    assert Decimal(str(rows[0]["spend"])) == Decimal("0.00000002") * 2
