"""Anthropic (Messages API) through the scenario suite, plus its own quirks."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from harness import Adapter, adapter, assemble, chunks_of, end_of, unary_message
from scenarios import INPUT_PRICE, JSON_SCHEMA, OUTPUT_PRICE, PNG_B64, TOOLS, ChatScenarios

from switchyard.llm.v1 import error_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_fakes import anthropic_server as fake_anthropic
from switchyard_fakes.base import Recorded, Reply, Running

MODEL = "claude-sonnet-4-5-20250929"

_ERRORS: dict[str, tuple[int, str, str, dict[str, str]]] = {
    "auth": (401, "authentication_error", "invalid x-api-key", {}),
    "permission": (403, "permission_error", "Your API key does not have permission to use the specified resource.", {}),
    "not_found": (404, "not_found_error", "model: claude-9", {}),
    "bad_request": (400, "invalid_request_error", "messages: roles must alternate", {}),
    "context_window": (400, "invalid_request_error", "prompt is too long: 208310 tokens > 200000 maximum", {}),
    "content_policy": (400, "invalid_request_error", "Output blocked by content filtering policy", {}),
    "rate_limit": (
        429,
        "rate_limit_error",
        "This request would exceed the rate limit for your organization of 50 requests per minute.",
        {"retry-after": "12"},
    ),
    "server": (500, "api_error", "Internal server error", {}),
}


def _tool_blocks(calls: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    return [{"type": "tool_use", "id": i, "name": n, "input": json.loads(a)} for i, n, a in calls]


class TestAnthropic(ChatScenarios):
    # Anthropic has no `seed`; the suite sends one in the sampling scenario, so its deployment
    # drops unsupported params (the 400 without drop_params is tested below).
    suite_params: dict[str, Any] = {"drop_params": True}

    def fake_app(self) -> web.Application:
        return fake_anthropic.create_app(api_key=self.api_key)

    def litellm_params(self, base_url: str) -> dict[str, Any]:
        return {"model": f"anthropic/{MODEL}", "api_base": base_url, "api_key": self.api_key, **self.suite_params}

    def reply_text(self, text: str, prompt_tokens: int, completion_tokens: int) -> Reply:
        return Reply(body=fake_anthropic.text_message(text, prompt_tokens, completion_tokens))

    def reply_tool_calls(self, calls: list[tuple[str, str, str]]) -> Reply:
        return Reply(
            body=fake_anthropic.message(
                [{"type": "text", "text": "Let me check."}, *_tool_blocks(calls)],
                "tool_use",
                fake_anthropic.usage(30, 12),
            )
        )

    def stream_text(self, pieces: list[str], prompt_tokens: int, completion_tokens: int) -> Reply:
        return fake_anthropic.stream_text(pieces, prompt_tokens, completion_tokens)

    def stream_tool_calls(self, calls: list[tuple[str, str, list[str]]]) -> Reply:
        blocks: list[tuple[dict[str, Any], list[dict[str, Any]]]] = [
            ({"type": "text", "text": ""}, [{"type": "text_delta", "text": "Checking both."}])
        ]
        for cid, name, pieces in calls:
            blocks.append(
                (
                    {"type": "tool_use", "id": cid, "name": name, "input": {}},
                    [{"type": "input_json_delta", "partial_json": ""}]
                    + [{"type": "input_json_delta", "partial_json": p} for p in pieces],
                )
            )
        frames = fake_anthropic.stream_frames(blocks, "tool_use", 30, 20)
        return Reply(frames=frames, content_type="text/event-stream")

    def reply_error(self, name: str) -> Reply:
        status, etype, message, headers = _ERRORS[name]
        return fake_anthropic.error_reply(status, etype, message, headers)

    def reply_cached_usage(self, prompt: int, completion: int, cache_read: int, cache_write: int) -> Reply:
        u = fake_anthropic.usage(prompt - cache_read - cache_write, completion, cache_read, cache_write)
        return Reply(body=fake_anthropic.message([{"type": "text", "text": "cached"}], u=u))

    # --- what the adapter sent ----------------------------------------------------------
    def check_plain(self, rec: Recorded) -> None:
        assert rec.method == "POST" and rec.path == "/v1/messages"
        assert rec.header("x-api-key") == self.api_key
        assert rec.header("anthropic-version") == "2023-06-01"
        assert rec.header("authorization") is None
        assert rec.json() == {
            "model": MODEL,
            "max_tokens": 8192,
            "messages": [{"role": "user", "content": [{"type": "text", "text": "Say hi"}]}],
        }

    def check_system(self, rec: Recorded) -> None:
        body = rec.json()
        assert body["system"] == "You are terse."
        assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "Say hi"}]}]

    def check_sampling(self, rec: Recorded) -> None:
        body = rec.json()
        assert {k: body.get(k) for k in ("temperature", "top_p", "max_tokens", "stop_sequences", "metadata")} == {
            "temperature": 0.5,
            "top_p": 0.9,
            "max_tokens": 77,
            "stop_sequences": ["END"],
            "metadata": {"user_id": "user-7"},
        }
        assert "seed" not in body and "stop" not in body and "user" not in body

    def check_tool_history(self, rec: Recorded) -> None:
        body = rec.json()
        assert body["messages"] == [
            {"role": "user", "content": [{"type": "text", "text": "Weather in Paris?"}]},
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}}],
            },
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_1", "content": "18C and sunny"}]},
        ]
        assert body["tools"] == [
            {
                "name": "get_weather",
                "description": "Weather for a city",
                "input_schema": TOOLS[0]["function"]["parameters"],
            }
        ]

    def check_forced_tool(self, rec: Recorded) -> None:
        assert rec.json()["tool_choice"] == {"type": "tool", "name": "get_weather"}

    def check_json_schema(self, rec: Recorded) -> None:
        body = rec.json()
        assert body["output_config"] == {
            "format": {"type": "json_schema", "schema": JSON_SCHEMA["json_schema"]["schema"]}
        }
        assert "tools" not in body and "response_format" not in body

    def check_image(self, rec: Recorded) -> None:
        assert rec.json()["messages"] == [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is in these images?"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG_B64}},
                ],
            }
        ]

    def check_stream(self, rec: Recorded) -> None:
        body = rec.json()
        assert body["stream"] is True and "stream_options" not in body
        assert rec.header("accept") == "text/event-stream"


# --- Anthropic-specific behaviour ---------------------------------------------------------

KEY = TestAnthropic.api_key


def _model_list(base_url: str, model: str = MODEL, **params: Any) -> list[dict[str, Any]]:
    return [
        {
            "model_name": "claude",
            "litellm_params": {"model": f"anthropic/{model}", "api_base": base_url, "api_key": KEY, **params},
            "model_info": {
                "id": "claude-1",
                "input_cost_per_token": float(INPUT_PRICE),
                "output_cost_per_token": float(OUTPUT_PRICE),
            },
        }
    ]


@pytest.fixture
async def fake() -> Any:
    async with Running(fake_anthropic.create_app(api_key=KEY)) as running:
        yield running


@pytest.fixture
async def ad(fake: Running, tmp_path: Path) -> Any:
    async with adapter(tmp_path, _model_list(fake.url)) as a:
        yield a


async def test_unsupported_param_without_drop_params_names_it(ad: Adapter, fake: Running) -> None:
    resp = await ad.chat("claude", {"messages": [{"role": "user", "content": "hi"}], "seed": 7})
    assert resp.error.kind == ErrorKind.ERROR_KIND_UNSUPPORTED_PARAMS and resp.error.http_status == 400
    assert resp.error.param == "seed" and "seed" in resp.error.message
    assert fake.state.requests == [], "nothing is sent upstream"


async def test_request_drop_params_drops_it(ad: Adapter, fake: Running) -> None:
    fake.state.script("*", Reply(body=fake_anthropic.text_message("ok", 3, 1)))
    resp = await ad.chat(
        "claude",
        {"messages": [{"role": "user", "content": "hi"}], "seed": 7, "logprobs": True, "drop_params": True},
    )
    assert resp.WhichOneof("result") == "completion", resp.error
    assert "seed" not in fake.state.last.json() and "logprobs" not in fake.state.last.json()


async def test_wrong_key_is_an_authentication_error(fake: Running, tmp_path: Path) -> None:
    models = _model_list(fake.url)
    models[0]["litellm_params"]["api_key"] = "sk-ant-wrong-key-000000"
    async with adapter(tmp_path, models) as a:
        resp = await a.chat("claude", {"messages": [{"role": "user", "content": "hi"}]})
    assert resp.error.kind == ErrorKind.ERROR_KIND_AUTHENTICATION and resp.error.http_status == 401
    assert "invalid x-api-key" in resp.error.message and "sk-ant-wrong" not in resp.error.message


async def test_overloaded_529_is_a_retryable_503(ad: Adapter, fake: Running) -> None:
    """Anthropic's 529 overloaded_error is unavailability, as a 503 is: OpenAI clients get a 503,
    Messages API clients Anthropic's own 529 overloaded_error."""
    fake.state.script("*", fake_anthropic.error_reply(529, "overloaded_error", "Overloaded"))
    resp = await ad.chat("claude", {"messages": [{"role": "user", "content": "hi"}]})
    assert resp.error.kind == ErrorKind.ERROR_KIND_SERVICE_UNAVAILABLE and resp.error.http_status == 503
    assert "Overloaded" in resp.error.message


