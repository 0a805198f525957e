"""Virtual keys and budgets: admission by reservation, settlement through Kafka, exactly once."""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import openai
import pytest
from aiokafka import AIOKafkaProducer

from devstack import infra, stack
from e2e.support import wait_for_spend
from switchyard.events.v1 import usage_pb2


def test_key_lifecycle(http: httpx.Client, base_url: str) -> None:
    resp = http.post(
        "/key/generate",
        json={"key_alias": f"alias-{uuid.uuid4()}", "models": ["fake-chat"], "metadata": {"team": "qa"}},
    )
    assert resp.status_code == 200, resp.text
    key = resp.json()["key"]
    assert key.startswith("sk-") and resp.json()["token"] != key
    user = openai.OpenAI(base_url=f"{base_url}/v1", api_key=key, max_retries=0)
    assert user.chat.completions.create(model="fake-chat", messages=[{"role": "user", "content": "hi"}]).choices
    with pytest.raises(openai.PermissionDeniedError):
        user.chat.completions.create(model="always-500", messages=[{"role": "user", "content": "hi"}])
    assert {m.id for m in user.models.list()} == {"fake-chat"}
    info = httpx.get(f"{base_url}/key/info", headers={"Authorization": f"Bearer {key}"})
    assert info.status_code == 200 and info.json()["info"]["models"] == ["fake-chat"]
    # A key cannot manage keys.
    assert (
        httpx.post(f"{base_url}/key/generate", json={}, headers={"Authorization": f"Bearer {key}"}).status_code == 403
    )
    deleted = http.post("/key/delete", json={"keys": [key]})
    assert deleted.status_code == 200 and deleted.json()["deleted_keys"] == [resp.json()["token"]]
    with pytest.raises(openai.AuthenticationError):
        user.chat.completions.create(model="fake-chat", messages=[{"role": "user", "content": "hi"}])


def test_management_bad_input_is_detail_400(http: httpx.Client) -> None:
    resp = http.post("/key/generate", json={"max_budget": "lots"})
    assert resp.status_code == 400 and "max_budget" in resp.json()["detail"]
    resp = http.post("/key/generate", json={"duration": "forever"})
    assert resp.status_code == 400 and "duration" in resp.json()["detail"]
    resp = http.get("/spend/logs", params={"start_date": "yesterday"})
    assert resp.status_code == 400


def test_budget_is_enforced_and_spend_settles(http: httpx.Client, base_url: str) -> None:
    max_budget = Decimal("0.0001")
    key = http.post("/key/generate", json={"max_budget": str(max_budget)}).json()["key"]
    user = openai.OpenAI(base_url=f"{base_url}/v1", api_key=key, max_retries=0)
    spent = Decimal(0)
    refused = None
    for _ in range(10):
        try:
            raw = user.chat.completions.with_raw_response.create(
                model="fake-chat", max_tokens=20, messages=[{"role": "user", "content": "count me"}]
            )
        except openai.RateLimitError as exc:
            refused = exc
            break
        rows = wait_for_spend(http, raw.headers["x-litellm-call-id"])
        spent += Decimal(str(rows[0]["spend"]))
    assert refused is not None, "the budget was never enforced"
    assert refused.body["type"] == "budget_exceeded"
    assert 0 < spent <= max_budget
    info = httpx.get(f"{base_url}/key/info", headers={"Authorization": f"Bearer {key}"}).json()["info"]
    assert Decimal(str(info["spend"])) == spent and Decimal(str(info["max_budget"])) == max_budget


def _exhaust(client: openai.OpenAI, http: httpx.Client) -> openai.RateLimitError:
    for _ in range(10):
        try:
            raw = client.chat.completions.with_raw_response.create(
                model="fake-chat", max_tokens=20, messages=[{"role": "user", "content": "count me"}]
            )
        except openai.RateLimitError as exc:
            return exc
        wait_for_spend(http, raw.headers["x-litellm-call-id"])
    raise AssertionError("the budget was never enforced")


def test_budget_duration_restarts_the_budget(http: httpx.Client, base_url: str) -> None:
    key = http.post("/key/generate", json={"max_budget": "0.0001", "budget_duration": "8s"}).json()["key"]
    user = openai.OpenAI(base_url=f"{base_url}/v1", api_key=key, max_retries=0)
    assert _exhaust(user, http).body["type"] == "budget_exceeded"
    info = httpx.get(f"{base_url}/key/info", headers={"Authorization": f"Bearer {key}"}).json()["info"]
    assert info["budget_duration"] == "8s" and Decimal(str(info["spend"])) > 0
    reset_at = datetime.fromisoformat(info["budget_reset_at"])
    assert 0 < (reset_at - datetime.now(UTC)).total_seconds() <= 8
    # Once in-flight holds are settled the key stays refused for the rest of the window, then
    # the window restarts and the same request is admitted again, with the spend back at zero.
    time.sleep(1.0)
    refused_after = 0
    deadline = time.monotonic() + 25
    while True:
        try:
            user.chat.completions.create(
                model="fake-chat", max_tokens=20, messages=[{"role": "user", "content": "count me"}]
            )
            break
        except openai.RateLimitError:
            refused_after += 1
            assert time.monotonic() < deadline, "the budget window never restarted"
            time.sleep(0.5)
    assert refused_after > 0
    assert datetime.now(UTC) >= reset_at
    info = httpx.get(f"{base_url}/key/info", headers={"Authorization": f"Bearer {key}"}).json()["info"]
    assert datetime.fromisoformat(info["budget_reset_at"]) > reset_at


