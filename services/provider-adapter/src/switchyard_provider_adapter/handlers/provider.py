"""gRPC ProviderService → executor."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc

from switchyard.provider.v1 import provider_pb2, provider_pb2_grpc
from switchyard_provider_adapter.executor import Executor


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