async def test_error_event_mid_stream_ends_with_typed_error_and_partial_usage(ad: Adapter, fake: Running) -> None:
    frames = fake_anthropic.stream_frames(
        [({"type": "text", "text": ""}, [{"type": "text_delta", "text": "Part"}])], "end_turn", 9, 1
    )
    # Cut after the text delta and fail the way Anthropic does mid-stream.
    frames = [
        *frames[:4],
        b'event: error\ndata: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}\n\n',
    ]
    fake.state.script("*", Reply(frames=frames, content_type="text/event-stream"))
    msgs = await ad.stream("claude", {"messages": [{"role": "user", "content": "hi"}]})
    assert assemble(chunks_of(msgs))["message"]["content"] == "Part"
    last = msgs[-1]
    assert last.WhichOneof("event") == "error"
    assert last.error.kind == ErrorKind.ERROR_KIND_SERVICE_UNAVAILABLE and "Overloaded" in last.error.message
    assert last.usage.prompt_tokens == 9


async def test_params_mapping(ad: Adapter, fake: Running) -> None:
    fake.state.script("*", Reply(body=fake_anthropic.text_message("ok", 3, 1)))
    resp = await ad.chat(
        "claude",
        {
            "messages": [
                {"role": "system", "content": "Rule one."},
                {"role": "developer", "content": "Rule two."},
                {"role": "user", "content": "hi"},
            ],
            "max_completion_tokens": 300,
            "stop": "STOP",
            "tools": TOOLS,
            "tool_choice": "required",
            "parallel_tool_calls": False,
            "top_k": 5,
            "extra_headers": {"anthropic-beta": "context-1m-2025-08-07", "x-api-key": "client-must-not-set-this"},
        },
    )
    assert resp.WhichOneof("result") == "completion", resp.error
    rec = fake.state.last
    body = rec.json()
    assert body["system"] == "Rule one.\n\nRule two."
    assert body["max_tokens"] == 300
    assert body["stop_sequences"] == ["STOP"]
    assert body["tool_choice"] == {"type": "any", "disable_parallel_tool_use": True}
    assert body["top_k"] == 5, "provider-specific params pass through"
    assert "extra_headers" not in body
    assert rec.header("anthropic-beta") == "context-1m-2025-08-07"
    assert rec.header("x-api-key") == KEY


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("auto", {"type": "auto"}),
        ("none", {"type": "none"}),
        ("required", {"type": "any"}),
        ({"type": "function", "function": {"name": "get_weather"}}, {"type": "tool", "name": "get_weather"}),
    ],
)
async def test_tool_choice_mapping(ad: Adapter, fake: Running, choice: Any, expected: dict[str, Any]) -> None:
    fake.state.script("*", Reply(body=fake_anthropic.text_message("ok", 3, 1)))
    resp = await ad.chat(
        "claude", {"messages": [{"role": "user", "content": "hi"}], "tools": TOOLS, "tool_choice": choice}
    )
    assert resp.WhichOneof("result") == "completion", resp.error
    assert fake.state.last.json()["tool_choice"] == expected


