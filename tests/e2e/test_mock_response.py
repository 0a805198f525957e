"""LiteLLM's ``mock_response``: a mocked call travels the pipeline (key, limits, budget, usage
event) but never reaches a provider and costs 0; the mock controls Switchyard does not mock are
refused by name rather than dropped (a dropped one would send the "test" call upstream)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import httpx
import openai
import pytest

from e2e.support import MASTER_KEY, wait_for_spend


def _upstream_saw(fake: httpx.Client, marker: str) -> bool:
    return marker in fake.get("/__log").text


def test_a_mocked_chat_answers_with_the_mock_and_never_reaches_the_provider(
    client: openai.OpenAI, http: httpx.Client, fake: httpx.Client
) -> None:
    marker = f"mock-{uuid.uuid4()}"
    raw = client.chat.completions.with_raw_response.create(
        model="fake-chat",
        messages=[{"role": "user", "content": marker}],
        extra_body={"mock_response": "This is a mock answer."},
    )
    answer = raw.parse()
    assert answer.choices[0].message.content == "This is a mock answer."
    assert answer.choices[0].finish_reason == "stop" and answer.usage is not None
    assert Decimal(raw.headers["x-litellm-response-cost"]) == 0
    [row] = wait_for_spend(http, raw.headers["x-litellm-call-id"], timeout=15)
    assert Decimal(str(row["spend"])) == 0 and row["status"] == "success"
    assert not _upstream_saw(fake, marker)


def test_a_mocked_stream_replays_the_mock_as_a_stream(client: openai.OpenAI, fake: httpx.Client) -> None:
    marker = f"mock-{uuid.uuid4()}"
    chunks = list(
        client.chat.completions.create(
            model="fake-chat",
            messages=[{"role": "user", "content": marker}],
            stream=True,
            stream_options={"include_usage": True},
            extra_body={"mock_response": "streamed mock"},
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "streamed mock"
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    assert chunks[-1].usage is not None
    assert not _upstream_saw(fake, marker)


def test_a_mocked_messages_api_call_is_answered_in_its_dialect(base_url: str, fake: httpx.Client) -> None:
    marker = f"mock-{uuid.uuid4()}"
    resp = httpx.post(
        f"{base_url}/v1/messages",
        json={
            "model": "fake-chat",
            "max_tokens": 50,
            "messages": [{"role": "user", "content": marker}],
            "mock_response": "mocked in Claude's shape",
        },
        headers={"x-api-key": MASTER_KEY},
        timeout=30,
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["content"][0]["text"] == "mocked in Claude's shape"
    assert not _upstream_saw(fake, marker)


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"mock_testing_rate_limit_error": True}, "mock_testing_rate_limit_error"),
        ({"mock_testing_context_fallbacks": True}, "mock_testing_context_fallbacks"),
        ({"mock_timeout": True}, "mock_timeout"),
        ({"mock_response": "litellm.RateLimitError"}, "mock_response"),
        ({"mock_response": {"choices": []}}, "mock_response"),
    ],
)
def test_mock_controls_not_mocked_are_refused_by_name(
    client: openai.OpenAI, fake: httpx.Client, extra: dict[str, Any], param: str
) -> None:
    marker = f"mock-{uuid.uuid4()}"
    with pytest.raises(openai.BadRequestError) as exc:
        client.chat.completions.create(
            model="fake-chat", messages=[{"role": "user", "content": marker}], extra_body=extra
        )
    err = exc.value.body
    assert isinstance(err, dict) and err["param"] == param and param in err["message"]
    assert not _upstream_saw(fake, marker)


def test_a_mocked_embedding_is_refused_not_sent(client: openai.OpenAI, fake: httpx.Client) -> None:
    marker = f"mock-{uuid.uuid4()}"
    with pytest.raises(openai.BadRequestError) as exc:
        client.embeddings.create(model="fake-embedding", input=marker, extra_body={"mock_response": "x"})
    assert isinstance(exc.value.body, dict) and exc.value.body["param"] == "mock_response"
    assert not _upstream_saw(fake, marker)
