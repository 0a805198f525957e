"""The request pipeline in process (peers stood in for, see pipeline_testing): whatever way a
request ends — an answer, a provider error, a guardrail block, an unpriced model, an exception,
a cancellation — its key's rate-limit slot, its budget hold and the router's admissions all go
back, once; retries and fallbacks are recorded attempt by attempt; a stream the client cuts is
charged for what was generated, tool-call arguments included."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest
from pipeline_testing import (
    INPUT_PRICE,
    OUTPUT_PRICE,
    PLAN_LEASE,
    Adapter,
    Guardrail,
    Hang,
    Pipeline,
    chat_request,
    completion,
    deployment,
    failure,
    pipeline,
    plan,
    principal,
)

from switchyard.guardrail.v1 import guardrail_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard.provider.v1 import provider_pb2
from switchyard.router.v1 import router_pb2
from switchyard_edge.domain import estimate
from switchyard_edge.errors import GatewayError
from switchyard_llm.errors import make_error

PRIMARY, FALLBACK = router_pb2.GROUP_ROLE_PRIMARY, router_pb2.GROUP_ROLE_FALLBACK


async def _cancelled(p: Pipeline, run: Awaitable[Any]) -> None:
    hang = p.adapter.answers["d1"][0]
    task = asyncio.ensure_future(run)
    await hang.called.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


Exit = Callable[[], tuple[Pipeline, Any]]


def _answered() -> tuple[Pipeline, Any]:
    return pipeline(plan((PRIMARY, [deployment("d1")])), Adapter({"d1": [completion(cost="0.001")]})), None


def _provider_error() -> tuple[Pipeline, Any]:
    err = make_error(ErrorKind.ERROR_KIND_BAD_REQUEST, "bad", provider="openai")
    return pipeline(plan((PRIMARY, [deployment("d1")])), Adapter({"d1": [failure(err)]})), 400


def _guardrail_block() -> tuple[Pipeline, Any]:
    p = pipeline(plan((PRIMARY, [deployment("d1")])), Adapter(), guardrail=Guardrail(guardrail_pb2.DECISION_BLOCK))
    return p, 400


def _unpriced() -> tuple[Pipeline, Any]:
    return pipeline(plan((PRIMARY, [deployment("d1", priced=False)])), Adapter()), 403


def _exception() -> tuple[Pipeline, Any]:
    return pipeline(plan((PRIMARY, [deployment("d1")])), Adapter({"d1": [RuntimeError("boom")]})), RuntimeError


def _cancellation() -> tuple[Pipeline, Any]:
    return pipeline(plan((PRIMARY, [deployment("d1")])), Adapter({"d1": [Hang()]})), asyncio.CancelledError


@pytest.mark.parametrize(
    "exit_",
    [_answered, _provider_error, _guardrail_block, _unpriced, _exception, _cancellation],
    ids=["answer", "provider-error", "guardrail-block", "unpriced", "exception", "cancellation"],
)
async def test_admission_goes_back_on_every_exit(exit_: Exit) -> None:
    p, expected = exit_()
    who = principal(guardrails=("g",) if exit_ is _guardrail_block else ())
    run = p.gateway.chat(who, chat_request())
    if expected is None:
        done = await run
        assert done.result.choices[0].message.text == "hi"
    elif expected is asyncio.CancelledError:
        await _cancelled(p, run)
    elif isinstance(expected, int):
        with pytest.raises(GatewayError) as info:
            await run
        assert info.value.error.http_status == expected
        assert info.value.headers["x-litellm-call-id"], "every error answer names its call"
    else:
        with pytest.raises(expected):
            await run
    assert await p.slot_free(who), "the key's in-flight slot was given back"
    assert p.outcomes.lease_releases(PLAN_LEASE) == 1, "the router's admission went back exactly once"
    if exit_ is not _unpriced:
        lease = p.budget_lease()
        assert lease.inflight == 0, "the budget hold was given back"
        assert lease.balance + lease.spent == pytest.approx(10.0)
    if expected is None:
        assert p.budget_lease().spent == pytest.approx(0.001)


async def test_cancelled_stream_start_gives_everything_back() -> None:
    p = pipeline(plan((PRIMARY, [deployment("d1")])), Adapter({"d1": [Hang()]}))
    who = principal()
    await _cancelled(p, p.gateway.chat_stream(who, chat_request(stream=True)))
    assert await p.slot_free(who)
    assert p.outcomes.lease_releases(PLAN_LEASE) == 1
    assert p.budget_lease().inflight == 0


async def test_retries_then_falls_back_recording_every_attempt() -> None:
    err = make_error(ErrorKind.ERROR_KIND_INTERNAL_SERVER, "upstream 500", provider="openai")
    p = pipeline(
        plan((PRIMARY, [deployment("d1")]), (FALLBACK, [deployment("d2", "g2")]), num_retries=1),
        Adapter({"d1": [failure(err), failure(err)], "d2": [completion()]}),
    )
    done = await p.gateway.chat(principal(budget=False, parallel=0), chat_request())
    assert p.adapter.calls == ["d1", "d1", "d2"]
    assert (done.call.retries, done.call.fallbacks, done.call.model_group) == (1, 1, "g2")
    assert done.call.headers()["x-litellm-model-id"] == "d2"
    events = p.usage.events
    assert [e["attempt"] for e in events] == [0, 1, 2]
    assert [e["error"] is None for e in events] == [False, False, True]
    assert [e["final"] for e in events] == [False, False, True], "only the last attempt closes the request"
    reported = [(r["deployment_id"], r["success"], r["skipped"]) for r in p.outcomes.reports]
    assert reported == [("d1", False, False), ("d1", False, False), ("d2", True, False)]
    assert p.outcomes.reports[0]["lease_id"] == PLAN_LEASE, "the first attempt used the plan's admission"


async def test_a_request_error_is_not_retried_and_tells_the_router_nothing() -> None:
    err = make_error(ErrorKind.ERROR_KIND_BAD_REQUEST, "bad", provider="openai")
    p = pipeline(
        plan((PRIMARY, [deployment("d1")]), (FALLBACK, [deployment("d2", "g2")]), num_retries=3),
        Adapter({"d1": [failure(err)]}),
    )
    with pytest.raises(GatewayError) as info:
        await p.gateway.chat(principal(budget=False, parallel=0), chat_request())
    assert info.value.error.http_status == 400 and p.adapter.calls == ["d1"]
    assert info.value.headers["x-litellm-attempted-retries"] == "0"


def _stream_messages() -> list[provider_pb2.ChatStreamResponse]:
    first = provider_pb2.ChatStreamResponse()
    first.chunk.id = "c1"
    first.chunk.choices.add(index=0).delta.role = "assistant"
    text = provider_pb2.ChatStreamResponse()
    text.chunk.choices.add(index=0).delta.content = "hello"
    tool = provider_pb2.ChatStreamResponse()
    tool.chunk.choices.add(index=0).delta.tool_calls.add(index=0, name="f", arguments='{"a":1}')
    return [first, text, tool]


async def test_a_stream_cut_by_the_client_is_charged_for_what_was_generated() -> None:
    p = pipeline(plan((PRIMARY, [deployment("d1")])), Adapter({"d1": [_stream_messages()]}))
    who = principal()
    request = chat_request(stream=True)
    prompt = estimate.prompt_tokens(request.messages)
    streaming = await p.gateway.chat_stream(who, request)
    assert not await p.slot_free(who), "the stream holds its slot while it runs"
    chunks: Any = streaming.chunks
    await anext(chunks)
    await anext(chunks)
    await chunks.aclose()  # the client went away

    (event,) = p.usage.events
    assert event["error"].http_status == 499
    # "hello" and the tool call's name and arguments: 13 characters, 13 // 3 + 1 tokens.
    completion_tokens = 13 // 3 + 1
    assert (event["usage"].prompt_tokens, event["usage"].completion_tokens) == (prompt, completion_tokens)
    cost = prompt * INPUT_PRICE + completion_tokens * OUTPUT_PRICE
    assert Decimal(event["cost_usd"]) == pytest.approx(Decimal(f"{cost:.10f}"))
    assert p.adapter.streams[0].cancelled, "the provider stream was stopped"
    assert await p.slot_free(who)
    assert p.budget_lease().inflight == 0 and p.budget_lease().spent == pytest.approx(cost)
    assert p.outcomes.lease_releases(PLAN_LEASE) == 1


async def test_a_stream_settles_at_its_end_without_waiting_for_the_reader_to_close() -> None:
    end = provider_pb2.ChatStreamResponse()
    end.end.usage.total_tokens = 7
    end.end.stats.cost_usd = "0.002"
    p = pipeline(plan((PRIMARY, [deployment("d1")])), Adapter({"d1": [[*_stream_messages(), end]]}))
    who = principal()
    streaming = await p.gateway.chat_stream(who, chat_request(stream=True))
    kinds = []
    async for msg in streaming.chunks:
        kinds.append(msg.WhichOneof("event"))
        if kinds[-1] == "end":
            break  # as the SSE writer does: it stops reading after the end
    assert kinds == ["chunk", "chunk", "end"]
    (event,) = p.usage.events
    assert event["error"] is None and event["cost_usd"] == "0.002"
    assert await p.slot_free(who)
    assert p.budget_lease().inflight == 0 and p.budget_lease().spent == pytest.approx(0.002)


async def test_a_budgeted_request_without_an_output_limit_is_sent_with_one() -> None:
    p = pipeline(plan((PRIMARY, [deployment("d1")])), Adapter({"d1": [completion()]}))
    request = chat_request()
    await p.gateway.chat(principal(), request)
    assert request.max_tokens == p.gateway.settings.default_max_output_tokens


async def test_a_stream_whose_body_is_never_read_is_settled_when_its_response_closes() -> None:
    """A client that goes away between the headers and the body: the stream's generator never
    starts (so its own clean-up never runs); closing the response charges the first chunk and
    gives everything back."""
    p = pipeline(plan((PRIMARY, [deployment("d1")])), Adapter({"d1": [_stream_messages()]}))
    who = principal()
    streaming = await p.gateway.chat_stream(who, chat_request(stream=True))
    assert not await p.slot_free(who)
    await streaming.close()
    await streaming.close()  # once only
    (event,) = p.usage.events
    assert event["error"].http_status == 499
    assert p.adapter.streams[0].cancelled, "the provider stream was stopped"
    assert await p.slot_free(who)
    assert p.budget_lease().inflight == 0
    assert p.outcomes.lease_releases(PLAN_LEASE) == 1
