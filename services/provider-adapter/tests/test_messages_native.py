"""Anthropic Messages API requests sent natively to Claude deployments (Anthropic, Bedrock's
InvokeModel, Vertex's rawPredict): the client's body goes out with only the carrier's changes,
the provider's answer and events come back as it sent them, usage and cost are read on the way."""

from __future__ import annotations

import base64
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from harness import Adapter, adapter

from switchyard.llm.v1 import chat_pb2, deployment_pb2, error_pb2, messages_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard.provider.v1 import provider_pb2
from switchyard_fakes import anthropic_server as fake_anthropic
from switchyard_fakes import bedrock_server as fake_bedrock
from switchyard_fakes.base import Reply, Running
from switchyard_provider_adapter.clients.google_auth import AccessToken
from switchyard_provider_adapter.domain.providers.base import CallContext
from switchyard_provider_adapter.domain.providers.gemini.provider import VertexProvider

CLAUDE = "claude-sonnet-4-5-20250929"
BEDROCK_CLAUDE = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
INPUT, OUTPUT, CACHE_READ, CACHE_WRITE = Decimal("0.000003"), Decimal("0.000015"), Decimal("3e-7"), Decimal("3.75e-6")

BODY: dict[str, Any] = {
    "model": "client-name",
    "max_tokens": 300,
    "system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
    "messages": [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Paris"}},
                {"type": "text", "text": "Interleaved text after the call."},
            ],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "18C", "is_error": False}],
        },
    ],
    "tools": [{"name": "weather", "input_schema": {"type": "object"}}, {"type": "web_search_20250305", "name": "ws"}],
    "metadata": {"user_id": "u-1"},
}


def _native(body: dict[str, Any], beta: str = "") -> messages_pb2.AnthropicMessagesRequest:
    return messages_pb2.AnthropicMessagesRequest(body_json=orjson.dumps(body), beta=beta)


async def _call(ad: Adapter, name: str, body: dict[str, Any], beta: str = "") -> provider_pb2.ChatResponse:
    req = provider_pb2.ChatRequest(
        deployment=ad.deployment(name),
        request=chat_pb2.ChatCompletionRequest(model=name),
        call_id="c-1",
        anthropic_messages=_native(body, beta),
    )
    return await ad.stub.Chat(req, timeout=30)


async def _stream(ad: Adapter, name: str, body: dict[str, Any]) -> list[provider_pb2.ChatStreamResponse]:
    req = provider_pb2.ChatStreamRequest(
        deployment=ad.deployment(name),
        request=chat_pb2.ChatCompletionRequest(model=name, stream=True),
        call_id="c-1",
        anthropic_messages=_native({**body, "stream": True}),
    )
    return [m async for m in ad.stub.ChatStream(req, timeout=30)]


def _priced(name: str, params: dict[str, Any]) -> dict[str, Any]:
    return {
        "model_name": name,
        "litellm_params": params,
        "model_info": {
            "id": f"{name}-1",
            "input_cost_per_token": float(INPUT),
            "output_cost_per_token": float(OUTPUT),
            "cache_read_input_token_cost": float(CACHE_READ),
            "cache_creation_input_token_cost": float(CACHE_WRITE),
        },
    }


# --- Anthropic -------------------------------------------------------------------------------


@pytest.fixture
async def anthropic() -> Any:
    async with Running(fake_anthropic.create_app()) as running:
        yield running


@pytest.fixture
async def ad(anthropic: Running, tmp_path: Path) -> Any:
    params = {"model": f"anthropic/{CLAUDE}", "api_base": anthropic.url, "api_key": fake_anthropic.DEFAULT_API_KEY}
    async with adapter(tmp_path, [_priced("claude", params)]) as a:
        yield a


async def test_the_clients_body_goes_out_as_it_is_but_for_the_model(ad: Adapter, anthropic: Running) -> None:
    resp = await _call(ad, "claude", BODY, beta="interleaved-thinking-2025-05-14, token-efficient-tools-2025-02-19")
    assert resp.WhichOneof("result") == "anthropic_message_json", resp.error
    sent = anthropic.state.last
    assert sent.path == "/v1/messages"
    assert sent.json() == {**BODY, "model": CLAUDE}
    assert sent.header("anthropic-beta") == "interleaved-thinking-2025-05-14, token-efficient-tools-2025-02-19"
    assert sent.header("x-api-key") == fake_anthropic.DEFAULT_API_KEY
    assert sent.header("anthropic-version") == "2023-06-01"


async def test_the_answer_comes_back_byte_for_byte_with_usage_and_cost(ad: Adapter, anthropic: Running) -> None:
    answer = fake_anthropic.message(
        [
            {"type": "thinking", "thinking": "Hmm.", "signature": "sig"},
            {"type": "text", "text": "One."},
            {"type": "tool_use", "id": "toolu_2", "name": "weather", "input": {"city": "Rome"}},
            {"type": "text", "text": "Two."},
        ],
        "tool_use",
        fake_anthropic.usage(100, 20, cache_read=1000, cache_write=50),
    )
    raw = orjson.dumps(answer)
    anthropic.state.script("*", Reply(body=raw))
    resp = await _call(ad, "claude", BODY)
    assert resp.anthropic_message_json == raw
    u = resp.usage
    assert (u.prompt_tokens, u.completion_tokens) == (1150, 20)
    assert u.prompt_tokens_details.cached_tokens == 1000 and u.prompt_tokens_details.cache_creation_tokens == 50
    assert Decimal(resp.stats.cost_usd) == 100 * INPUT + 1000 * CACHE_READ + 50 * CACHE_WRITE + 20 * OUTPUT


