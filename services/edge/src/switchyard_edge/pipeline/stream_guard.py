"""Output guardrails on a streamed chat answer, without buffering the whole answer.

The text of each choice (and the arguments of each of its tool calls) is held back until the
guardrail service has seen it: every ``window`` characters that arrive, one CheckStream call (for
all of them at once, never one per chunk) returns the checked text that may go out now and how
much stays back. The service holds back a bounded tail: the longest text a rule can show before
it matches (e.g. 160 bytes for PII, see the guardrail service's ``Rule.lead``), plus a match that
reaches into that tail and may still grow, so no match can straddle text already sent. A choice's
remaining text is released when it finishes, the rest when the stream ends. A block stops the
stream with a final OpenAI-shaped error; so does a guardrail service that cannot answer (text is
never sent unchecked).

Only streams of keys with guardrails come here: the others pay nothing."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable

import grpc

from switchyard.guardrail.v1 import guardrail_pb2
from switchyard.llm.v1 import chat_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard.provider.v1 import provider_pb2
from switchyard_edge.errors import peer_failure
from switchyard_llm.errors import make_error

# (choice index, tool-call index or -1 for the choice's content)
Key = tuple[int, int]
Check = Callable[[guardrail_pb2.CheckStreamRequest, float], Awaitable[guardrail_pb2.CheckStreamResponse]]


def guard(
    first: chat_pb2.ChatCompletionChunk,
    rest: AsyncGenerator[provider_pb2.ChatStreamResponse, None],
    check: Check,
    template: guardrail_pb2.CheckStreamRequest,
    *,
    window: int,
    timeout: Callable[[], float],
) -> tuple[chat_pb2.ChatCompletionChunk, AsyncGenerator[provider_pb2.ChatStreamResponse, None]]:
    """Guard a stream that starts with ``first``: returns the chunk that may start the response
    now (the first chunk's metadata and roles) and the guarded rest. ``check`` is the guardrail
    service's CheckStream; ``template`` carries the ids and guardrail names of every call."""
    head = chat_pb2.ChatCompletionChunk()
    head.CopyFrom(first)
    del head.choices[:]
    head.ClearField("usage")
    for choice in first.choices:
        role = head.choices.add(index=choice.index)
        if choice.delta.HasField("role"):
            role.delta.role = choice.delta.role
            choice.delta.ClearField("role")
    guarded = _Guard(check, template, window, timeout, first)
    return head, guarded.run(first, rest)


def _bare_tool_call(tc: chat_pb2.ToolCallDelta) -> bool:
    return not (tc.HasField("id") or tc.HasField("type") or tc.HasField("name") or tc.extra_json)


def _bare(choice: chat_pb2.ChunkChoice) -> bool:
    return not (choice.finish_reason or choice.logprobs_json or choice.extra_json or choice.delta.ByteSize())


class _Guard:
    def __init__(
        self,
        check: Check,
        template: guardrail_pb2.CheckStreamRequest,
        window: int,
        timeout: Callable[[], float],
        meta: chat_pb2.ChatCompletionChunk,
    ) -> None:
        self._check = check
        self._template = template
        self._window = window
        self._timeout = timeout
        self._meta = meta
        # Text received and not yet sent, per choice content and tool call.
        self._pending: dict[Key, str] = {}
        # Characters arrived since the last check.
        self._fresh = 0

    def _take(self, chunk: chat_pb2.ChatCompletionChunk) -> bool:
        """Move the chunk's text into the pending text; whether anything else is left to send."""
        for choice in chunk.choices:
            delta = choice.delta
            if delta.content:
                self._add((choice.index, -1), delta.content)
                delta.ClearField("content")
            for i in reversed(range(len(delta.tool_calls))):
                tc = delta.tool_calls[i]
                if tc.arguments:
                    self._add((choice.index, tc.index), tc.arguments)
                    tc.ClearField("arguments")
                    if _bare_tool_call(tc):
                        del delta.tool_calls[i]
        return not chunk.choices or chunk.HasField("usage") or not all(_bare(c) for c in chunk.choices)

    def _add(self, key: Key, text: str) -> None:
        self._pending[key] = self._pending.get(key, "") + text
        self._fresh += len(text)

    async def _release(self, final: set[int] | None) -> provider_pb2.ChatStreamResponse | None:
        """Check the pending text (choices in ``final``, or all when None, have ended): a chunk
        with the text that may go out, an error that ends the stream, or None."""
        keys = [k for k, text in self._pending.items() if text or final is None or k[0] in final]
        self._fresh = 0
        if not keys:
            return None
        req = guardrail_pb2.CheckStreamRequest()
        req.CopyFrom(self._template)
        for k in keys:
            req.segments.add(
                key=f"{k[0]}.{k[1]}", text=self._pending[k], final=final is None or k[0] in final, json=k[1] >= 0
            )
        try:
            resp = await self._check(req, self._timeout())
        except grpc.aio.AioRpcError as exc:
            return provider_pb2.ChatStreamResponse(error=peer_failure("guardrail", exc).error)
        if resp.HasField("error"):
            return provider_pb2.ChatStreamResponse(error=resp.error)
        if resp.decision == guardrail_pb2.DECISION_BLOCK:
            err = make_error(ErrorKind.ERROR_KIND_GUARDRAIL_BLOCKED, resp.reason or "Response blocked by guardrail")
            return provider_pb2.ChatStreamResponse(error=err)
        out = chat_pb2.ChatCompletionChunk(id=self._meta.id, created=self._meta.created, model=self._meta.model)
        if self._meta.HasField("system_fingerprint"):
            out.system_fingerprint = self._meta.system_fingerprint
        choices: dict[int, chat_pb2.ChunkChoice] = {}
        for k, seg, rel in zip(keys, req.segments, resp.releases, strict=True):
            if seg.final:
                del self._pending[k]
            else:
                self._pending[k] = seg.text[rel.consumed :]
            if not rel.text:
                continue
            choice = choices.get(k[0])
            if choice is None:
                choice = choices[k[0]] = out.choices.add(index=k[0])
            if k[1] < 0:
                choice.delta.content = rel.text
            else:
                choice.delta.tool_calls.add(index=k[1], arguments=rel.text)
        return provider_pb2.ChatStreamResponse(chunk=out) if out.choices else None

    async def run(
        self, first: chat_pb2.ChatCompletionChunk, rest: AsyncGenerator[provider_pb2.ChatStreamResponse, None]
    ) -> AsyncGenerator[provider_pb2.ChatStreamResponse, None]:
        try:
            msg: provider_pb2.ChatStreamResponse | None = provider_pb2.ChatStreamResponse(chunk=first)
            while msg is not None:
                kind = msg.WhichOneof("event")
                if kind == "chunk":
                    finished = {c.index for c in msg.chunk.choices if c.finish_reason}
                    keep = self._take(msg.chunk)
                    if finished or self._fresh >= self._window:
                        released = await self._release(finished)
                        if released is not None:
                            yield released
                            if released.HasField("error"):
                                return
                    if keep:
                        yield msg
                else:
                    # The end or an error: what is still held back is checked and sent first.
                    released = await self._release(None)
                    if released is not None:
                        yield released
                        if released.HasField("error"):
                            return
                    yield msg
                    return
                msg = await anext(rest, None)
        finally:
            # Stopping early (a block, or the client gone) closes the provider stream, which
            # records the attempt.
            await rest.aclose()
