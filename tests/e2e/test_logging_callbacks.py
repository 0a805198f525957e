"""LiteLLM's logging callbacks (``success_callback: ["langfuse", "generic_api"]``), delivered by
the callbacks service from the usage topic: each receiver gets one record per answered request,
in its own wire format; with the receivers away requests are unaffected, and the records arrive
once they are back."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from e2e.conftest import LANGFUSE_PORT, WEBHOOK_PORT
from switchyard_fakes import langfuse_server


@pytest.fixture(scope="module")
def langfuse() -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"http://127.0.0.1:{LANGFUSE_PORT}", timeout=10) as c:
        yield c


@pytest.fixture(scope="module")
def webhook() -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"http://127.0.0.1:{WEBHOOK_PORT}", timeout=10) as c:
        yield c


def _generations(langfuse: httpx.Client, call_id: str) -> list[dict[str, Any]]:
    """The generations Langfuse accepted for the request."""
    return [
        e
        for e in langfuse.get("/__received").json()
        if e["type"] == "generation-create" and e["body"]["traceId"] == call_id
    ]


def _webhook_records(webhook: httpx.Client, call_id: str) -> list[dict[str, Any]]:
    """The records the webhook accepted for the request, with the headers they came with."""
    return [r for r in webhook.get("/__received").json() if r["record"].get("id") == call_id]


def _await(cond: Any, what: str, timeout: float = 30.0) -> None:
    """Poll until the delivery is seen (it travels edge → Kafka → callbacks → receiver)."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not delivered within {timeout}s")
        time.sleep(0.1)


def _chat(client: openai.OpenAI) -> str:
    raw = client.chat.completions.with_raw_response.create(
        model="fake-chat", messages=[{"role": "user", "content": "log me"}], user="cb-user", extra_body={"tags": ["cb"]}
    )
    assert raw.http_response.status_code == 200
    return str(raw.headers["x-litellm-call-id"])


def test_each_receiver_gets_one_record_per_request_in_its_format(
    client: openai.OpenAI, langfuse: httpx.Client, webhook: httpx.Client
) -> None:
    call_ids = [_chat(client) for _ in range(3)]
    for call_id in call_ids:
        _await(lambda c=call_id: _generations(langfuse, c) and _webhook_records(webhook, c), f"records of {call_id}")
        assert len(_generations(langfuse, call_id)) == 1 and len(_webhook_records(webhook, call_id)) == 1
    for call_id in call_ids:
        [generation] = _generations(langfuse, call_id)
        [received] = _webhook_records(webhook, call_id)
        record = received["record"]
        assert received["headers"].get("Authorization") == "e2e-webhook-token-not-secret"
        assert received["headers"].get("Idempotency-Key") == f"{call_id}:0"
        assert generation["body"]["model"] == "fake-chat" and generation["body"]["usage"]["total"] > 0
        assert record["status"] == "success" and record["model_group"] == "fake-chat"
        assert record["end_user"] == "cb-user" and record["request_tags"] == ["cb"] and record["total_tokens"] > 0
    sent = [r for r in langfuse.get("/__log").json() if r["path"] == "/api/public/ingestion"]
    token = base64.b64encode(f"{langfuse_server.PUBLIC_KEY}:{langfuse_server.SECRET_KEY}".encode()).decode()
    assert {r["headers"].get("Authorization") for r in sent} == {f"Basic {token}"}


def test_receivers_away_do_not_touch_requests_and_lose_nothing(
    client: openai.OpenAI, langfuse: httpx.Client, webhook: httpx.Client
) -> None:
    def attempts() -> int:
        return sum(r["path"] == "/api/public/ingestion" for r in langfuse.get("/__log").json())

    before = attempts()
    for receiver in (langfuse, webhook):
        receiver.post("/__down", json={"down": True}).raise_for_status()
    try:
        t0 = time.monotonic()
        call_ids = [_chat(client) for _ in range(3)]
        assert time.monotonic() - t0 < 5.0
        # The service keeps trying: the receivers see the attempts, and take nothing yet.
        _await(lambda: attempts() > before, "a delivery attempt")
        assert not any(_generations(langfuse, c) or _webhook_records(webhook, c) for c in call_ids)
    finally:
        for receiver in (langfuse, webhook):
            receiver.post("/__down", json={"down": False}).raise_for_status()
    for call_id in call_ids:
        _await(lambda c=call_id: _generations(langfuse, c) and _webhook_records(webhook, c), f"records of {call_id}")
        assert len(_generations(langfuse, call_id)) == 1 and len(_webhook_records(webhook, call_id)) == 1


def test_a_mocked_answer_is_marked_and_free_in_its_usage_event(client: openai.OpenAI, webhook: httpx.Client) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="fake-chat", messages=[{"role": "user", "content": "hi"}], extra_body={"mock_response": "mocked"}
    )
    call_id = raw.headers["x-litellm-call-id"]
    _await(lambda: _webhook_records(webhook, call_id), f"the record of {call_id}")
    [received] = _webhook_records(webhook, call_id)
    assert received["record"]["hidden_params"]["mock_response"] is True
    assert received["record"]["response_cost"] == 0
