"""A streamed answer after its first chunk: passes the provider's messages on, records the attempt
however the stream ends (its end, an error, the adapter failing, or the client going away, which
is charged for what was generated so far) and then gives back what the request held."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator

import grpc

from switchyard.llm.v1 import chat_pb2, deployment_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard.provider.v1 import provider_pb2
from switchyard_edge.clients.adapter import OpenStream, adapter_error
from switchyard_edge.clients.guardrail import GuardrailClient
from switchyard_edge.domain import charging
from switchyard_edge.domain.call import Attempt, Streaming
from switchyard_edge.pipeline.accounting import Accounting
from switchyard_edge.pipeline.admission import Admission
from switchyard_llm.errors import make_error


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
        empty = chat_pb2.ChatCompletionChunk(id=f"chatcmpl-{call.call_id}", created=int(time.time()), model=dep.model)
        empty.choices.add(index=0, finish_reason="stop").delta.role = "assistant"
        accounting.record(adm, dep, attempt, final=True, started=started)
        return Streaming(call, empty, _empty(), opened.rate_limit_headers)
    state = _Settlement(adm, dep, opened, started, accounting)
    first, rest = opened.first, _rest(state)
    # A native Messages API stream never has guardrails: they make the pipeline translate it.
    if (names := call.guardrails()) and isinstance(first, chat_pb2.ChatCompletionChunk):
        first, rest = guardrails.guard_stream(call, names, first, rest)
    adm.hand_over()
    return Streaming(call, first, rest, opened.rate_limit_headers, close=state.abandon)


class _Settlement:
    """How a handed-over stream ends, exactly once: at its end message, on an error, when the
    client goes away mid-stream, or (``abandon``) when the response was dropped before its body
    was ever read — a generator that never started runs no ``finally``."""

    def __init__(
        self,
        adm: Admission,
        dep: deployment_pb2.Deployment,
        opened: OpenStream,
        started: float,
        accounting: Accounting,
    ) -> None:
        self.adm, self.dep, self.opened, self.started, self.accounting = adm, dep, opened, started, accounting
        self.settled = False
        assert opened.first is not None
        self.produced = charging.produced_chars(opened.first)

    def settle(self, attempt: Attempt) -> None:
        if self.settled:
            return
        self.settled = True
        self.accounting.record(self.adm, self.dep, attempt, final=True, started=self.started)
        self.adm.close()

    def cut(self) -> None:
        """The client went away: stop the provider and charge what was generated so far
        (estimated), so disconnecting is never a way around a budget."""
        if self.settled:
            return
        self.opened.stream.cancel()
        usage, stats = charging.cut_stream(self.adm.call.input_tokens, self.produced, self.dep.pricing)
        disconnected = make_error(ErrorKind.ERROR_KIND_BAD_REQUEST, "client disconnected", status=499)
        self.settle(Attempt(error=disconnected, usage=usage, stats=stats))

    async def abandon(self) -> None:
        self.cut()


async def _rest(state: _Settlement) -> AsyncGenerator[provider_pb2.ChatStreamResponse, None]:
    """The remaining stream messages; settles however the stream ends, at once (a consumer stops
    reading after the end message, and this generator's ``finally`` would then only run when it
    is collected)."""
    try:
        async for msg in state.opened.stream:
            kind = msg.WhichOneof("event")
            if kind == "chunk":
                state.produced += charging.produced_chars(msg.chunk)
                yield msg
            elif kind == "anthropic_event":
                state.produced += msg.anthropic_event.output_chars
                yield msg
            elif kind == "end":
                state.settle(Attempt(stats=msg.end.stats, usage=msg.end.usage))
                yield msg
                return
            else:
                usage = msg.usage if msg.HasField("usage") else None
                state.settle(Attempt(error=msg.error, stats=msg.stats, usage=usage))
                yield msg
                return
        err = make_error(ErrorKind.ERROR_KIND_BAD_GATEWAY, "provider stream ended unexpectedly")
        state.settle(Attempt(error=err))
        yield provider_pb2.ChatStreamResponse(error=err)
    except grpc.aio.AioRpcError as exc:
        err = adapter_error(exc, state.adm.call.remaining())
        state.settle(Attempt(error=err))
        yield provider_pb2.ChatStreamResponse(error=err)
    finally:
        state.cut()


async def _empty() -> AsyncIterator[provider_pb2.ChatStreamResponse]:
    return
    yield  # pragma: no cover - makes this an async generator
