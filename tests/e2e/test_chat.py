"""Chat completions through the whole stack with the official OpenAI SDK."""

from __future__ import annotations

import uuid
from decimal import Decimal

import httpx
import openai
import pytest

from e2e.support import wait_for_spend


def test_non_streaming_completion_and_spend_row(client: openai.OpenAI, http: httpx.Client) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="fake-chat", messages=[{"role": "user", "content": "Say hello"}]
    )
    completion = raw.parse()
    assert completion.object == "chat.completion"
    assert completion.choices[0].message.role == "assistant"
    assert "fake upstream" in (completion.choices[0].message.content or "")
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.total_tokens == (
        completion.usage.prompt_tokens + completion.usage.completion_tokens
    )
    call_id = raw.headers["x-litellm-call-id"]
    uuid.UUID(call_id)
    cost = Decimal(raw.headers["x-litellm-response-cost"])
    expected = (
        Decimal("0.000001") * completion.usage.prompt_tokens + Decimal("0.000002") * completion.usage.completion_tokens
    )
    assert cost == expected
    assert float(raw.headers["x-litellm-overhead-duration-ms"]) >= 0
    assert raw.headers["x-litellm-model-group"] == "fake-chat"
    assert raw.headers["x-litellm-model-id"] == "fake-chat-1"

    rows = wait_for_spend(http, call_id)
    assert len(rows) == 1
    row = rows[0]
    assert row["status"] == "success"
    assert Decimal(str(row["spend"])) == cost
    assert row["prompt_tokens"] == completion.usage.prompt_tokens
    assert row["completion_tokens"] == completion.usage.completion_tokens
    assert row["model_group"] == "fake-chat" and row["model_id"] == "fake-chat-1"


