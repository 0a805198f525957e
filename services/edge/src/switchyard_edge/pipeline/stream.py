"""A streamed answer after its first chunk: passes the provider's messages on, records the attempt
however the stream ends (its end, an error, the adapter failing, or the client going away, which
is charged for what was generated so far) and then gives back what the request held."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator

import grpc

from switchyard.llm.v1 import chat_pb2, deployment_pb2, error_pb2
from switchyard.provider.v1 import provider_pb2
from switchyard_common.errors import make_error
from switchyard_edge.clients.adapter import OpenStream, adapter_error
from switchyard_edge.clients.guardrail import GuardrailClient
from switchyard_edge.domain import charging
from switchyard_edge.domain.call import Attempt, Streaming
from switchyard_edge.pipeline.accounting import Accounting
from switchyard_edge.pipeline.admission import Admission

K = error_pb2.ErrorKind


def start(
    adm: Admission,
    dep: deployment_pb2.Deployment,
    attempt: Attempt,
    started: float,
    accounting: Accounting,
    guardrails: GuardrailClient,
) -> Streaming:
    """The response of a stream whose first message is in hand (``attempt.result``). It takes
    over what the request holds unless the stream is already over (an empty answer)."""
    call = adm.call
    opened: OpenStream = attempt.result
    if opened.first is None:
        first = chat_pb2.ChatCompletionChunk(id=f"chatcmpl-{call.call_id}", created=int(time.time()), model=dep.model)
        first.choices.add(index=0, finish_reason="stop").delta.role = "assistant"
        accounting.record(adm, dep, attempt, final=True, started=started)
        return Streaming(call, first, _empty(), opened.rate_limit_headers)
    first, rest = opened.first, _rest(adm, dep, opened, started, accounting)
    if names := call.guardrails():
        first, rest = guardrails.guard_stream(call, names, first, rest)
    adm.hand_over()
    return Streaming(call, first, rest, opened.rate_limit_headers)


async def _rest(
    adm: Admission, dep: deployment_pb2.Deployment, opened: OpenStream, started: float, accounting: Accounting
) -> AsyncGenerator[provider_pb2.ChatStreamResponse, None]:
    """The remaining stream messages; records the attempt and closes the admission however the
    stream ends, at once (a consumer stops reading after the end message, and this generator's
    ``finally`` would then only run when it is collected)."""

    def settle(attempt: Attempt) -> None:
        accounting.record(adm, dep, attempt, final=True, started=started)
        adm.close()

    settled = False
    produced = 0
    try:
        async for msg in opened.stream:
            kind = msg.WhichOneof("event")
            if kind == "chunk":
                produced += charging.produced_chars(msg.chunk)
                yield msg
            elif kind == "end":
                settle(Attempt(stats=msg.end.stats, usage=msg.end.usage))
                settled = True
                yield msg
                return
            else:
                settle(Attempt(error=msg.error, stats=msg.stats, usage=msg.usage if msg.HasField("usage") else None))
                settled = True
                yield msg
                return
        err = make_error(K.ERROR_KIND_BAD_GATEWAY, "provider stream ended unexpectedly")
        settle(Attempt(error=err))
        settled = True
        yield provider_pb2.ChatStreamResponse(error=err)
    except grpc.aio.AioRpcError as exc:
        err = adapter_error(exc, adm.call.remaining())
        settle(Attempt(error=err))
        settled = True
        yield provider_pb2.ChatStreamResponse(error=err)
    finally:
        if not settled:
            # The client went away mid-stream: charge what was generated so far (estimated),
            # so disconnecting is never a way around a budget.
            opened.stream.cancel()
            usage, stats = charging.cut_stream(adm.call.input_tokens, produced, dep.pricing)
            disconnected = make_error(K.ERROR_KIND_BAD_REQUEST, "client disconnected", status=499)
            settle(Attempt(error=disconnected, usage=usage, stats=stats))


async def _empty() -> AsyncIterator[provider_pb2.ChatStreamResponse]:
    return
    yield  # pragma: no cover - makes this an async generator