async def test_consecutive_tool_results_merge_into_one_user_turn(ad: Adapter, fake: Running) -> None:
    fake.state.script("*", Reply(body=fake_anthropic.text_message("ok", 3, 1)))
    history = [
        {"role": "user", "content": "Paris and Rome?"},
        {
            "role": "assistant",
            "content": "Checking.",
            "tool_calls": [
                {
                    "id": "toolu_a",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                },
                {
                    "id": "toolu_b",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Rome"}'},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "toolu_a", "content": "18C"},
        {"role": "tool", "tool_call_id": "toolu_b", "content": [{"type": "text", "text": "21C"}]},
        {"role": "user", "content": "Which is warmer?"},
    ]
    resp = await ad.chat("claude", {"messages": history, "tools": TOOLS})
    assert resp.WhichOneof("result") == "completion", resp.error
    msgs = fake.state.last.json()["messages"]
    assert [m["role"] for m in msgs] == ["user", "assistant", "user"]
    assert msgs[1]["content"] == [
        {"type": "text", "text": "Checking."},
        {"type": "tool_use", "id": "toolu_a", "name": "get_weather", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "toolu_b", "name": "get_weather", "input": {"city": "Rome"}},
    ]
    assert msgs[2]["content"] == [
        {"type": "tool_result", "tool_use_id": "toolu_a", "content": "18C"},
        {"type": "tool_result", "tool_use_id": "toolu_b", "content": [{"type": "text", "text": "21C"}]},
        {"type": "text", "text": "Which is warmer?"},
    ]


async def test_image_url_and_cache_control_pass_through(ad: Adapter, fake: Running) -> None:
    fake.state.script("*", Reply(body=fake_anthropic.text_message("ok", 3, 1)))
    cc = {"type": "ephemeral"}
    resp = await ad.chat(
        "claude",
        {
            "messages": [
                {"role": "system", "content": [{"type": "text", "text": "Long policy.", "cache_control": cc}]},
                {
                    "role": "user",
                    "content": [
                        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
                        {"type": "text", "text": "Describe", "cache_control": cc},
                    ],
                },
            ],
            "tools": [{**TOOLS[0], "cache_control": cc}],
        },
    )
    assert resp.WhichOneof("result") == "completion", resp.error
    body = fake.state.last.json()
    assert body["system"] == [{"type": "text", "text": "Long policy.", "cache_control": cc}]
    assert body["messages"][0]["content"] == [
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
        {"type": "text", "text": "Describe", "cache_control": cc},
    ]
    assert body["tools"][0]["cache_control"] == cc


async def test_json_schema_on_older_model_is_a_forced_tool_unwrapped_into_content(
    fake: Running, tmp_path: Path
) -> None:
    schema = JSON_SCHEMA["json_schema"]["schema"]
    tool_answer = fake_anthropic.message(
        [{"type": "tool_use", "id": "toolu_j", "name": "json_tool_call", "input": {"answer": "42"}}], "tool_use"
    )
    frames = fake_anthropic.stream_frames(
        [
            (
                {"type": "tool_use", "id": "toolu_j", "name": "json_tool_call", "input": {}},
                [{"type": "input_json_delta", "partial_json": p} for p in ['{"answer"', ': "42"}']],
            )
        ],
        "tool_use",
        20,
        6,
    )
    fake.state.script("*", Reply(body=tool_answer), Reply(frames=frames, content_type="text/event-stream"))
    body = {"messages": [{"role": "user", "content": "Answer in JSON"}], "response_format": JSON_SCHEMA}
    async with adapter(tmp_path, _model_list(fake.url, model="claude-3-5-haiku-20241022")) as a:
        unary = await a.chat("claude", body)
        sent = fake.state.last.json()
        streamed = await a.stream("claude", body)
    assert sent["tool_choice"] == {"type": "tool", "name": "json_tool_call"}
    assert sent["tools"][0]["name"] == "json_tool_call" and sent["tools"][0]["input_schema"] == schema
    assert sent["max_tokens"] == 8192
    assert "output_config" not in sent
    msg = unary.completion.choices[0]
    assert json.loads(msg.message.text) == {"answer": "42"} and not msg.message.tool_calls
    assert msg.finish_reason == "stop"
    got = assemble(chunks_of(streamed))
    assert json.loads(got["message"]["content"]) == {"answer": "42"}
    assert "tool_calls" not in got["message"] and got["finish_reason"] == "stop"


async def test_default_max_tokens_per_model_family(fake: Running, tmp_path: Path) -> None:
    fake.state.script("*", Reply(body=fake_anthropic.text_message("ok", 3, 1)))
    async with adapter(tmp_path, _model_list(fake.url, model="claude-3-haiku-20240307")) as a:
        await a.chat("claude", {"messages": [{"role": "user", "content": "hi"}]})
    assert fake.state.last.json()["max_tokens"] == 4096


async def test_thinking_blocks_become_reasoning_content_and_go_back_with_signatures(ad: Adapter, fake: Running) -> None:
    # The fake checks that a thinking block comes back with the signature it was given.
    sig = fake_anthropic.signature_of("Paris is in France.")
    answer = fake_anthropic.message(
        [
            {"type": "thinking", "thinking": "Paris is in France.", "signature": sig},
            {"type": "redacted_thinking", "data": "enc-xyz"},
            {"type": "text", "text": "Calling the tool."},
            {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
        ],
        "tool_use",
    )
    fake.state.script("*", Reply(body=answer), Reply(body=fake_anthropic.text_message("18C", 5, 2)))
    first = await ad.chat(
        "claude",
        {"messages": [{"role": "user", "content": "Weather in Paris?"}], "tools": TOOLS, "reasoning_effort": "medium"},
    )
    sent = fake.state.last.json()
    assert sent["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert sent["max_tokens"] > 2048
    msg = unary_message(first)["message"]
    assert msg["reasoning_content"] == "Paris is in France."
    from switchyard_llm.openai_codec.messages import message_to_json

    full = message_to_json(first.completion.choices[0].message)
    assert full["thinking_blocks"] == [
        {"type": "thinking", "thinking": "Paris is in France.", "signature": sig},
        {"type": "redacted_thinking", "data": "enc-xyz"},
    ]
    # The client sends the assistant turn back as it got it (LiteLLM's thinking_blocks field).
    history = [
        {"role": "user", "content": "Weather in Paris?"},
        full,
        {"role": "tool", "tool_call_id": "toolu_1", "content": "18C"},
    ]
    second = await ad.chat("claude", {"messages": history, "tools": TOOLS, "reasoning_effort": "medium"})
    assert second.WhichOneof("result") == "completion", second.error
    assistant = fake.state.last.json()["messages"][1]
    assert assistant["content"][:2] == [
        {"type": "thinking", "thinking": "Paris is in France.", "signature": sig},
        {"type": "redacted_thinking", "data": "enc-xyz"},
    ]
    assert assistant["content"][3]["type"] == "tool_use"


async def test_thinking_fits_under_a_token_cap_that_leaves_no_room_for_its_budget(ad: Adapter, fake: Running) -> None:
    # The gateway sends budgeted requests with max_tokens 4096; "high" thinks 4096 tokens, and
    # Claude wants budget_tokens < max_tokens.
    fake.state.script("*", Reply(body=fake_anthropic.text_message("ok", 3, 1)))
    resp = await ad.chat(
        "claude", {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 4096, "reasoning_effort": "high"}
    )
    assert resp.WhichOneof("result") == "completion", resp.error
    sent = fake.state.last.json()
    assert sent["max_tokens"] == 4096 and sent["thinking"] == {"type": "enabled", "budget_tokens": 3072}


async def test_streamed_thinking_is_reasoning_content_with_signature(ad: Adapter, fake: Running) -> None:
    frames = fake_anthropic.stream_frames(
        [
            (
                {"type": "thinking", "thinking": "", "signature": ""},
                [
                    {"type": "thinking_delta", "thinking": "Let me "},
                    {"type": "thinking_delta", "thinking": "think."},
                    {"type": "signature_delta", "signature": "sig-123"},
                ],
            ),
            ({"type": "text", "text": ""}, [{"type": "text_delta", "text": "Done."}]),
        ],
        "end_turn",
        12,
        30,
    )
    fake.state.script("*", Reply(frames=frames, content_type="text/event-stream"))
    msgs = await ad.stream("claude", {"messages": [{"role": "user", "content": "hi"}], "reasoning_effort": "low"})
    chunks = chunks_of(msgs)
    got = assemble(chunks)
    assert got["message"]["reasoning_content"] == "Let me think." and got["message"]["content"] == "Done."
    sigs = [
        json.loads(ch.delta.extra_json)["thinking_blocks"][0]["signature"]
        for c in chunks
        for ch in c.choices
        if ch.delta.extra_json
    ]
    assert sigs == ["sig-123"]
    assert end_of(msgs).usage.completion_tokens == 30


async def test_streamed_usage_with_cache_tokens_costs_the_same_as_unary(fake: Running, tmp_path: Path) -> None:
    models = _model_list(fake.url)
    models[0]["model_info"].update(
        {"cache_read_input_token_cost": 0.0000003, "cache_creation_input_token_cost": 0.00000375}
    )
    u = fake_anthropic.usage(100, 7, cache_read=600, cache_write=200)
    frames = fake_anthropic.stream_frames(
        [({"type": "text", "text": ""}, [{"type": "text_delta", "text": "cached"}])],
        "end_turn",
        100,
        7,
        cache_read=600,
        cache_write=200,
    )
    fake.state.script(
        "*",
        Reply(body=fake_anthropic.message([{"type": "text", "text": "cached"}], u=u)),
        Reply(frames=frames, content_type="text/event-stream"),
    )
    body = {"messages": [{"role": "user", "content": "hi"}]}
    async with adapter(tmp_path, models) as a:
        unary = await a.chat("claude", body)
        streamed = await a.stream("claude", body)
    end = end_of(streamed)
    assert (end.usage.prompt_tokens, end.usage.prompt_tokens_details.cached_tokens) == (900, 600)
    assert end.usage.prompt_tokens_details.cache_creation_tokens == 200
    assert end.usage == unary.completion.usage
    assert end.stats.cost_usd == unary.stats.cost_usd
    expected = 100 * INPUT_PRICE + 600 * Decimal("0.0000003") + 200 * Decimal("0.00000375") + 7 * OUTPUT_PRICE
    assert Decimal(unary.stats.cost_usd) == expected


async def test_max_tokens_stop_reason_is_length(ad: Adapter, fake: Running) -> None:
    fake.state.script(
        "*",
        Reply(
            body=fake_anthropic.message([{"type": "text", "text": "trunc"}], "max_tokens", fake_anthropic.usage(3, 5))
        ),
    )
    resp = await ad.chat("claude", {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 5})
    assert resp.completion.choices[0].finish_reason == "length"


async def test_audio_input_is_unsupported(ad: Adapter, fake: Running) -> None:
    resp = await ad.chat(
        "claude",
        {
            "messages": [
                {"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}}]}
            ]
        },
    )
    assert resp.error.kind == ErrorKind.ERROR_KIND_UNSUPPORTED_PARAMS and fake.state.requests == []


async def test_rate_limit_headers_keep_their_names_and_get_openai_ones(ad: Adapter, fake: Running) -> None:
    headers = {
        "anthropic-ratelimit-requests-limit": "50",
        "anthropic-ratelimit-requests-remaining": "49",
        "anthropic-ratelimit-requests-reset": "2026-11-26T03:00:05Z",
        "anthropic-ratelimit-tokens-remaining": "39000",
        "anthropic-ratelimit-input-tokens-remaining": "30000",
    }
    fake.state.script("*", Reply(body=fake_anthropic.text_message("ok", 3, 1), headers=headers))
    resp = await ad.chat("claude", {"messages": [{"role": "user", "content": "hi"}]})
    assert resp.WhichOneof("result") == "completion", resp.error
    assert dict(resp.stats.rate_limit_headers) == {
        **headers,
        "x-ratelimit-limit-requests": "50",
        "x-ratelimit-remaining-requests": "49",
        "x-ratelimit-reset-requests": "2026-11-26T03:00:05Z",
        "x-ratelimit-remaining-tokens": "39000",
    }
    # Streamed answers carry them with their first chunk.
    fake.state.script("*", dataclasses.replace(fake_anthropic.stream_text(["o", "k"], 3, 1), headers=headers))
    msgs = await ad.stream("claude", {"messages": [{"role": "user", "content": "hi"}]})
    assert msgs[0].WhichOneof("event") == "chunk"
    assert msgs[0].stats.rate_limit_headers["x-ratelimit-remaining-requests"] == "49"
    assert not any(m.stats.rate_limit_headers for m in msgs[1:-1]), "only the first chunk carries them"


async def test_a_header_value_the_http_client_refuses_is_the_requests_fault(ad: Adapter, fake: Running) -> None:
    """A client's anthropic-beta with a line break cannot be sent: a 400 that names the cause and
    is marked as the request's fault (it must not cool the deployment down for everyone)."""
    before = len(fake.state.requests)
    body = {"messages": [{"role": "user", "content": "hi"}], "extra_headers": {"anthropic-beta": "a\r\nx-evil: 1"}}
    resp = await ad.chat("claude", body)
    assert resp.WhichOneof("result") == "error"
    assert (resp.error.kind, resp.error.http_status) == (ErrorKind.ERROR_KIND_BAD_REQUEST, 400), resp.error
    assert resp.error.source == error_pb2.FAILURE_SOURCE_REQUEST
    assert "could not be sent" in resp.error.message
    stream = await ad.stream("claude", body)
    assert stream[-1].error.source == error_pb2.FAILURE_SOURCE_REQUEST, stream[-1]
    assert len(fake.state.requests) == before, "nothing reached the provider"


async def test_a_request_refused_before_sending_names_its_provider(ad: Adapter, fake: Running) -> None:
    # As every other provider's refusals do (Bedrock's, Gemini's...): the error says whose rule it is.
    image = {"type": "image_url", "image_url": {"url": "ftp://example.com/cat.png"}}
    resp = await ad.chat("claude", {"messages": [{"role": "user", "content": [image]}]})
    assert (resp.error.kind, resp.error.http_status, resp.error.param) == (
        ErrorKind.ERROR_KIND_BAD_REQUEST,
        400,
        "messages",
    )
    assert resp.error.provider == "anthropic" and resp.error.message.startswith("anthropic: ")
    assert fake.state.requests == [], "nothing is sent upstream"


async def test_a_json_answer_is_the_json_without_the_words_around_it(fake: Running, tmp_path: Path) -> None:
    # Text Claude writes beside the forced JSON tool is not part of a JSON answer (as on Bedrock):
    # the client asked for JSON and parses the content.
    answer = fake_anthropic.message(
        [
            {"type": "text", "text": "Here is the JSON:"},
            {"type": "tool_use", "id": "toolu_j", "name": "json_tool_call", "input": {"answer": "42"}},
        ],
        "tool_use",
    )
    fake.state.script("*", Reply(body=answer))
    body = {"messages": [{"role": "user", "content": "Answer in JSON"}], "response_format": JSON_SCHEMA}
    async with adapter(tmp_path, _model_list(fake.url, model="claude-3-5-haiku-20241022")) as a:
        resp = await a.chat("claude", body)
    assert resp.WhichOneof("result") == "completion", resp.error
    choice = resp.completion.choices[0]
    assert json.loads(choice.message.text) == {"answer": "42"}
    assert choice.finish_reason == "stop" and not choice.message.tool_calls