def test_replayed_usage_event_changes_nothing(
    client: openai.OpenAI, http: httpx.Client, stack_cfg: stack.StackConfig
) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="fake-chat", messages=[{"role": "user", "content": "once"}]
    )
    call_id = raw.headers["x-litellm-call-id"]
    before = wait_for_spend(http, call_id)
    replay = usage_pb2.UsageEvent(
        event_id=f"{call_id}:0",
        request_id=call_id,
        attempt=0,
        account_id="default",
        success=True,
        cost_usd="123.45",
        call_type="chat.completions",
        final=True,
    )

    async def publish() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=infra.urls(stack_cfg.infra)["KAFKA_BOOTSTRAP_SERVERS"])
        await producer.start()
        try:
            await producer.send_and_wait("usage", replay.SerializeToString(), key=b"default")
        finally:
            await producer.stop()

    asyncio.run(publish())
    # A later request's row arriving proves the consumer has passed the replayed event.
    later = client.chat.completions.with_raw_response.create(
        model="fake-chat", messages=[{"role": "user", "content": "after"}]
    )
    wait_for_spend(http, later.headers["x-litellm-call-id"])
    after = wait_for_spend(http, call_id)
    assert after == before


def test_trace_id_travels_http_to_kafka(client: openai.OpenAI, http: httpx.Client) -> None:
    trace_id = uuid.uuid4().hex
    raw = client.chat.completions.with_raw_response.create(
        model="fake-chat",
        messages=[{"role": "user", "content": "traced"}],
        extra_headers={"traceparent": f"00-{trace_id}-{'1' * 16}-01"},
    )
    rows = wait_for_spend(http, raw.headers["x-litellm-call-id"])
    assert rows[0]["trace_id"] == trace_id


def test_key_sees_only_its_own_spend(http: httpx.Client, base_url: str, client: openai.OpenAI) -> None:
    key = http.post("/key/generate", json={}).json()["key"]
    user = openai.OpenAI(base_url=f"{base_url}/v1", api_key=key, max_retries=0)
    mine = user.chat.completions.with_raw_response.create(
        model="fake-chat", messages=[{"role": "user", "content": "m"}]
    )
    theirs = client.chat.completions.with_raw_response.create(
        model="fake-chat", messages=[{"role": "user", "content": "t"}]
    )
    wait_for_spend(http, mine.headers["x-litellm-call-id"])
    wait_for_spend(http, theirs.headers["x-litellm-call-id"])
    as_key = httpx.get(f"{base_url}/spend/logs", headers={"Authorization": f"Bearer {key}"}).json()
    ids = {r["request_id"] for r in as_key}
    assert mine.headers["x-litellm-call-id"] in ids
    assert theirs.headers["x-litellm-call-id"] not in ids


def test_key_rate_limits_answer_429_with_retry_after(http: httpx.Client, base_url: str, fake: httpx.Client) -> None:
    def client_for(**limits: int) -> openai.OpenAI:
        key = http.post("/key/generate", json=limits).json()["key"]
        return openai.OpenAI(base_url=f"{base_url}/v1", api_key=key, max_retries=0)

    def ask(c: openai.OpenAI) -> None:
        c.chat.completions.create(model="fake-chat", max_tokens=5, messages=[{"role": "user", "content": "hi"}])

    limited = client_for(rpm_limit=2)
    ask(limited)
    ask(limited)
    with pytest.raises(openai.RateLimitError) as exc:
        ask(limited)
    assert "rpm_limit 2" in exc.value.message
    assert 1 <= int(exc.value.response.headers["retry-after"]) <= 60
    assert exc.value.body["type"] == "rate_limit_error" and exc.value.body["code"] == "429"

    # One request in flight at a time: a second one while the first (slowed upstream) runs is
    # refused; once it is done the key is admitted again.
    single = client_for(max_parallel_requests=1)
    fake.post("/__script", json={"model": "fake-chat", "responses": [{"delay_ms": 2000}]}).raise_for_status()
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        slow = pool.submit(ask, single)
        time.sleep(0.7)
        with pytest.raises(openai.RateLimitError) as exc:
            ask(single)
        assert "max_parallel_requests 1" in exc.value.message
        slow.result(timeout=10)
    ask(single)