async def test_an_overloaded_anthropic_is_unavailable_not_a_bug(ad: Adapter, anthropic: Running) -> None:
    anthropic.state.script("*", fake_anthropic.error_reply(529, "overloaded_error", "Overloaded"))
    resp = await _call(ad, "claude", BODY)
    assert resp.error.kind == ErrorKind.ERROR_KIND_SERVICE_UNAVAILABLE and "Overloaded" in resp.error.message


async def test_the_stream_is_passed_on_event_by_event(ad: Adapter, anthropic: Running) -> None:
    blocks = [
        (
            {"type": "thinking", "thinking": "", "signature": ""},
            [{"type": "thinking_delta", "thinking": "Let me see."}, {"type": "signature_delta", "signature": "s1"}],
        ),
        ({"type": "text", "text": ""}, [{"type": "text_delta", "text": "Hi"}, {"type": "text_delta", "text": "!"}]),
        (
            {"type": "tool_use", "id": "toolu_3", "name": "weather", "input": {}},
            [
                {"type": "input_json_delta", "partial_json": '{"city": '},
                {"type": "input_json_delta", "partial_json": '"Oslo"}'},
            ],
        ),
    ]
    frames = fake_anthropic.stream_frames(blocks, "tool_use", 40, 17, cache_read=8)
    anthropic.state.script("*", Reply(frames=frames, content_type="text/event-stream"))
    msgs = await _stream(ad, "claude", BODY)
    assert anthropic.state.last.json()["stream"] is True
    events = [m.anthropic_event for m in msgs if m.WhichOneof("event") == "anthropic_event"]
    # Every frame's data, unchanged and in order.
    sent = [f.split(b"data: ", 1)[1].rstrip(b"\n") for f in frames]
    assert [e.data_json for e in events] == sent
    assert [e.type for e in events][:3] == ["message_start", "ping", "content_block_start"]
    assert sum(e.output_chars for e in events) == len("Let me see.Hi!") + len('{"city": "Oslo"}')
    end = msgs[-1]
    assert end.WhichOneof("event") == "end"
    assert (end.end.usage.prompt_tokens, end.end.usage.completion_tokens) == (48, 17)
    assert Decimal(end.end.stats.cost_usd) == 40 * INPUT + 8 * CACHE_READ + 17 * OUTPUT
    # The rate-limit headers of the provider travel with the first event.
    assert msgs[0].WhichOneof("event") == "anthropic_event"


async def test_an_error_event_ends_the_stream_with_its_usage(ad: Adapter, anthropic: Running) -> None:
    frames = fake_anthropic.stream_frames(
        [({"type": "text", "text": ""}, [{"type": "text_delta", "text": "Part"}])], "end_turn", 9, 1
    )
    frames = [
        *frames[:4],
        b'event: error\ndata: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}\n\n',
    ]
    anthropic.state.script("*", Reply(frames=frames, content_type="text/event-stream"))
    msgs = await _stream(ad, "claude", BODY)
    assert [m.WhichOneof("event") for m in msgs] == ["anthropic_event"] * 4 + ["error"]
    assert msgs[-1].error.kind == ErrorKind.ERROR_KIND_SERVICE_UNAVAILABLE
    assert msgs[-1].usage.prompt_tokens == 9


async def test_tokens_are_counted_by_anthropic(ad: Adapter, anthropic: Running) -> None:
    body = {"model": "x", "messages": [{"role": "user", "content": "one two three"}]}
    req = provider_pb2.CountTokensRequest(deployment=ad.deployment("claude"), anthropic_messages=_native(body))
    resp = await ad.stub.CountTokens(req, timeout=30)
    assert resp.WhichOneof("result") == "input_tokens" and resp.input_tokens == 3
    assert anthropic.state.last.path == "/v1/messages/count_tokens"
    assert anthropic.state.last.json() == {**body, "model": CLAUDE}


async def test_a_body_that_is_not_an_object_is_a_bad_request(ad: Adapter) -> None:
    req = provider_pb2.ChatRequest(
        deployment=ad.deployment("claude"),
        request=chat_pb2.ChatCompletionRequest(model="claude"),
        anthropic_messages=messages_pb2.AnthropicMessagesRequest(body_json=b"[1]"),
    )
    resp = await ad.stub.Chat(req, timeout=30)
    assert resp.error.kind == ErrorKind.ERROR_KIND_BAD_REQUEST and resp.error.source == error_pb2.FAILURE_SOURCE_REQUEST


# --- Bedrock (InvokeModel) -------------------------------------------------------------------


