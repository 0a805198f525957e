"""The Anthropic Messages API (``/v1/messages``, ``/v1/messages/count_tokens``) with the official
``anthropic`` SDK, through the whole stack: to an OpenAI-compatible deployment (``fake-chat``,
translated both ways), to an Anthropic deployment (``anthropic-chat``, the client's body sent as it
is) and to Claude on Bedrock (``bedrock-chat``, natively through InvokeModel); what each provider
fake received, usage rows under ``anthropic_messages`` with their cost, errors as the SDK's own
exception classes, budgets and the gRPC Gateway API."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import anthropic
import grpc
import httpx
import orjson
import pytest

from devstack import stack
from e2e.support import MASTER_KEY, wait_for_spend
from switchyard.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from switchyard.llm.v1 import error_pb2, messages_pb2
from switchyard_fakes import anthropic_server as fake_anthropic
from switchyard_fakes import openai_server as fake_openai

OPENAI_PRICES = (Decimal("0.000001"), Decimal("0.000002"))
ANTHROPIC_PRICES = (Decimal("0.000003"), Decimal("0.000015"))
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
PDF = "JVBERi0xLjQKJcTl8uXrp/Og0MTGCjEgMCBvYmoKPDwvVHlwZSAvQ2F0YWxvZz4+CmVuZG9iagp0cmFpbGVyCjw8Pj4KJSVFT0YK"
WEATHER = {
    "name": "get_weather",
    "description": "The weather in a city.",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


@pytest.fixture(scope="module")
def claude(base_url: str) -> anthropic.Anthropic:
    # max_retries=0: the SDK must see the gateway's first answer, not retry it away.
    return anthropic.Anthropic(base_url=base_url, api_key=MASTER_KEY, max_retries=0, timeout=30)


@pytest.fixture(scope="module")
def anthropic_fake(stack_cfg: stack.StackConfig) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"http://127.0.0.1:{stack_cfg.fake_port + 1}", timeout=10) as c:
        yield c


@pytest.fixture(scope="module")
def bedrock_fake(stack_cfg: stack.StackConfig) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"http://127.0.0.1:{stack_cfg.fake_port + 3}", timeout=10) as c:
        yield c


def _sent(fake: httpx.Client, marker: str) -> dict[str, Any]:
    """The request a provider fake received whose body holds ``marker``."""
    return next(e for e in reversed(fake.get("/__log").json()) if marker in orjson.dumps(e["body"]).decode())


def _cost(usage: Any, prices: tuple[Decimal, Decimal]) -> Decimal:
    cached = (usage.cache_read_input_tokens or 0) + (usage.cache_creation_input_tokens or 0)
    return prices[0] * (usage.input_tokens + cached) + prices[1] * usage.output_tokens


# --- text, both ways --------------------------------------------------------------------------


def test_openai_deployment_answers_a_message(
    claude: anthropic.Anthropic, fake: httpx.Client, http: httpx.Client
) -> None:
    marker = uuid.uuid4().hex
    raw = claude.messages.with_raw_response.create(
        model="fake-chat",
        max_tokens=100,
        system="Be brief.",
        messages=[{"role": "user", "content": f"Say hello {marker}"}],
        stop_sequences=["STOP"],
        metadata={"user_id": "end-user-7"},
    )
    msg = raw.parse()
    assert msg.type == "message" and msg.role == "assistant"
    assert [b.type for b in msg.content] == ["text"] and msg.content[0].text == fake_openai.REPLY
    assert msg.stop_reason == "end_turn"
    sent = _sent(fake, marker)["body"]
    assert sent["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": f"Say hello {marker}"},
    ]
    assert sent["max_tokens"] == 100 and sent["stop"] == ["STOP"] and sent["user"] == "end-user-7"
    cost = Decimal(raw.headers["x-litellm-response-cost"])
    assert cost == _cost(msg.usage, OPENAI_PRICES)
    (row,) = wait_for_spend(http, raw.headers["x-litellm-call-id"])
    assert row["call_type"] == "anthropic_messages" and row["status"] == "success"
    assert Decimal(str(row["spend"])) == cost and row["user"] == "end-user-7"


def test_anthropic_deployment_gets_the_body_as_it_is(
    claude: anthropic.Anthropic, anthropic_fake: httpx.Client, http: httpx.Client
) -> None:
    marker = uuid.uuid4().hex
    messages = [
        {"role": "user", "content": [{"type": "text", "text": f"Hello {marker}"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "Hi."}]},
        {"role": "user", "content": "Again?"},
    ]
    raw = claude.messages.with_raw_response.create(
        model="anthropic-chat",
        max_tokens=64,
        messages=messages,
        stop_sequences=["\n\nHuman:"],
        metadata={"user_id": "end-user-8"},
        extra_headers={"anthropic-beta": "token-efficient-tools-2025-02-19"},
        extra_body={"top_k": 3},
    )
    msg = raw.parse()
    assert msg.id.startswith("msg_fake") and msg.content[0].text == fake_anthropic.REPLY
    sent = _sent(anthropic_fake, marker)
    assert sent["body"] == {
        "model": "claude-sonnet-4-5-20250929",
        "max_tokens": 64,
        "messages": messages,
        "stop_sequences": ["\n\nHuman:"],
        "top_k": 3,
        "metadata": {"user_id": "end-user-8"},
    }
    assert sent["headers"]["anthropic-beta"] == "token-efficient-tools-2025-02-19"
    cost = Decimal(raw.headers["x-litellm-response-cost"])
    assert cost == _cost(msg.usage, ANTHROPIC_PRICES)
    (row,) = wait_for_spend(http, raw.headers["x-litellm-call-id"])
    assert row["call_type"] == "anthropic_messages" and Decimal(str(row["spend"])) == cost
    assert row["model_id"] == "anthropic-chat-1"


@pytest.mark.parametrize("model", ["fake-chat", "anthropic-chat", "bedrock-chat"])
def test_streaming_is_anthropics_event_sequence(claude: anthropic.Anthropic, http: httpx.Client, model: str) -> None:
    with claude.messages.stream(
        model=model, max_tokens=100, messages=[{"role": "user", "content": "Stream please"}]
    ) as stream:
        events = list(stream)
        final = stream.get_final_message()
        call_id = stream.response.headers["x-litellm-call-id"]
    types = [e.type for e in events]
    assert types[0] == "message_start" and types[-1] == "message_stop"
    assert {"content_block_start", "content_block_stop", "message_delta"} <= set(types)
    assert len([e for e in events if e.type == "text"]) > 1, "streamed piece by piece"
    reply = fake_openai.REPLY if model == "fake-chat" else fake_anthropic.REPLY
    assert final.content[0].text == reply
    assert final.stop_reason == "end_turn" and final.usage.output_tokens > 0 and final.usage.input_tokens > 0
    (row,) = wait_for_spend(http, call_id)
    assert row["call_type"] == "anthropic_messages" and row["stream"] is True and Decimal(str(row["spend"])) > 0


def test_the_raw_stream_has_pings_and_event_names(base_url: str) -> None:
    body = {"model": "fake-chat", "max_tokens": 50, "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    with httpx.stream(
        "POST", f"{base_url}/v1/messages", json=body, headers={"x-api-key": MASTER_KEY}, timeout=30
    ) as resp:
        assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in resp.iter_lines() if line]
    names = [line.removeprefix("event: ") for line in lines if line.startswith("event: ")]
    assert names[:2] == ["message_start", "ping"] and names[-2:] == ["message_delta", "message_stop"]
    assert len(names) == len([line for line in lines if line.startswith("data: ")])


# --- tools ------------------------------------------------------------------------------------


def test_parallel_tool_round_trip_through_an_openai_deployment(claude: anthropic.Anthropic, fake: httpx.Client) -> None:
    marker = uuid.uuid4().hex
    calls = [
        {"name": "get_weather", "arguments": '{"city": "Paris"}'},
        {"name": "get_weather", "arguments": '{"city": "Rome"}'},
    ]
    fake.post("/__script", json={"model": "fake-chat", "responses": [{"tool_calls": calls}]})
    first = claude.messages.create(
        model="fake-chat",
        max_tokens=100,
        tools=[WEATHER],
        messages=[{"role": "user", "content": f"Weather in Paris and Rome? {marker}"}],
    )
    assert first.stop_reason == "tool_use"
    uses = [b for b in first.content if b.type == "tool_use"]
    assert [(u.name, u.input) for u in uses] == [("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Rome"})]
    sent = _sent(fake, marker)["body"]
    assert sent["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "The weather in a city.",
                "parameters": WEATHER["input_schema"],
            },
        }
    ]
    results = [
        {"type": "tool_result", "tool_use_id": uses[0].id, "content": "18C"},
        {"type": "tool_result", "tool_use_id": uses[1].id, "content": "city unknown", "is_error": True},
    ]
    second = claude.messages.create(
        model="fake-chat",
        max_tokens=100,
        tools=[WEATHER],
        messages=[
            {"role": "user", "content": f"Weather in Paris and Rome? {marker}"},
            {"role": "assistant", "content": first.content},
            {"role": "user", "content": results},
        ],
    )
    assert second.stop_reason == "end_turn" and second.content[0].text == fake_openai.REPLY
    history = _sent(fake, marker)["body"]["messages"]
    assert [m["role"] for m in history] == ["user", "assistant", "tool", "tool"]
    assert [tc["id"] for tc in history[1]["tool_calls"]] == [u.id for u in uses]
    assert [(m["tool_call_id"], m["content"]) for m in history[2:]] == [
        (uses[0].id, "18C"),
        (uses[1].id, "city unknown"),
    ]


def test_streamed_tool_use_through_an_openai_deployment(claude: anthropic.Anthropic, fake: httpx.Client) -> None:
    fake.post(
        "/__script",
        json={
            "model": "fake-chat",
            "responses": [{"chunks": [], "tool_calls": [{"name": "get_weather", "arguments": '{"city": "Oslo"}'}]}],
        },
    )
    with claude.messages.stream(
        model="fake-chat",
        max_tokens=100,
        tools=[WEATHER],
        messages=[{"role": "user", "content": "Weather in Oslo?"}],
    ) as stream:
        deltas = [e.type for e in stream if e.type == "input_json"]
        final = stream.get_final_message()
    assert len(deltas) > 1, "arguments streamed as input_json_delta"
    (use,) = final.content
    assert use.type == "tool_use" and use.input == {"city": "Oslo"} and final.stop_reason == "tool_use"


def test_tool_round_trip_with_an_anthropic_deployment_keeps_every_block(
    claude: anthropic.Anthropic, anthropic_fake: httpx.Client
) -> None:
    marker = uuid.uuid4().hex
    ask = {"role": "user", "content": f"Weather in Paris? {marker}"}
    first = claude.messages.create(
        model="anthropic-chat",
        max_tokens=100,
        tools=[{**WEATHER, "cache_control": {"type": "ephemeral"}}],
        tool_choice={"type": "any", "disable_parallel_tool_use": True},
        messages=[ask],
    )
    (use,) = first.content
    assert use.type == "tool_use" and first.stop_reason == "tool_use"
    turn = [
        ask,
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "no data", "is_error": True}],
        },
    ]
    second = claude.messages.create(model="anthropic-chat", max_tokens=100, tools=[WEATHER], messages=turn)
    assert second.content[0].text == fake_anthropic.REPLY
    assert _sent(anthropic_fake, marker)["body"]["messages"] == turn


# --- thinking -----------------------------------------------------------------------------------


def test_thinking_signatures_round_trip_with_an_anthropic_deployment(claude: anthropic.Anthropic) -> None:
    first = claude.messages.create(
        model="anthropic-chat",
        max_tokens=2048,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=[{"role": "user", "content": "Hi"}],
    )
    thinking, text = first.content
    assert thinking.type == "thinking" and thinking.signature == fake_anthropic.signature_of(thinking.thinking)
    assert text.type == "text"
    # The fake refuses a thinking block whose signature changed on the way.
    second = claude.messages.create(
        model="anthropic-chat",
        max_tokens=2048,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=[
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": first.content},
            {"role": "user", "content": "And?"},
        ],
    )
    assert second.content[-1].text == fake_anthropic.REPLY
    with pytest.raises(anthropic.BadRequestError) as info:
        claude.messages.create(
            model="anthropic-chat",
            max_tokens=2048,
            thinking={"type": "enabled", "budget_tokens": 1024},
            messages=[
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": [{"type": "thinking", "thinking": "x", "signature": "forged"}]},
                {"role": "user", "content": "And?"},
            ],
        )
    assert info.value.body["error"]["type"] == "invalid_request_error"
    assert "signature" in info.value.message


def test_streamed_thinking_has_thinking_and_signature_deltas(claude: anthropic.Anthropic) -> None:
    with claude.messages.stream(
        model="anthropic-chat",
        max_tokens=2048,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=[{"role": "user", "content": "Hi"}],
    ) as stream:
        kinds = [e.type for e in stream]
        final = stream.get_final_message()
    assert "thinking" in kinds and "signature" in kinds
    assert final.content[0].type == "thinking"
    assert final.content[0].signature == fake_anthropic.signature_of(fake_anthropic.THOUGHT)


def test_thinking_becomes_reasoning_effort_for_an_openai_deployment(
    claude: anthropic.Anthropic, fake: httpx.Client
) -> None:
    marker = uuid.uuid4().hex
    claude.messages.create(
        model="fake-chat",
        max_tokens=8000,
        thinking={"type": "enabled", "budget_tokens": 4096},
        messages=[{"role": "user", "content": marker}],
    )
    assert _sent(fake, marker)["body"]["reasoning_effort"] == "high"


# --- images, documents, prompt caching --------------------------------------------------------


def test_images_and_documents(claude: anthropic.Anthropic, fake: httpx.Client, anthropic_fake: httpx.Client) -> None:
    marker = uuid.uuid4().hex
    content = [
        {"type": "text", "text": f"Describe these {marker}"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}},
        {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": PDF}},
        {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "Plain notes."}},
    ]
    claude.messages.create(model="fake-chat", max_tokens=50, messages=[{"role": "user", "content": content}])
    parts = _sent(fake, marker)["body"]["messages"][0]["content"]
    assert parts[1:] == [
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
        {"type": "file", "file": {"file_data": f"data:application/pdf;base64,{PDF}", "filename": "document.pdf"}},
        {"type": "text", "text": "Plain notes."},
    ]
    claude.messages.create(model="anthropic-chat", max_tokens=50, messages=[{"role": "user", "content": content}])
    assert _sent(anthropic_fake, marker)["body"]["messages"][0]["content"] == content


def test_prompt_caching_is_reported_and_priced(claude: anthropic.Anthropic, http: httpx.Client) -> None:
    system = [{"type": "text", "text": f"Long rules {uuid.uuid4().hex} " * 20, "cache_control": {"type": "ephemeral"}}]
    first = claude.messages.create(
        model="anthropic-chat",
        max_tokens=50,
        system=system,
        messages=[{"role": "user", "content": "Hi"}],
    )
    raw = claude.messages.with_raw_response.create(
        model="anthropic-chat",
        max_tokens=50,
        system=system,
        messages=[{"role": "user", "content": "Hi"}],
    )
    second = raw.parse()
    assert first.usage.cache_creation_input_tokens and not first.usage.cache_read_input_tokens
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
    (row,) = wait_for_spend(http, raw.headers["x-litellm-call-id"])
    assert Decimal(str(row["spend"])) == Decimal(raw.headers["x-litellm-response-cost"]) > 0


# --- count_tokens -------------------------------------------------------------------------------


def test_count_tokens(claude: anthropic.Anthropic, anthropic_fake: httpx.Client) -> None:
    marker = uuid.uuid4().hex
    messages = [{"role": "user", "content": f"one two three {marker}"}]
    counted = claude.messages.count_tokens(model="anthropic-chat", system="four five", messages=messages)
    assert counted.input_tokens == 6, "Anthropic counted it"
    assert _sent(anthropic_fake, marker)["body"]["model"] == "claude-sonnet-4-5-20250929"
    estimated = claude.messages.count_tokens(model="fake-chat", messages=messages)
    assert estimated.input_tokens > 0


# --- errors -------------------------------------------------------------------------------------


def test_errors_are_the_sdks_exception_classes(claude: anthropic.Anthropic, base_url: str) -> None:
    hi = [{"role": "user", "content": "hi"}]
    bad_key = anthropic.Anthropic(base_url=base_url, api_key="sk-not-a-key", max_retries=0)
    with pytest.raises(anthropic.AuthenticationError) as auth:
        bad_key.messages.create(model="fake-chat", max_tokens=10, messages=hi)
    assert auth.value.body["type"] == "error" and auth.value.body["error"]["type"] == "authentication_error"
    with pytest.raises(anthropic.BadRequestError) as bad:
        claude.messages.create(model="fake-chat", max_tokens=10, messages=[{"role": "developer", "content": "x"}])
    assert bad.value.body["error"]["type"] == "invalid_request_error"
    with pytest.raises(anthropic.AuthenticationError):
        claude.messages.create(model="anthropic-wrong-key", max_tokens=10, messages=hi)
    with pytest.raises(anthropic.RateLimitError) as limited:
        claude.messages.create(model="always-429", max_tokens=10, messages=hi)
    assert limited.value.body["error"]["type"] == "rate_limit_error"
    with pytest.raises(anthropic.InternalServerError) as failed:
        claude.messages.create(model="always-500", max_tokens=10, messages=hi)
    assert failed.value.status_code == 500 and failed.value.body["error"]["type"] == "api_error"
    with pytest.raises(anthropic.BadRequestError) as unknown:
        claude.messages.create(model="no-such-model", max_tokens=10, messages=hi)
    assert "no-such-model" in unknown.value.message


def test_an_overloaded_anthropic_is_overloaded_error_529(
    claude: anthropic.Anthropic, anthropic_fake: httpx.Client
) -> None:
    overloaded = {"status": 529, "body": fake_anthropic.error_body("overloaded_error", "Overloaded")}
    anthropic_fake.post("/__script", json={"model": "claude-sonnet-4-5-20250929", "replies": [overloaded]})
    with pytest.raises(anthropic.OverloadedError) as info:
        claude.messages.create(model="anthropic-chat", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    assert info.value.status_code == 529 and info.value.body["error"]["type"] == "overloaded_error"


def test_what_an_openai_deployment_cannot_serve_is_a_400_naming_it(claude: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as info:
        claude.messages.create(
            model="fake-chat",
            max_tokens=10,
            tools=[{"type": "web_search_20250305", "name": "web_search"}],
            messages=[{"role": "user", "content": "news?"}],
        )
    assert "tools[0]" in info.value.message and "web_search_20250305" in info.value.message


def test_an_over_budget_key_gets_429_in_anthropics_shape(http: httpx.Client, base_url: str) -> None:
    key = http.post("/key/generate", json={"max_budget": "0.0001"}).json()["key"]
    user = anthropic.Anthropic(base_url=base_url, api_key=key, max_retries=0)
    refused = None
    for _ in range(15):
        try:
            raw = user.messages.with_raw_response.create(
                model="fake-chat", max_tokens=20, messages=[{"role": "user", "content": "count me"}]
            )
        except anthropic.RateLimitError as exc:
            refused = exc
            break
        wait_for_spend(http, raw.headers["x-litellm-call-id"])
    assert refused is not None, "the budget was never enforced"
    assert refused.status_code == 429
    assert refused.body["type"] == "error" and refused.body["error"]["type"] == "rate_limit_error"
    assert "budget" in refused.message.lower()


# --- guardrails -----------------------------------------------------------------------------------


def test_guardrails_mask_what_claude_is_sent(claude: anthropic.Anthropic, anthropic_fake: httpx.Client) -> None:
    marker = uuid.uuid4().hex
    first = claude.messages.create(
        model="anthropic-chat",
        max_tokens=2048,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=[{"role": "user", "content": "Hi"}],
    )
    claude.messages.create(
        model="anthropic-chat",
        max_tokens=2048,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=[
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": first.content},
            {"role": "user", "content": f"{marker} my key is AKIAABCDEFGHIJKLMNOP"},
        ],
        extra_body={"guardrails": ["secret_detection"]},
    )
    sent = _sent(anthropic_fake, marker)["body"]
    assert "AKIAABCDEFGHIJKLMNOP" not in orjson.dumps(sent).decode()
    # The translation kept the signed thinking block, which the fake checked.
    assert sent["messages"][1]["content"][0]["signature"] == first.content[0].signature


# --- Bedrock and gRPC -----------------------------------------------------------------------------


def test_claude_on_bedrock_is_served_natively(claude: anthropic.Anthropic, bedrock_fake: httpx.Client) -> None:
    marker = uuid.uuid4().hex
    msg = claude.messages.create(
        model="bedrock-chat", max_tokens=50, messages=[{"role": "user", "content": f"hi {marker}"}]
    )
    assert msg.content[0].text == fake_anthropic.REPLY
    sent = _sent(bedrock_fake, marker)
    assert sent["path"].endswith("/invoke") and sent["body"]["anthropic_version"] == "bedrock-2023-05-31"
    assert "model" not in sent["body"]


@pytest.fixture(scope="module")
def gateway(stack_cfg: stack.StackConfig) -> Iterator[gateway_pb2_grpc.GatewayServiceStub]:
    with grpc.insecure_channel(stack_cfg.addr("edge")) as ch:
        yield gateway_pb2_grpc.GatewayServiceStub(ch)


def _grpc_body(model: str) -> messages_pb2.AnthropicMessagesRequest:
    body = {"model": model, "max_tokens": 50, "messages": [{"role": "user", "content": "hi over gRPC"}]}
    return messages_pb2.AnthropicMessagesRequest(body_json=orjson.dumps(body))


@pytest.mark.parametrize("model", ["fake-chat", "anthropic-chat"])
def test_messages_over_grpc(gateway: gateway_pb2_grpc.GatewayServiceStub, model: str) -> None:
    auth = (("x-api-key", MASTER_KEY),)
    resp = gateway.CreateMessage(gateway_pb2.CreateMessageRequest(request=_grpc_body(model)), metadata=auth, timeout=10)
    message = orjson.loads(resp.message_json)
    assert message["type"] == "message" and message["content"][0]["type"] == "text"
    assert resp.info.call_id and float(resp.info.response_cost) > 0
    events = list(
        gateway.StreamMessage(gateway_pb2.StreamMessageRequest(request=_grpc_body(model)), metadata=auth, timeout=10)
    )
    assert events[0].event.type == "message_start" and events[-1].event.type == "message_stop"
    assert events[-1].info.call_id and float(events[-1].info.response_cost) > 0
    counted = gateway.CountMessageTokens(
        gateway_pb2.CountMessageTokensRequest(request=_grpc_body(model)), metadata=auth, timeout=10
    )
    assert counted.input_tokens > 0


def test_a_bad_messages_body_over_grpc_is_invalid_argument(gateway: gateway_pb2_grpc.GatewayServiceStub) -> None:
    bad = messages_pb2.AnthropicMessagesRequest(body_json=b'{"model": "fake-chat", "messages": []}')
    with pytest.raises(grpc.RpcError) as exc:
        gateway.CreateMessage(
            gateway_pb2.CreateMessageRequest(request=bad), metadata=(("x-api-key", MASTER_KEY),), timeout=10
        )
    assert exc.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    trailing = dict(exc.value.trailing_metadata())
    err = error_pb2.Error.FromString(trailing["switchyard-error-bin"])
    assert err.param == "max_tokens"
