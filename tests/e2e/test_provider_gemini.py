"""The official OpenAI SDK through the whole stack to the fake Gemini API (AI Studio with an API key,
and Vertex AI with a service account whose JWT-bearer exchange the fake verifies)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import openai
import pytest

from devstack import stack
from e2e import gcp
from e2e.support import wait_for_spend
from switchyard_fakes.gemini_server import REPLY

INPUT = Decimal("0.0000003")
OUTPUT = Decimal("0.0000025")
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


@pytest.fixture(scope="module")
def gemini(stack_cfg: stack.StackConfig) -> Iterator[httpx.Client]:
    """The Gemini fake's control API, with the session's service account registered."""
    with httpx.Client(base_url=f"http://127.0.0.1:{stack_cfg.fake_port + gcp.GEMINI_FAKE_OFFSET}", timeout=10) as c:
        _, email, public_pem = gcp.service_account(stack_cfg.fake_port)
        c.post("/__service_account", json={"client_email": email, "public_key": public_pem}).raise_for_status()
        yield c


def _requests(gemini: httpx.Client, path_suffix: str) -> list[dict[str, Any]]:
    return [r for r in gemini.get("/__log").json() if str(r["path"]).endswith(path_suffix)]


def _header(recorded: dict[str, Any], name: str) -> str | None:
    return next((v for k, v in recorded["headers"].items() if k.lower() == name), None)


def test_non_streaming_chat(client: openai.OpenAI, http: httpx.Client, gemini: httpx.Client) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="gemini-chat",
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello"}],
        max_tokens=200,
        temperature=0.2,
    )
    completion = raw.parse()
    choice = completion.choices[0]
    assert choice.message.role == "assistant" and choice.message.content == REPLY
    assert choice.finish_reason == "stop"
    usage = completion.usage
    assert usage is not None and usage.completion_tokens == len(REPLY.split())
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    cost = Decimal(raw.headers["x-litellm-response-cost"])
    assert cost == INPUT * usage.prompt_tokens + OUTPUT * usage.completion_tokens
    sent = _requests(gemini, "/v1beta/models/gemini-2.5-flash:generateContent")[-1]
    assert _header(sent, "x-goog-api-key") == "e2e-gemini-key-0123456789"
    body = sent["body"]
    assert body["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert body["generationConfig"] == {"temperature": 0.2, "maxOutputTokens": 200}
    rows = wait_for_spend(http, raw.headers["x-litellm-call-id"])
    assert rows[0]["status"] == "success" and Decimal(str(rows[0]["spend"])) == cost
    assert rows[0]["model_id"] == "gemini-chat-1"


def test_streaming_chat_with_usage(client: openai.OpenAI, gemini: httpx.Client) -> None:
    stream = client.chat.completions.create(
        model="gemini-chat",
        messages=[{"role": "user", "content": "Stream please"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert len({c.id for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == REPLY
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 1, "streamed piece by piece"
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == len(REPLY.split())
    sent = _requests(gemini, ":streamGenerateContent")[-1]
    assert sent["query"] == {"alt": "sse"}


def test_forced_tool_call_streamed_and_not(client: openai.OpenAI, gemini: httpx.Client) -> None:
    forced = {"type": "function", "function": {"name": "get_weather"}}
    messages = [{"role": "user", "content": "Weather in Paris?"}]
    completion = client.chat.completions.create(
        model="gemini-chat", messages=messages, tools=[WEATHER_TOOL], tool_choice=forced
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"value": 42}
    sent = _requests(gemini, ":generateContent")[-1]["body"]
    assert sent["toolConfig"] == {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}}
    chunks = list(
        client.chat.completions.create(
            model="gemini-chat", messages=messages, tools=[WEATHER_TOOL], tool_choice=forced, stream=True
        )
    )
    deltas = [t for c in chunks if c.choices for t in c.choices[0].delta.tool_calls or ()]
    assert [d.function.name for d in deltas if d.function and d.function.name] == ["get_weather"]
    assert deltas[0].id and deltas[0].index == 0
    # The tool result goes back as a functionResponse named after the call.
    follow = client.chat.completions.create(
        model="gemini-chat",
        messages=[
            *messages,
            {"role": "assistant", "tool_calls": [call.model_dump(include={"id", "type", "function"})]},
            {"role": "tool", "tool_call_id": call.id, "content": "18C"},
        ],
        tools=[WEATHER_TOOL],
    )
    assert follow.choices[0].message.content == REPLY
    contents = _requests(gemini, ":generateContent")[-1]["body"]["contents"]
    assert contents[2]["parts"][0]["functionResponse"] == {"name": "get_weather", "response": {"content": "18C"}}


def test_json_schema_output(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="gemini-chat",
        messages=[{"role": "user", "content": "Answer in JSON"}],
        response_format={
            "type": "json_schema",
            "json_schema": {
                "name": "answer",
                "schema": {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]},
            },
        },
    )
    assert json.loads(completion.choices[0].message.content or "") == {"answer": "42"}


def test_embeddings(client: openai.OpenAI, gemini: httpx.Client) -> None:
    result = client.embeddings.create(model="gemini-embedding", input=["first text", "second"], dimensions=6)
    assert [len(d.embedding) for d in result.data] == [6, 6]
    assert result.usage.prompt_tokens > 0
    sent = _requests(gemini, ":batchEmbedContents")[-1]["body"]
    assert [r["outputDimensionality"] for r in sent["requests"]] == [6, 6]


def test_quota_error_reaches_the_client_with_its_wait(client: openai.OpenAI, gemini: httpx.Client) -> None:
    error = {
        "error": {
            "code": 429,
            "message": "You exceeded your current quota, please check your plan and billing details.",
            "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "17s"}],
        }
    }
    gemini.post(
        "/__script", json={"model": "gemini-quota-test", "replies": [{"status": 429, "body": error}]}
    ).raise_for_status()
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model="gemini-quota", messages=[{"role": "user", "content": "hi"}])
    assert "exceeded your current quota" in str(info.value.message)
    assert float(info.value.response.headers["retry-after"]) >= 17


def test_vertex_chat_with_a_service_account(client: openai.OpenAI, gemini: httpx.Client) -> None:
    completion = client.chat.completions.create(model="vertex-chat", messages=[{"role": "user", "content": "Hi"}])
    assert completion.choices[0].message.content == REPLY
    chunks = list(
        client.chat.completions.create(model="vertex-chat", messages=[{"role": "user", "content": "Hi"}], stream=True)
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == REPLY
    sent = _requests(gemini, "/publishers/google/models/gemini-2.5-pro:streamGenerateContent")
    assert sent, "the stream went to Vertex's publisher-model path"
    assert sent[-1]["path"].startswith("/v1/projects/e2e-project/locations/us-central1/")
    assert str(_header(sent[-1], "authorization")).startswith("Bearer ya29.fake-")
