"""The gRPC Gateway API: the same pipeline as HTTP, for internal services."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, NoReturn

import grpc

from switchyard.auth.v1 import auth_pb2
from switchyard.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from switchyard.llm.v1 import error_pb2
from switchyard_edge.domain.call import Call, Completed
from switchyard_edge.errors import GatewayError
from switchyard_edge.gateway import Gateway
from switchyard_llm.errors import RequestError, grpc_status
from switchyard_llm.openai_codec.checks import check_chat_request, check_embedding_request


def _credential(context: grpc.aio.ServicerContext) -> str:
    md = {k.lower(): v for k, v in (context.invocation_metadata() or ()) if isinstance(v, str)}
    auth = md.get("authorization", "")
    if auth:
        scheme, _, value = auth.partition(" ")
        return value.strip() if scheme.lower() == "bearer" else auth.strip()
    return md.get("x-api-key", "").strip()


async def _check(context: grpc.aio.ServicerContext, check: Callable[[Any], None], request: Any) -> None:
    try:
        check(request)
    except RequestError as exc:
        await _abort(context, exc.error)


async def _abort(context: grpc.aio.ServicerContext, err: error_pb2.Error) -> NoReturn:
    await context.abort(
        grpc_status(err.kind), err.message, trailing_metadata=(("switchyard-error-bin", err.SerializeToString()),)
    )
    raise AssertionError("unreachable")


def _info(call: Call, cost: str) -> gateway_pb2.CallInfo:
    return gateway_pb2.CallInfo(
        call_id=call.call_id,
        response_cost=cost,
        model_group=call.model_group,
        deployment_id=call.deployment.id if call.deployment else "",
        overhead_ms=call.overhead_ms(),
        attempted_retries=call.retries,
        attempted_fallbacks=call.fallbacks,
    )


class GatewayServicer(gateway_pb2_grpc.GatewayServiceServicer):
    def __init__(self, gateway: Gateway) -> None:
        self._gw = gateway

    def _check_chat(self, req: Any) -> None:
        check_chat_request(req, max_messages=self._gw.settings.max_chat_messages)

    async def _principal(self, context: grpc.aio.ServicerContext, route: str) -> auth_pb2.Principal:
        """The caller; ``route``: the HTTP route of the same call, which its key's
        ``allowed_routes`` must allow."""
        try:
            return await self._gw.authenticate(_credential(context), route)
        except GatewayError as exc:
            await _abort(context, exc.error)

    async def CreateChatCompletion(
        self, request: gateway_pb2.CreateChatCompletionRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.CreateChatCompletionResponse:
        who = await self._principal(context, "/v1/chat/completions")
        req = request.request
        await _check(context, self._check_chat, req)
        req.stream = False
        try:
            done: Completed = await self._gw.chat(who, req)
        except GatewayError as exc:
            await _abort(context, exc.error)
        return gateway_pb2.CreateChatCompletionResponse(
            completion=done.result, info=_info(done.call, done.stats.cost_usd)
        )

    async def StreamChatCompletion(
        self, request: gateway_pb2.StreamChatCompletionRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[gateway_pb2.StreamChatCompletionResponse]:
        who = await self._principal(context, "/v1/chat/completions")
        req = request.request
        await _check(context, self._check_chat, req)
        req.stream = True
        try:
            streaming = await self._gw.chat_stream(who, req)
        except GatewayError as exc:
            await _abort(context, exc.error)
        try:
            yield gateway_pb2.StreamChatCompletionResponse(chunk=streaming.first)
            async for msg in streaming.chunks:
                kind = msg.WhichOneof("event")
                if kind == "chunk":
                    yield gateway_pb2.StreamChatCompletionResponse(chunk=msg.chunk)
                elif kind == "end":
                    final = gateway_pb2.StreamChatCompletionResponse(info=_info(streaming.call, msg.end.stats.cost_usd))
                    final.chunk.id = streaming.first.id
                    final.chunk.model = streaming.first.model
                    final.chunk.created = streaming.first.created
                    final.chunk.usage.CopyFrom(msg.end.usage)
                    yield final
                    return
                else:
                    await _abort(context, msg.error)
        finally:
            # A client that cancels before the rest of the stream was read: settle it here.
            await streaming.close()

    async def CreateEmbedding(
        self, request: gateway_pb2.CreateEmbeddingRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.CreateEmbeddingResponse:
        who = await self._principal(context, "/v1/embeddings")
        await _check(context, check_embedding_request, request.request)
        try:
            done = await self._gw.embeddings(who, request.request)
        except GatewayError as exc:
            await _abort(context, exc.error)
        return gateway_pb2.CreateEmbeddingResponse(embeddings=done.result, info=_info(done.call, done.stats.cost_usd))

    async def ListModels(
        self, request: gateway_pb2.ListModelsRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.ListModelsResponse:
        who = await self._principal(context, "/v1/models")
        try:
            models = await self._gw.list_models(who)
        except GatewayError as exc:
            await _abort(context, exc.error)
        return gateway_pb2.ListModelsResponse(models=models)