@pytest.fixture
async def bedrock() -> Any:
    async with Running(fake_bedrock.create_app()) as running:
        yield running


@pytest.fixture
async def bad(bedrock: Running, tmp_path: Path) -> Any:
    params = {
        "model": f"bedrock/{BEDROCK_CLAUDE}",
        "api_base": bedrock.url,
        "aws_access_key_id": fake_bedrock.ACCESS_KEY_ID,
        "aws_secret_access_key": fake_bedrock.SECRET_ACCESS_KEY,
        "aws_region_name": fake_bedrock.REGION,
    }
    async with adapter(tmp_path, [_priced("bedrock-claude", params)]) as a:
        yield a


async def test_bedrock_gets_the_body_through_invoke_model(bad: Adapter, bedrock: Running) -> None:
    resp = await _call(bad, "bedrock-claude", BODY, beta="interleaved-thinking-2025-05-14")
    assert resp.WhichOneof("result") == "anthropic_message_json", resp.error
    sent = bedrock.state.last
    assert sent.path == f"/model/{BEDROCK_CLAUDE}/invoke"
    expected = {k: v for k, v in BODY.items() if k != "model"}
    assert sent.json() == {
        **expected,
        "anthropic_version": "bedrock-2023-05-31",
        "anthropic_beta": ["interleaved-thinking-2025-05-14"],
    }
    answer = orjson.loads(resp.anthropic_message_json)
    assert answer["content"] == [{"type": "text", "text": fake_anthropic.REPLY}]
    assert resp.usage.completion_tokens == len(fake_anthropic.REPLY.split())
    assert Decimal(resp.stats.cost_usd) > 0


async def test_bedrock_streams_the_events_it_wraps(bad: Adapter, bedrock: Running) -> None:
    body = {**BODY, "thinking": {"type": "enabled", "budget_tokens": 1024}}
    msgs = await _stream(bad, "bedrock-claude", body)
    assert bedrock.state.last.path == f"/model/{BEDROCK_CLAUDE}/invoke-with-response-stream"
    assert "stream" not in bedrock.state.last.json()
    events = [m.anthropic_event for m in msgs if m.WhichOneof("event") == "anthropic_event"]
    types = [e.type for e in events]
    assert types[0] == "message_start" and types[-1] == "message_stop"
    deltas = [orjson.loads(e.data_json)["delta"]["type"] for e in events if e.type == "content_block_delta"]
    assert {"thinking_delta", "signature_delta", "text_delta"} <= set(deltas)
    assert msgs[-1].WhichOneof("event") == "end"
    assert msgs[-1].end.usage.completion_tokens == len(fake_anthropic.REPLY.split())


async def test_bedrock_counts_tokens_of_the_invoke_body(bad: Adapter, bedrock: Running) -> None:
    body = {"model": "x", "messages": [{"role": "user", "content": "one two three four"}]}
    req = provider_pb2.CountTokensRequest(deployment=bad.deployment("bedrock-claude"), anthropic_messages=_native(body))
    resp = await bad.stub.CountTokens(req, timeout=30)
    assert resp.WhichOneof("result") == "input_tokens", resp.error
    assert resp.input_tokens == 4
    sent = bedrock.state.last
    assert sent.path == f"/model/{BEDROCK_CLAUDE}/count-tokens"
    inner = orjson.loads(base64.b64decode(sent.json()["input"]["invokeModel"]["body"]))
    assert inner == {"messages": body["messages"], "anthropic_version": "bedrock-2023-05-31", "max_tokens": 1}


# --- Vertex AI (rawPredict) ------------------------------------------------------------------


class _Tokens:
    async def token(self, provider: str, credentials: str, scopes: tuple[str, ...]) -> AccessToken:
        return AccessToken("vertex-token", 0.0, "proj-1")

    def invalidate(self, credentials: str) -> None:
        return None


async def test_vertex_gets_the_body_through_raw_predict() -> None:
    provider = VertexProvider(_Tokens())
    dep = deployment_pb2.Deployment(id="d", provider="vertex_ai", model="claude-sonnet-4-5@20250929")
    ctx = CallContext(dep, {"vertex_credentials": "{}"}, {"vertex_location": "europe-west1"}, "c")
    call = await provider.messages_call(ctx, _native(BODY, beta="context-1m-2025-08-07"), stream=True)
    assert call.url == (
        "https://europe-west1-aiplatform.googleapis.com/v1/projects/proj-1/locations/europe-west1/"
        "publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict"
    )
    assert call.body is not None
    expected = {k: v for k, v in BODY.items() if k != "model"}
    assert orjson.loads(call.body) == {**expected, "stream": True, "anthropic_version": "vertex-2023-10-16"}
    assert call.headers["authorization"] == "Bearer vertex-token"
    assert call.headers["anthropic-beta"] == "context-1m-2025-08-07"
    count = await provider.count_tokens_call(ctx, _native({"model": "x", "messages": BODY["messages"]}))
    assert count.url.endswith("/publishers/anthropic/models/count-tokens:rawPredict")
    assert count.body is not None and orjson.loads(count.body)["model"] == "claude-sonnet-4-5@20250929"
