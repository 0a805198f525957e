"""Hostile or careless requests: none of them may stop billing, get around a budget or take a
model down for others."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import orjson
import pytest

from devstack import stack
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
