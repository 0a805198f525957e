"""Hostile or careless requests: none of them may stop billing, get around a budget or take a
model down for others."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import openai
import orjson
import pytest

from devstack import infra, stack
from e2e.support import wait_for_spend
from switchyard_fakes import anthropic_server


@pytest.fixture(scope="module")
def anthropic_fake(stack_cfg: stack.StackConfig) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"http://127.0.0.1:{stack_cfg.fake_port + 1}", timeout=10) as c:
        yield c


def test_a_stream_cut_by_the_client_is_charged_for_its_tool_call_arguments(
    http: httpx.Client, anthropic_fake: httpx.Client
) -> None:
    """Disconnecting mid-stream is no way around a budget: what was produced so far, tool-call
    arguments included, is charged (estimated from the streamed characters)."""
    args = '{"city": "' + "Paris, " * 200 + '"}'
    pieces = [args[i : i + 100] for i in range(0, len(args), 100)]
    frames = anthropic_server.stream_frames(
        [
            (
                {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {}},
                [{"type": "input_json_delta", "partial_json": p} for p in pieces],
            )
        ],
        "tool_use",
        10,
        500,
    )
    anthropic_fake.post(
        "/__script",
        json={
            "model": "*",
            "replies": [
                {
                    # Everything but the end arrives at once; the end comes too late for the client.
                    "frames": [f.decode() for f in frames[:-2]] + [" " * 10] * 200 + [f.decode() for f in frames[-2:]],
                    "frame_delay_s": 0.05,
                    "content_type": "text/event-stream",
                }
            ],
        },
    ).raise_for_status()
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    received = ""
    with http.stream(
        "POST",
        "/v1/chat/completions",
        json={
            "model": "anthropic-chat",
            "stream": True,
            "tools": tools,
            "messages": [{"role": "user", "content": "?"}],
        },
    ) as resp:
        assert resp.status_code == 200
        call_id = resp.headers["x-litellm-call-id"]
        for line in resp.iter_lines():
            if line.startswith("data: {"):
                for choice in orjson.loads(line[6:])["choices"]:
                    for tc in choice["delta"].get("tool_calls") or []:
                        received += tc["function"].get("arguments") or ""
            if len(received) >= len(args):
                break  # the client goes away before the stream ends
    assert received == args
    row = wait_for_spend(http, call_id)[0]
    assert row["status"] == "failure" and row["http_status"] == 499
    assert row["usage"]["completion_tokens"] >= len(args) // 4, row["usage"]
    assert float(row["spend"]) >= 0.000015 * (len(args) // 4)


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def test_a_huge_body_with_a_wrong_key_costs_almost_nothing(stack_cfg: stack.StackConfig, base_url: str) -> None:
    """Credentials are checked from the headers before the body is read: 30 MB of a million empty
    messages with a wrong key is a fast 401, and the edge never holds it in memory."""
    pid = stack._pid(stack_cfg, "edge")
    assert pid is not None
    before = _peak_rss_mb(pid)
    body = b'{"model": "fake-chat", "messages": [' + b",".join([b"{}"] * 10_000_000) + b"]}"
    assert len(body) > 29_000_000
    headers = {"Authorization": "Bearer sk-wrong-key-0000", "Content-Type": "application/json"}
    t0 = time.monotonic()
    resp = httpx.post(f"{base_url}/v1/chat/completions", content=body, headers=headers, timeout=30)
    elapsed = time.monotonic() - t0
    assert resp.status_code == 401, resp.text
    assert resp.json()["error"]["type"] == "auth_error"
    assert _peak_rss_mb(pid) - before < 50, "the body was never buffered"
    assert elapsed < 2.0, f"took {elapsed:.2f}s"


def test_body_limits_per_route_and_message_count(http: httpx.Client) -> None:
    big = "x" * (1024 * 1024 + 1)
    resp = http.post("/v1/images/generations", json={"model": "openai-image", "prompt": big})
    assert resp.status_code == 413, resp.text[:300]
    assert "larger than" in resp.json()["error"]["message"]
    resp = http.post("/key/generate", json={"metadata": {"x": big}})
    assert resp.status_code == 413 and "larger than" in resp.json()["detail"]
    many = [{"role": "user", "content": ""}] * 10_001
    resp = http.post("/v1/chat/completions", json={"model": "fake-chat", "messages": many})
    assert resp.status_code == 400 and resp.json()["error"]["param"] == "messages", resp.text
    nested = b"[" * 2000 + b"]" * 2000
    raw = b'{"model": "fake-chat", "messages": [{"role": "user", "content": "hi"}], "metadata": {"x": ' + nested + b"}}"
    resp = http.post("/v1/chat/completions", content=raw, headers={"Content-Type": "application/json"})
    assert resp.status_code == 400 and "depth" in resp.json()["error"]["message"], resp.text


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/spend/logs", {"limit": "99999999999999999999"}),
        ("/spend/logs", {"limit": "²"}),
        ("/spend/logs", {"start_date": "9999-12-31T23:59:59-14:00"}),
        ("/spend/logs", {"end_date": "0001-01-01T00:00:00+14:00"}),
        ("/spend/logs", {"page_token": "not-a-token-this-gateway-gave"}),
    ],
)
def test_out_of_range_query_values_are_400(http: httpx.Client, path: str, params: dict[str, str]) -> None:
    resp = http.get(path, params=params)
    assert resp.status_code == 400, resp.text
    assert "detail" in resp.json()


@pytest.mark.parametrize("tokens", [[18446744073709551615], [[1, 2], [-1]], [[2**40]]])
def test_out_of_range_token_ids_are_400(http: httpx.Client, tokens: list[object]) -> None:
    resp = http.post("/v1/embeddings", json={"model": "fake-embedding", "input": tokens})
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["param"] == "input"


def test_a_new_keys_budget_holds_from_its_first_request_while_kafka_is_down(
    stack_cfg: stack.StackConfig, base_url: str, http: httpx.Client
) -> None:
    """The identity event carrying a new key's limit cannot reach copilot-budget while Kafka is
    down; the key's first admission carries the limit itself, so the budget holds at once. The
    spend reported while events could not be delivered stays counted until they arrive."""
    budget = Decimal("0.0001")
    infra.stop(stack_cfg.infra, ["kafka"])
    costs: list[Decimal] = []
    call_ids: list[str] = []
    try:
        created = http.post("/key/generate", json={"max_budget": str(budget), "models": ["fake-chat"]})
        assert created.status_code == 200, created.text
        user = openai.OpenAI(base_url=f"{base_url}/v1", api_key=created.json()["key"], max_retries=0)
        refused = None
        for _ in range(15):
            try:
                raw = user.chat.completions.with_raw_response.create(
                    model="fake-chat", max_tokens=20, messages=[{"role": "user", "content": "count me"}]
                )
            except openai.RateLimitError as exc:
                refused = exc
                break
            costs.append(Decimal(raw.headers["x-litellm-response-cost"]))
            call_ids.append(raw.headers["x-litellm-call-id"])
        assert refused is not None, f"the budget was not enforced ({len(costs)} requests admitted)"
        assert refused.body["type"] == "budget_exceeded"
        assert costs and sum(costs) <= budget
    finally:
        infra.start(stack_cfg.infra, ["kafka"])
    for call_id in call_ids:
        wait_for_spend(http, call_id, timeout=90)
    key_info = httpx.get(
        f"{base_url}/key/info", headers={"Authorization": f"Bearer {created.json()['key']}"}, timeout=10
    ).json()["info"]
    assert Decimal(str(key_info["spend"])) == sum(costs)
    assert Decimal(str(key_info["max_budget"])) == budget


def test_a_request_cannot_ask_for_unbounded_retries(http: httpx.Client, fake: httpx.Client) -> None:
    """Every attempt is a provider call and a usage event: num_retries of a billion against a
    failing deployment would have kept one request retrying (and publishing) until its deadline."""
    resp = http.post(
        "/v1/chat/completions",
        json={"model": "always-500", "num_retries": 1_000_000_000, "messages": [{"role": "user", "content": "x"}]},
    )
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["param"] == "num_retries"
