"""The edge's side of streamed output guardrails: text is held until checked, released per window
and at each choice's end (before its finish chunk), and a check that fails ends the stream with
an error frame, never with unchecked text. The guardrail service is stood in for by a function
that keeps CheckStream's contract (mask "SECRET", hold back the last 6 characters and a match reaching into them)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import grpc
import pytest

from switchyard.guardrail.v1 import guardrail_pb2
from switchyard.llm.v1 import chat_pb2, error_pb2
from switchyard.provider.v1 import provider_pb2
from switchyard_edge.pipeline import stream_guard

HOLD = 6  # len("SECRET"): no match can start in text already released


class FakeChecks:
    def __init__(self, fail_after: int | None = None) -> None:
        self.calls: list[guardrail_pb2.CheckStreamRequest] = []
        self.fail_after = fail_after

    async def __call__(
        self, req: guardrail_pb2.CheckStreamRequest, timeout: float
    ) -> guardrail_pb2.CheckStreamResponse:
        self.calls.append(req)
        if self.fail_after is not None and len(self.calls) > self.fail_after:
            raise grpc.aio.AioRpcError(grpc.StatusCode.UNAVAILABLE, grpc.aio.Metadata(), grpc.aio.Metadata(), "down")
        out = guardrail_pb2.CheckStreamResponse(decision=guardrail_pb2.DECISION_ALLOW)
        for seg in req.segments:
            if "BLOCK" in seg.text:
                return guardrail_pb2.CheckStreamResponse(decision=guardrail_pb2.DECISION_BLOCK, reason="blocked: x")
            cut = len(seg.text) if seg.final else max(0, len(seg.text) - HOLD)
            at = seg.text.find("SECRET")
            if 0 <= at < cut < at + len("SECRET"):
                cut = at
            out.releases.add(key=seg.key, text=seg.text[:cut].replace("SECRET", "[X]"), consumed=cut)
        return out


def _chunk(choice: int, content: str = "", finish: str = "", args: str = "") -> provider_pb2.ChatStreamResponse:
    c = chat_pb2.ChatCompletionChunk(id="c1", created=1, model="m")
    ch = c.choices.add(index=choice)
    if content:
        ch.delta.content = content
    if args:
        ch.delta.tool_calls.add(index=0, arguments=args)
    ch.finish_reason = finish
    return provider_pb2.ChatStreamResponse(chunk=c)


class Upstream:
    def __init__(self, msgs: list[provider_pb2.ChatStreamResponse]) -> None:
        self.msgs = msgs
        self.closed = False

    async def gen(self) -> AsyncGenerator[provider_pb2.ChatStreamResponse, None]:
        try:
            for m in self.msgs:
                yield m
        finally:
            self.closed = True


def _first() -> chat_pb2.ChatCompletionChunk:
    first = chat_pb2.ChatCompletionChunk(id="c1", created=1, model="m")
    for i in range(2):
        first.choices.add(index=i).delta.role = "assistant"
    first.choices[0].delta.content = "hi "
    return first


async def _run(
    checks: FakeChecks, msgs: list[provider_pb2.ChatStreamResponse], window: int = 8
) -> tuple[chat_pb2.ChatCompletionChunk, list[provider_pb2.ChatStreamResponse], Upstream]:
    up = Upstream(msgs)
    head, rest = stream_guard.guard(
        _first(), up.gen(), checks, guardrail_pb2.CheckStreamRequest(guardrails=["g"]), window=window, timeout=lambda: 1
    )
    return head, [m async for m in rest], up


def _text(out: list[provider_pb2.ChatStreamResponse], choice: int) -> str:
    return "".join(c.delta.content for m in out if m.HasField("chunk") for c in m.chunk.choices if c.index == choice)


async def test_text_is_released_checked_per_window_and_before_each_finish() -> None:
    checks = FakeChecks()
    msgs = [
        _chunk(0, "my SEC"),
        _chunk(1, "other "),
        _chunk(0, "RET is here, "),
        _chunk(1, "choice text"),
        _chunk(0, "bye", finish="stop"),
        _chunk(1, "", args='{"a": "SECRET"}'),
        _chunk(1, finish="tool_calls"),
        provider_pb2.ChatStreamResponse(end=provider_pb2.StreamEnd()),
    ]
    head, out, up = await _run(checks, msgs)
    assert [c.delta.role for c in head.choices] == ["assistant", "assistant"]
    assert all(not c.delta.content for c in head.choices), "the first chunk's text waits for its check"
    assert _text(out, 0) == "hi my [X] is here, bye"
    assert _text(out, 1) == "other choice text"
    args = "".join(
        tc.arguments for m in out if m.HasField("chunk") for c in m.chunk.choices for tc in c.delta.tool_calls
    )
    assert args == '{"a": "[X]"}'
    # Choice 0's last text comes before its finish chunk.
    finish_at = next(i for i, m in enumerate(out) if m.HasField("chunk") and m.chunk.choices[0].finish_reason == "stop")
    assert "bye" in _text(out[:finish_at], 0)
    assert out[-1].HasField("end") and up.closed
    assert len(checks.calls) < len(msgs), "one check per window, not per chunk"


async def test_a_block_ends_the_stream_and_closes_the_upstream() -> None:
    msgs = [_chunk(0, "fine text then BLOCK me"), _chunk(0, "never sent")]
    _, out, up = await _run(FakeChecks(), msgs)
    assert out[-1].error.kind == error_pb2.ERROR_KIND_GUARDRAIL_BLOCKED
    assert out[-1].error.message == "blocked: x"
    assert "BLOCK" not in _text(out, 0) and "never" not in _text(out, 0)
    assert up.closed


@pytest.mark.parametrize("fail_after", [0, 1])
async def test_an_unavailable_guardrail_never_lets_text_through_unchecked(fail_after: int) -> None:
    msgs = [
        _chunk(0, "aaaaaaaaaaaa"),
        _chunk(0, "bbbbbbbbbbbb"),
        provider_pb2.ChatStreamResponse(end=provider_pb2.StreamEnd()),
    ]
    _, out, up = await _run(FakeChecks(fail_after=fail_after), msgs)
    assert out[-1].error.kind == error_pb2.ERROR_KIND_SERVICE_UNAVAILABLE
    assert "bbbb" not in _text(out, 0)
    assert up.closed