def test_streaming_with_usage(client: openai.OpenAI, http: httpx.Client) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="fake-chat",
        messages=[{"role": "user", "content": "Stream please"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    call_id = raw.headers["x-litellm-call-id"]
    chunks = list(raw.parse())
    assert len({c.id for c in chunks}) == 1, "every chunk of one stream shares its id"
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello from the Switchyard fake upstream. This answer went through the whole gateway."
    assert chunks[0].choices[0].delta.role == "assistant"
    finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finish == ["stop"]
    usage_chunks = [c for c in chunks if c.usage is not None]
    assert len(usage_chunks) == 1 and usage_chunks[0] is chunks[-1]
    assert chunks[-1].choices == []
    usage = chunks[-1].usage
    assert usage.completion_tokens == 13
    assert all(c.usage is None for c in chunks[:-1])

    rows = wait_for_spend(http, call_id)
    assert rows[0]["status"] == "success" and rows[0]["stream"] is True
    assert rows[0]["completion_tokens"] == usage.completion_tokens
    assert Decimal(str(rows[0]["spend"])) == Decimal("0.000001") * usage.prompt_tokens + Decimal("0.000002") * 13


def test_streaming_without_usage_sends_no_usage_chunk(client: openai.OpenAI) -> None:
    chunks = list(
        client.chat.completions.create(model="fake-chat", messages=[{"role": "user", "content": "hi"}], stream=True)
    )
    assert chunks and all(c.usage is None for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_stream_is_valid_sse_ending_with_done(base_url: str, http: httpx.Client) -> None:
    with http.stream(
        "POST",
        "/v1/chat/completions",
        json={"model": "fake-chat", "stream": True, "messages": [{"role": "user", "content": "x"}]},
    ) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        body = resp.read().decode()
    events = [e for e in body.split("\n\n") if e]
    assert all(e.startswith("data: ") for e in events)
    assert events[-1] == "data: [DONE]"


@pytest.mark.parametrize("stream", [False, True])
def test_provider_rate_limit_headers_reach_the_client(http: httpx.Client, stream: bool) -> None:
    body = {"model": "fake-chat", "stream": stream, "messages": [{"role": "user", "content": "x"}]}
    with http.stream("POST", "/v1/chat/completions", json=body) as resp:
        assert resp.status_code == 200
        resp.read()
    assert resp.headers["x-ratelimit-remaining-requests"] == "9999"
    assert resp.headers["x-ratelimit-limit-tokens"] == "30000000"


def test_upstream_500_is_internal_server_error(client: openai.OpenAI, http: httpx.Client) -> None:
    with pytest.raises(openai.InternalServerError) as exc:
        client.chat.completions.create(model="always-500", messages=[{"role": "user", "content": "x"}])
    assert exc.value.status_code == 500
    body = exc.value.body
    assert isinstance(body, dict) and isinstance(body["code"], str)
    assert "fake upstream answers 500" in body["message"]
    # The failed attempt is recorded too.
    call_id = exc.value.response.headers["x-litellm-call-id"]
    rows = wait_for_spend(http, call_id)
    assert rows[0]["status"] == "failure" and rows[0]["http_status"] == 500


def test_upstream_429_is_rate_limit_error_with_retry_after(client: openai.OpenAI) -> None:
    with pytest.raises(openai.RateLimitError) as exc:
        client.chat.completions.create(model="always-429", messages=[{"role": "user", "content": "x"}])
    assert exc.value.status_code == 429
    assert exc.value.response.headers.get("retry-after") == "1"
    assert exc.value.body["code"] == "rate_limit_exceeded" or exc.value.body["code"] == "429"


def test_bad_key_is_authentication_error(base_url: str) -> None:
    bad = openai.OpenAI(base_url=f"{base_url}/v1", api_key="sk-not-a-real-key", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as exc:
        bad.chat.completions.create(model="fake-chat", messages=[{"role": "user", "content": "x"}])
    assert exc.value.status_code == 401
    assert exc.value.body["code"] == "401"
    assert "sk-not-a-real-key" not in exc.value.response.text


def test_missing_key_is_401(base_url: str) -> None:
    resp = httpx.post(
        f"{base_url}/v1/chat/completions", json={"model": "fake-chat", "messages": [{"role": "user", "content": "x"}]}
    )
    assert resp.status_code == 401
    assert resp.json()["error"]["type"] == "auth_error"


def test_unknown_model_is_400_with_param(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as exc:
        client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "x"}])
    assert exc.value.body["param"] == "model"


@pytest.mark.parametrize(
    "body, param",
    [
        ({"messages": [{"role": "user", "content": "x"}]}, "model"),
        ({"model": "fake-chat"}, "messages"),
        ({"model": "fake-chat", "messages": [{"role": "wizard", "content": "x"}]}, "messages[0]"),
        ({"model": "fake-chat", "messages": [{"role": "user", "content": "x"}], "temperature": "hot"}, "temperature"),
    ],
)
def test_bad_input_is_openai_400(http: httpx.Client, body: dict[str, object], param: str) -> None:
    resp = http.post("/v1/chat/completions", json=body)
    assert resp.status_code == 400
    err = resp.json()["error"]
    assert err["type"] == "invalid_request_error" and err["param"] == param and err["code"] == "400"


def test_invalid_json_is_400(http: httpx.Client) -> None:
    resp = http.post("/v1/chat/completions", content=b"{not json", headers={"content-type": "application/json"})
    assert resp.status_code == 400
    assert "not valid JSON" in resp.json()["error"]["message"]


def test_models_lists_config(client: openai.OpenAI) -> None:
    ids = {m.id for m in client.models.list()}
    assert {"fake-chat", "always-500", "always-429", "fake-embedding"} <= ids


def test_path_without_v1_and_tool_calls(base_url: str, http: httpx.Client) -> None:
    resp = http.post(
        "/chat/completions",
        json={
            "model": "fake-chat",
            "messages": [{"role": "user", "content": "weather?"}],
            "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}],
            "tool_choice": "required",
        },
    )
    assert resp.status_code == 200
    msg = resp.json()["choices"][0]["message"]
    assert msg["content"] is None
    assert msg["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": '{"value": 42}'}
    assert resp.json()["choices"][0]["finish_reason"] == "tool_calls"


def test_request_reaches_upstream_unchanged(client: openai.OpenAI, fake: httpx.Client) -> None:
    marker = f"marker-{uuid.uuid4()}"
    client.chat.completions.create(
        model="fake-chat",
        messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": marker}],
        temperature=0.25,
        max_tokens=33,
        seed=7,
        extra_body={"top_k": 5, "metadata": {"tags": ["a"]}},
    )
    sent = next(e for e in reversed(fake.get("/__log").json()) if marker in str(e["body"]))
    body = sent["body"]
    assert body["model"] == "fake-chat"
    assert body["messages"] == [{"role": "system", "content": "be brief"}, {"role": "user", "content": marker}]
    assert body["temperature"] == 0.25 and body["max_tokens"] == 33 and body["seed"] == 7
    assert body["top_k"] == 5, "provider-specific params pass through"
    assert "metadata" not in body, "gateway metadata is not forwarded"
    assert sent["headers"]["Authorization"] == "Bearer e2e-upstream-key-123456"


def test_embeddings(client: openai.OpenAI) -> None:
    resp = client.embeddings.create(model="fake-embedding", input=["a", "b"])
    assert [d.index for d in resp.data] == [0, 1]
    assert len(resp.data[0].embedding) == 8
    assert resp.usage.prompt_tokens == 2
