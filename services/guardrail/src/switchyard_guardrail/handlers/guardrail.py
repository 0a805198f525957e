"""gRPC GuardrailService: checks of request messages, lists of texts and generated text (whole or
streamed window by window). Each check is bounded in size (``max_scan_chars``) and time
(``scan_deadline_seconds``); large ones run on a worker thread so small ones keep being answered."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import grpc

from switchyard.guardrail.v1 import guardrail_pb2, guardrail_pb2_grpc
from switchyard.llm.v1 import chat_pb2, error_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_guardrail.config import Settings
from switchyard_guardrail.domain.detectors import (
    BLOCK,
    MASK,
    Batch,
    Finding,
    ScanTimeout,
    canonical,
    check_stream_segment,
    scan,
)
from switchyard_llm.errors import make_error

T = TypeVar("T")

_DECISION = {
    "allow": guardrail_pb2.DECISION_ALLOW,
    MASK: guardrail_pb2.DECISION_MASK,
    BLOCK: guardrail_pb2.DECISION_BLOCK,
}
# (text, is JSON, where its checked version goes)
Slot = tuple[str, bool, Callable[[str], None]]


def _findings(found: list[Finding]) -> list[guardrail_pb2.Finding]:
    return [guardrail_pb2.Finding(guardrail=g, category=c, action=_DECISION[a]) for g, c, a in found]


def _message_slots(msg: chat_pb2.ChatMessage) -> Iterator[Slot]:
    """The texts of a message a guardrail checks: its text or text parts (a tool result is a
    message of role tool), its tool calls' arguments and a legacy function call's arguments."""
    which = msg.WhichOneof("content")
    if which == "text":
        yield msg.text, False, lambda t: setattr(msg, "text", t)
    elif which == "parts":
        for part in msg.parts.parts:
            if part.WhichOneof("part") == "text":
                yield part.text, False, lambda t, p=part: setattr(p, "text", t)  # type: ignore[misc]
    for call in msg.tool_calls:
        yield call.function.arguments, True, lambda t, f=call.function: setattr(f, "arguments", t)  # type: ignore[misc]
    if msg.HasField("function_call"):
        yield msg.function_call.arguments, True, lambda t: setattr(msg.function_call, "arguments", t)


def _list_slots(values: list[str], is_json: bool) -> Iterator[Slot]:
    for i, text in enumerate(values):
        yield text, is_json, lambda t, i=i: values.__setitem__(i, t)  # type: ignore[misc]


def _reason(direction: str, findings: list[Finding]) -> str:
    cats = sorted({c for _, c, a in findings if a == BLOCK})
    return f"{direction} blocked by guardrail: {', '.join(cats)}"


class GuardrailServicer(guardrail_pb2_grpc.GuardrailServiceServicer):
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self._pool = ThreadPoolExecutor(max_workers=self.settings.scan_threads, thread_name_prefix="guardrail-scan")
        self._queued = 0

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    # --- bounds -------------------------------------------------------------------------
    @staticmethod
    def _names(requested: list[str]) -> tuple[list[str], error_pb2.Error | None]:
        """The canonical names, or the client's error naming those this service does not know
        (the names come from the request or the key: an answer, not a failure of the call)."""
        known: list[str] = []
        unknown: list[str] = []
        for n in requested:
            c = canonical(n)
            if c:
                known.append(c)
            else:
                unknown.append(n)
        if unknown:
            message = f"unknown guardrail(s): {', '.join(unknown)}"
            return [], make_error(ErrorKind.ERROR_KIND_BAD_REQUEST, message, param="guardrails")
        return list(dict.fromkeys(known)), None

    def _too_large(self, size: int, what: str) -> str | None:
        """The refusal of a check over the size cap: blocked, never passed unchecked."""
        cap = self.settings.max_scan_chars
        if size <= cap:
            return None
        return f"guardrail {what} too large: {size} characters to check, at most {cap} are checked per request"

    async def _run(self, size: int, context: grpc.aio.ServicerContext, work: Callable[[float], T]) -> T:
        """Run ``work(deadline)``: at once when small, else on a worker thread. A scan past its
        deadline ends the call with DEADLINE_EXCEEDED; too many large scans waiting, with
        RESOURCE_EXHAUSTED."""
        budget = self.settings.scan_deadline_seconds
        remaining = context.time_remaining()
        if remaining is not None:
            # Answer before the caller gives up, so it hears why.
            budget = min(budget, max(0.0, remaining - 0.05))
        deadline = time.monotonic() + budget
        try:
            if size <= self.settings.inline_scan_chars:
                return work(deadline)
            if self._queued >= self.settings.max_queued_scans:
                await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "guardrail service busy with large checks")
            self._queued += 1
            try:
                return await asyncio.get_running_loop().run_in_executor(self._pool, work, deadline)
            finally:
                self._queued -= 1
        except ScanTimeout:
            await context.abort(
                grpc.StatusCode.DEADLINE_EXCEEDED, f"guardrail check took longer than {budget:.2f}s ({size} characters)"
            )
            raise

    async def _check_slots(
        self, names: list[str], slots: list[Slot], context: grpc.aio.ServicerContext, what: str
    ) -> tuple[Batch | None, str | None]:
        """Scan every slot, writing masked texts back; (the batch, None) or (None, refusal)."""
        size = sum(len(text) for text, _, _ in slots)
        refusal = self._too_large(size, what)
        if refusal is not None:
            return None, refusal

        def work(deadline: float) -> Batch:
            batch = Batch(names, deadline)
            for text, is_json, put in slots:
                checked = batch.json(text) if is_json else batch.text(text)
                if checked is not text:
                    put(checked)
            return batch

        return await self._run(size, context, work), None

    # --- RPCs ---------------------------------------------------------------------------
    async def CheckInput(
        self, request: guardrail_pb2.CheckInputRequest, context: grpc.aio.ServicerContext
    ) -> guardrail_pb2.CheckInputResponse:
        names, unknown = self._names(list(request.guardrails))
        if unknown is not None:
            return guardrail_pb2.CheckInputResponse(error=unknown)
        out = guardrail_pb2.CheckInputResponse(decision=guardrail_pb2.DECISION_ALLOW)
        out.messages.extend(request.messages)
        slots = [slot for msg in out.messages for slot in _message_slots(msg)]
        batch, refusal = await self._check_slots(names, slots, context, "input")
        if batch is None:
            return guardrail_pb2.CheckInputResponse(decision=guardrail_pb2.DECISION_BLOCK, reason=refusal)
        out.decision = _DECISION[batch.decision]
        out.findings.extend(_findings(batch.findings))
        if batch.decision == BLOCK:
            out.reason = _reason("Request", batch.findings)
        if batch.decision != MASK:
            del out.messages[:]
        return out

    async def CheckTexts(
        self, request: guardrail_pb2.CheckTextsRequest, context: grpc.aio.ServicerContext
    ) -> guardrail_pb2.CheckTextsResponse:
        names, unknown = self._names(list(request.guardrails))
        if unknown is not None:
            return guardrail_pb2.CheckTextsResponse(error=unknown)
        output = request.direction == guardrail_pb2.DIRECTION_OUTPUT
        texts, json_texts = list(request.texts), list(request.json_texts)
        slots = [*_list_slots(texts, False), *_list_slots(json_texts, True)]
        batch, refusal = await self._check_slots(names, slots, context, "output" if output else "input")
        if batch is None:
            return guardrail_pb2.CheckTextsResponse(decision=guardrail_pb2.DECISION_BLOCK, reason=refusal)
        out = guardrail_pb2.CheckTextsResponse(decision=_DECISION[batch.decision], findings=_findings(batch.findings))
        if batch.decision == BLOCK:
            out.reason = _reason("Response" if output else "Request", batch.findings)
        elif batch.decision == MASK:
            out.texts.extend(texts)
            out.json_texts.extend(json_texts)
        return out

    async def CheckOutput(
        self, request: guardrail_pb2.CheckOutputRequest, context: grpc.aio.ServicerContext
    ) -> guardrail_pb2.CheckOutputResponse:
        names, unknown = self._names(list(request.guardrails))
        if unknown is not None:
            return guardrail_pb2.CheckOutputResponse(error=unknown)
        text = request.text
        refusal = self._too_large(len(text), "output")
        if refusal is not None:
            return guardrail_pb2.CheckOutputResponse(decision=guardrail_pb2.DECISION_BLOCK, reason=refusal)
        res = await self._run(len(text), context, lambda deadline: scan(text, names, deadline=deadline))
        out = guardrail_pb2.CheckOutputResponse(decision=_DECISION[res.decision], findings=_findings(res.findings))
        if res.decision == MASK:
            out.text = res.text
        elif res.decision == BLOCK:
            out.reason = "Response blocked by guardrail: " + ", ".join(sorted({c for _, c, _ in res.findings}))
        return out

    async def CheckStream(
        self, request: guardrail_pb2.CheckStreamRequest, context: grpc.aio.ServicerContext
    ) -> guardrail_pb2.CheckStreamResponse:
        names, unknown = self._names(list(request.guardrails))
        if unknown is not None:
            return guardrail_pb2.CheckStreamResponse(error=unknown)
        segments = list(request.segments)
        size = sum(len(s.text) for s in segments)
        refusal = self._too_large(size, "output")
        if refusal is not None:
            return guardrail_pb2.CheckStreamResponse(decision=guardrail_pb2.DECISION_BLOCK, reason=refusal)
        held = self.settings.stream_max_held_bytes

        def work(deadline: float) -> guardrail_pb2.CheckStreamResponse:
            out = guardrail_pb2.CheckStreamResponse(decision=guardrail_pb2.DECISION_ALLOW)
            for seg in segments:
                piece = check_stream_segment(
                    seg.text, names, final=seg.final, max_held=held, deadline=deadline, raw_json=seg.json
                )
                res = piece.result
                out.findings.extend(_findings(res.findings))
                if res.decision == BLOCK:
                    return guardrail_pb2.CheckStreamResponse(
                        decision=guardrail_pb2.DECISION_BLOCK,
                        findings=out.findings,
                        reason=_reason("Response", res.findings),
                    )
                if res.decision == MASK:
                    out.decision = guardrail_pb2.DECISION_MASK
                out.releases.add(key=seg.key, text=res.text, consumed=piece.consumed)
            return out

        return await self._run(size, context, work)
