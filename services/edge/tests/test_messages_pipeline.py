"""Anthropic Messages requests through the pipeline (peers stood in for, see pipeline_testing):
which deployment is sent what (the client's body for Claude, the translation for the others, a
400 before any call when the translation cannot carry the request, the masked translation with
Claude's extensions when guardrails run), usage events under ``anthropic_messages``, a native
stream charged by what it carried when the client leaves, and token counting."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
import pytest
from pipeline_testing import (
    INPUT_PRICE,
    OUTPUT_PRICE,
    PLAN_LEASE,
    Adapter,
    Guardrail,
    completion,
    deployment,
    pipeline,
    plan,
    principal,
)

from switchyard.guardrail.v1 import guardrail_pb2
from switchyard.llm.v1 import chat_pb2, error_pb2, messages_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard.provider.v1 import provider_pb2
from switchyard.router.v1 import router_pb2
from switchyard_edge.dialects.anthropic.request import MessagesRequest, decode
from switchyard_edge.domain.call import CallType
from switchyard_edge.errors import GatewayError

PRIMARY, FALLBACK = router_pb2.GROUP_ROLE_PRIMARY, router_pb2.GROUP_ROLE_FALLBACK
MESSAGES = CallType.ANTHROPIC_MESSAGES


def claude(dep_id: str = "claude-1") -> Any:
    return deployment(dep_id, provider="anthropic", model="claude-sonnet-4-5")


def bedrock_claude(dep_id: str = "bedrock-1") -> Any:
    return deployment(dep_id, provider="bedrock", model="us.anthropic.claude-sonnet-4-5-20250929-v1:0")


def request(**kw: Any) -> MessagesRequest:
    body: dict[str, Any] = {
        "model": "g",
        "max_tokens": 50,
        "messages": [
            {"role": "user", "content": "My card is 4111 1111 1111 1111"},
            {"role": "assistant", "content": [{"type": "thinking", "thinking": "Hm.", "signature": "sig-1"}]},
            {"role": "user", "content": "Go on."},
        ],
        **kw,
    }
    return decode(body, orjson.dumps(body), max_messages=100)


def native_answer(body: bytes = b'{"type":"message"}', cost: str = "0.004") -> provider_pb2.ChatResponse:
    resp = provider_pb2.ChatResponse(anthropic_message_json=body, stats=provider_pb2.CallStats(cost_usd=cost))
    resp.usage.prompt_tokens, resp.usage.completion_tokens, resp.usage.total_tokens = 10, 4, 14
    return resp


async def test_a_claude_deployment_is_sent_the_clients_body_and_answers_with_its_own() -> None:
    p = pipeline(plan((PRIMARY, [claude()])), Adapter({"claude-1": [native_answer()]}))
    req = request()
    done = await p.gateway.chat(principal(), req.chat, MESSAGES, messages=req)
    assert done.result == b'{"type":"message"}'
    (sent,) = p.adapter.requests
    assert sent.anthropic_messages.body_json == req.native.body_json
    # Beside the body, only what the adapter reads: the model and the gateway's options.
    assert not sent.request.messages and sent.request.model == "g"
    (event,) = p.usage.events
    assert event["call_type"] == "anthropic_messages" and event["cost_usd"] == "0.004"
    assert event["usage"].total_tokens == 14
    assert p.budget_lease().spent == pytest.approx(0.004)


async def test_claude_on_bedrock_is_sent_the_body_too() -> None:
    p = pipeline(plan((PRIMARY, [bedrock_claude()])), Adapter({"bedrock-1": [native_answer()]}))
    req = request()
    await p.gateway.chat(principal(), req.chat, MESSAGES, messages=req)
    assert p.adapter.requests[0].HasField("anthropic_messages")


async def test_another_deployment_is_sent_the_translation() -> None:
    p = pipeline(plan((PRIMARY, [deployment("gpt-1")])), Adapter({"gpt-1": [completion("hi")]}))
    req = request()
    done = await p.gateway.chat(principal(), req.chat, MESSAGES, messages=req)
    assert isinstance(done.result, chat_pb2.ChatCompletion)
    (sent,) = p.adapter.requests
    assert not sent.HasField("anthropic_messages")
    assert [m.role for m in sent.request.messages] == ["user", "assistant", "user"]
    assert not sent.request.messages[1].extra_json, "thinking blocks are Claude's alone"
    assert p.usage.events[0]["call_type"] == "anthropic_messages"


async def test_the_translation_asks_no_more_output_than_the_deployment_gives() -> None:
    """Coding agents ask for max_tokens 32,000; a model whose maximum output is known is asked
    for at most that (OpenAI refuses more), a Claude deployment gets the client's body as it is."""
    small = deployment("gpt-1")
    small.max_output_tokens = 16384
    p = pipeline(plan((PRIMARY, [small])), Adapter({"gpt-1": [completion()]}))
    req = request(max_tokens=32000)
    await p.gateway.chat(principal(), req.chat, MESSAGES, messages=req)
    assert p.adapter.requests[0].request.max_tokens == 16384


