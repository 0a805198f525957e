"""gRPC ProviderService → executor."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import grpc
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from switchyard.provider.v1 import provider_pb2, provider_pb2_grpc
from switchyard_common.tracing import context_from, untraced
from switchyard_provider_adapter.executor import Executor

log = logging.getLogger(__name__)
_tracer = trace.get_tracer("switchyard.provider")

# Answers waiting for a slow reader: beyond this the calls producing them wait (flow control).
_SESSION_QUEUE = 10_000
_SPAN_NAMES = {
    "chat": "Chat",
    "chat_stream": "ChatStream",
    "embed": "Embed",
    "image": "GenerateImage",
    "count_tokens": "CountTokens",
}


class ProviderServicer(provider_pb2_grpc.ProviderServiceServicer):
    def __init__(self, executor: Executor) -> None:
        self._executor = executor

    async def Chat(
        self, request: provider_pb2.ChatRequest, context: grpc.aio.ServicerContext
    ) -> provider_pb2.ChatResponse:
        return await self._executor.chat(request)

    async def ChatStream(
        self, request: provider_pb2.ChatStreamRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[provider_pb2.ChatStreamResponse]:
        async for item in self._executor.chat_stream(request):
            yield item

    async def Embed(
        self, request: provider_pb2.EmbedRequest, context: grpc.aio.ServicerContext
    ) -> provider_pb2.EmbedResponse:
        return await self._executor.embed(request)

    async def GenerateImage(
        self, request: provider_pb2.GenerateImageRequest, context: grpc.aio.ServicerContext
    ) -> provider_pb2.GenerateImageResponse:
        return await self._executor.generate_image(request)

    async def CountTokens(
        self, request: provider_pb2.CountTokensRequest, context: grpc.aio.ServicerContext
    ) -> provider_pb2.CountTokensResponse:
        return await self._executor.count_tokens(request)

    @untraced  # each request in the session gets its own span
    async def Session(
        self, request_iterator: AsyncIterator[provider_pb2.SessionRequest], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[provider_pb2.SessionResponse]:
        out: asyncio.Queue[provider_pb2.SessionResponse | None] = asyncio.Queue(_SESSION_QUEUE)
        calls: dict[int, asyncio.Task[None]] = {}
        loop = asyncio.get_running_loop()

        async def run(req: provider_pb2.SessionRequest) -> None:
            kind = req.WhichOneof("body")
            try:
                with _tracer.start_as_current_span(
                    f"/switchyard.provider.v1.ProviderService/{_SPAN_NAMES.get(kind or '', kind)}",
                    context=context_from(dict(req.trace_context)),
                    kind=SpanKind.SERVER,
                ):
                    if kind == "chat":
                        await out.put(provider_pb2.SessionResponse(id=req.id, chat=await self._executor.chat(req.chat)))
                    elif kind == "chat_stream":
                        async for event in self._executor.chat_stream(req.chat_stream):
                            await out.put(provider_pb2.SessionResponse(id=req.id, stream_event=event))
                    elif kind == "embed":
                        await out.put(
                            provider_pb2.SessionResponse(id=req.id, embed=await self._executor.embed(req.embed))
                        )
                    elif kind == "image":
                        result = await self._executor.generate_image(req.image)
                        await out.put(provider_pb2.SessionResponse(id=req.id, image=result))
                    elif kind == "count_tokens":
                        counted = await self._executor.count_tokens(req.count_tokens)
                        await out.put(provider_pb2.SessionResponse(id=req.id, count_tokens=counted))
                    else:
                        await out.put(provider_pb2.SessionResponse(id=req.id, failure=f"unknown request {kind!r}"))
            except asyncio.CancelledError:
                pass
            except Exception as exc:
                log.exception("session call failed")
                await out.put(provider_pb2.SessionResponse(id=req.id, failure=type(exc).__name__))
            finally:
                calls.pop(req.id, None)

        async def read() -> None:
            try:
                async for req in request_iterator:
                    if req.WhichOneof("body") == "cancel":
                        task = calls.pop(req.id, None)
                        if task is not None:
                            task.cancel()
                        continue
                    calls[req.id] = loop.create_task(run(req))
                # The client closed its side: finish what is running, then end the session.
                while calls:
                    await asyncio.gather(*list(calls.values()), return_exceptions=True)
            finally:
                await out.put(None)

        reader = loop.create_task(read())
        try:
            while (item := await out.get()) is not None:
                yield item
        finally:
            reader.cancel()
            for task in list(calls.values()):
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
