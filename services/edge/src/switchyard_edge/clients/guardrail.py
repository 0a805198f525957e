"""The guardrail service as the request pipeline uses it: checks of chat messages, of other texts
(embeddings inputs, an image prompt, a completion's texts and tool-call arguments) and of a
streamed answer, each within the request's deadline. Requests without guardrails never get here."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, TypeVar

import grpc

from switchyard.guardrail.v1 import guardrail_pb2
from switchyard.llm.v1 import chat_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard.provider.v1 import provider_pb2
from switchyard_edge.clients.peers import Peers
from switchyard_edge.config import Settings
from switchyard_edge.domain.call import Call
from switchyard_edge.errors import GatewayError, peer_failure
from switchyard_edge.pipeline import stream_guard
from switchyard_llm.errors import make_error

# The answers that carry an `error` for a request the service cannot check.
T = TypeVar("T", guardrail_pb2.CheckInputResponse, guardrail_pb2.CheckTextsResponse)


class GuardrailClient:
    def __init__(self, peers: Peers, settings: Settings) -> None:
        self._stub = peers.guardrail
        self._timeout = settings.guardrail_timeout_seconds
        self._window = settings.guardrail_stream_window_chars

    def _deadline(self, call: Call) -> float:
        return min(self._timeout, max(call.remaining(), 0.1))

    async def _call(self, call: Call, rpc: Callable[..., Awaitable[T]], req: Any) -> T:
        """One call within the request's deadline: the answer's ``error`` (unknown guardrails, the
        client's 400) is raised; the request's own timeout running out is its 408, any other
        failure a 503."""
        timeout = self._deadline(call)
        try:
            resp = await rpc(req, timeout=timeout)
        except grpc.aio.AioRpcError as exc:
            raise peer_failure("guardrail", exc, request_deadline=timeout < self._timeout) from None
        if resp.HasField("error"):
            raise GatewayError(resp.error)
        return resp

    async def check_input(self, call: Call, request: chat_pb2.ChatCompletionRequest) -> None:
        """Raises on a block; masks the request's messages in place."""
        names = call.guardrails()
        if not names:
            return
        req = guardrail_pb2.CheckInputRequest(
            account_id=call.principal.account_id, request_id=call.call_id, guardrails=names, messages=request.messages
        )
        resp = await self._call(call, self._stub.CheckInput, req)
        if resp.decision == guardrail_pb2.DECISION_BLOCK:
            raise GatewayError.of(ErrorKind.ERROR_KIND_GUARDRAIL_BLOCKED, resp.reason or "Request blocked by guardrail")
        if resp.decision == guardrail_pb2.DECISION_MASK:
            del request.messages[:]
            request.messages.extend(resp.messages)

    async def check_texts(
        self, call: Call, names: list[str], req: guardrail_pb2.CheckTextsRequest
    ) -> guardrail_pb2.CheckTextsResponse | None:
        """Check texts other than chat messages: raises on a block, returns the masked texts or
        None."""
        req.account_id, req.request_id = call.principal.account_id, call.call_id
        req.guardrails.extend(names)
        resp = await self._call(call, self._stub.CheckTexts, req)
        if resp.decision == guardrail_pb2.DECISION_BLOCK:
            raise GatewayError(
                make_error(ErrorKind.ERROR_KIND_GUARDRAIL_BLOCKED, resp.reason or "Blocked by guardrail")
            )
        return resp if resp.decision == guardrail_pb2.DECISION_MASK else None

    async def check_output(self, call: Call, completion: chat_pb2.ChatCompletion) -> None:
        """Raises on a block; masks the completion's texts and tool-call arguments in place."""
        names = call.guardrails()
        if not names:
            return
        texts = [c.message for c in completion.choices if c.message.WhichOneof("content") == "text"]
        calls = [tc.function for c in completion.choices for tc in c.message.tool_calls]
        if not texts and not calls:
            return
        req = guardrail_pb2.CheckTextsRequest(
            direction=guardrail_pb2.DIRECTION_OUTPUT,
            texts=[m.text for m in texts],
            json_texts=[f.arguments for f in calls],
        )
        resp = await self.check_texts(call, names, req)
        if resp is not None:
            for m, text in zip(texts, resp.texts, strict=True):
                m.text = text
            for f, args in zip(calls, resp.json_texts, strict=True):
                f.arguments = args

    def guard_stream(
        self,
        call: Call,
        names: list[str],
        first: chat_pb2.ChatCompletionChunk,
        rest: AsyncGenerator[provider_pb2.ChatStreamResponse, None],
    ) -> tuple[chat_pb2.ChatCompletionChunk, AsyncGenerator[provider_pb2.ChatStreamResponse, None]]:
        """The stream's output guardrails (``stream_guard``): the chunk that may start the
        response now and the guarded rest."""
        return stream_guard.guard(
            first,
            rest,
            lambda req, timeout: self._stub.CheckStream(req, timeout=timeout),
            guardrail_pb2.CheckStreamRequest(
                account_id=call.principal.account_id, request_id=call.call_id, guardrails=names
            ),
            window=self._window,
            timeout=lambda: self._deadline(call),
        )