async def test_what_the_translation_cannot_carry_is_a_400_before_any_call() -> None:
    """A server tool cannot go to an OpenAI deployment: that attempt is the request's 400 (the
    deployment is not blamed, nothing is sent), final like any client mistake (no fallback)."""
    the_plan = plan((PRIMARY, [deployment("gpt-1")]), (FALLBACK, [claude()]))
    p = pipeline(the_plan, Adapter({"claude-1": [native_answer()]}))
    req = request(tools=[{"type": "web_search_20250305", "name": "web_search"}])
    with pytest.raises(GatewayError) as info:
        await p.gateway.chat(principal(), req.chat, MESSAGES, messages=req)
    assert info.value.error.kind == ErrorKind.ERROR_KIND_BAD_REQUEST and info.value.error.param == "tools[0]"
    assert "web_search_20250305" in info.value.error.message
    assert p.adapter.calls == []
    assert p.usage.events[0]["error"].source == error_pb2.FAILURE_SOURCE_REQUEST
    assert p.outcomes.lease_releases(PLAN_LEASE) == 1


class MaskingGuardrail(Guardrail):
    def __init__(self) -> None:
        super().__init__(guardrail_pb2.DECISION_MASK)
        self.checked: list[Any] = []

    async def CheckInput(self, req: Any, *, timeout: float) -> guardrail_pb2.CheckInputResponse:
        self.checked.append(req)
        out = guardrail_pb2.CheckInputResponse(decision=guardrail_pb2.DECISION_MASK)
        out.messages.extend(req.messages)
        for m in out.messages:
            if m.WhichOneof("content") == "text":
                m.text = m.text.replace("4111 1111 1111 1111", "[CARD]")
        return out

    async def CheckTexts(self, req: Any, *, timeout: float) -> guardrail_pb2.CheckTextsResponse:
        return guardrail_pb2.CheckTextsResponse(decision=guardrail_pb2.DECISION_ALLOW)


async def test_with_guardrails_claude_gets_the_masked_translation_with_its_signatures() -> None:
    guard = MaskingGuardrail()
    p = pipeline(plan((PRIMARY, [claude()])), Adapter({"claude-1": [completion("ok")]}), guardrail=guard)
    req = request()
    done = await p.gateway.chat(principal(guardrails=("pii",)), req.chat, MESSAGES, messages=req)
    assert isinstance(done.result, chat_pb2.ChatCompletion)
    (sent,) = p.adapter.requests
    assert not sent.HasField("anthropic_messages"), "the client's body holds the unmasked card number"
    assert sent.request.messages[0].text == "My card is [CARD]"
    assert orjson.loads(sent.request.messages[1].extra_json) == {
        "thinking_blocks": [{"type": "thinking", "thinking": "Hm.", "signature": "sig-1"}]
    }


def _native_events() -> list[provider_pb2.ChatStreamResponse]:
    start = provider_pb2.ChatStreamResponse()
    start.anthropic_event.CopyFrom(messages_pb2.AnthropicEvent(type="message_start", data_json=b"{}"))
    delta = provider_pb2.ChatStreamResponse()
    delta.anthropic_event.CopyFrom(
        messages_pb2.AnthropicEvent(type="content_block_delta", data_json=b"{}", output_chars=30)
    )
    return [start, delta]


async def test_a_native_stream_cut_by_the_client_is_charged_for_what_it_carried() -> None:
    p = pipeline(plan((PRIMARY, [claude()])), Adapter({"claude-1": [_native_events()]}))
    who = principal()
    req = request(stream=True)
    streaming = await p.gateway.chat_stream(who, req.chat, MESSAGES, messages=req)
    assert isinstance(streaming.first, messages_pb2.AnthropicEvent)
    assert p.adapter.requests[0].HasField("anthropic_messages")
    chunks: Any = streaming.chunks
    assert (await anext(chunks)).anthropic_event.output_chars == 30
    await chunks.aclose()  # the client went away
    (event,) = p.usage.events
    assert event["error"].http_status == 499 and event["call_type"] == "anthropic_messages"
    completion_tokens = 30 // 3 + 1
    assert event["usage"].completion_tokens == completion_tokens
    cost = event["usage"].prompt_tokens * INPUT_PRICE + completion_tokens * OUTPUT_PRICE
    assert Decimal(event["cost_usd"]) == pytest.approx(Decimal(f"{cost:.10f}"))
    assert p.adapter.streams[0].cancelled
    assert await p.slot_free(who)


async def test_tokens_are_counted_by_claude_else_estimated() -> None:
    counted = provider_pb2.CountTokensResponse(input_tokens=1234)
    p = pipeline(plan((PRIMARY, [deployment("gpt-1"), claude()])), Adapter({"claude-1": [counted]}))
    req = request()
    assert await p.gateway.count_message_tokens(principal(), req) == 1234
    assert p.adapter.calls == ["claude-1"]
    assert p.adapter.requests[0].anthropic_messages.body_json == req.native.body_json
    assert p.outcomes.lease_releases(PLAN_LEASE) == 1, "the plan's admission goes back"
    assert p.usage.events == [], "counting is free: no usage event"

    p = pipeline(plan((PRIMARY, [deployment("gpt-1")])), Adapter())
    estimated = await p.gateway.count_message_tokens(principal(), req)
    assert estimated > 0 and p.adapter.calls == []


async def test_a_count_claude_refuses_is_the_clients_error() -> None:
    refused = provider_pb2.CountTokensResponse()
    refused.error.CopyFrom(error_pb2.Error(kind=ErrorKind.ERROR_KIND_BAD_REQUEST, http_status=400, message="bad"))
    p = pipeline(plan((PRIMARY, [claude()])), Adapter({"claude-1": [refused]}))
    with pytest.raises(GatewayError) as info:
        await p.gateway.count_message_tokens(principal(), request())
    assert info.value.error.message == "bad"
