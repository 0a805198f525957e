"""The gRPC Gateway API: the same pipeline as HTTP, for internal services."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from http.cookies import SimpleCookie
from typing import Any, NoReturn

import grpc
import orjson

from switchyard.auth.v1 import auth_pb2
from switchyard.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from switchyard.llm.v1 import chat_pb2, error_pb2, messages_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_edge.dialects.anthropic.answer import message_json
from switchyard_edge.dialects.anthropic.events import MessageStream
from switchyard_edge.dialects.anthropic.request import MessagesRequest, decode
from switchyard_edge.domain.call import Call, CallType, Completed
from switchyard_edge.errors import GatewayError
from switchyard_edge.gateway import Gateway
from switchyard_edge.handlers.httpio import SESSION_COOKIE, credential_from
from switchyard_llm.errors import RequestError, grpc_status, make_error
from switchyard_llm.openai_codec.checks import check_chat_request, check_embedding_request


def _credential(context: grpc.aio.ServicerContext) -> str:
    md = {k.lower(): v for k, v in (context.invocation_metadata() or ()) if isinstance(v, str)}
    cookies = SimpleCookie(md.get("cookie", ""))

    def session_cookie() -> str:
        morsel = cookies.get(SESSION_COOKIE)
        return morsel.value if morsel is not None else ""

    return credential_from(md.get, session_cookie)


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
        # Set by the HTTP dialects after their own checks: a native body would reach the provider
        # without the guardrails (which check the messages) seeing it.
        for field in ("native", "text_completion"):
            if req.HasField(field):
                raise RequestError(f"'{field}' is set by the HTTP API only", field)

    async def _messages(
        self, context: grpc.aio.ServicerContext, request: messages_pb2.AnthropicMessagesRequest, *, count: bool = False
    ) -> MessagesRequest:
        try:
            body = orjson.loads(request.body_json)
        except orjson.JSONDecodeError as exc:
            await _abort(context, make_error(ErrorKind.ERROR_KIND_BAD_REQUEST, f"body_json is not valid JSON: {exc}"))
        try:
            return decode(
                body,
                request.body_json,
                beta=request.beta,
                max_messages=self._gw.settings.max_chat_messages,
                count=count,
            )
        except RequestError as exc:
            await _abort(context, make_error(ErrorKind.ERROR_KIND_BAD_REQUEST, str(exc), param=exc.param))

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
        first = streaming.first
        assert isinstance(first, chat_pb2.ChatCompletionChunk), (
            "only Messages API requests stream a provider's own events"
        )
        try:
            yield gateway_pb2.StreamChatCompletionResponse(chunk=first)
            async for msg in streaming.chunks:
                kind = msg.WhichOneof("event")
                if kind == "chunk":
                    yield gateway_pb2.StreamChatCompletionResponse(chunk=msg.chunk)
                elif kind == "end":
                    final = gateway_pb2.StreamChatCompletionResponse(info=_info(streaming.call, msg.end.stats.cost_usd))
                    final.chunk.id = first.id
                    final.chunk.model = first.model
                    final.chunk.created = first.created
                    final.chunk.usage.CopyFrom(msg.end.usage)
                    yield final
                    return
                else:
                    await _abort(context, msg.error)
        finally:
            # A client that cancels before the rest of the stream was read: settle it here.
            await streaming.close()

    async def CreateMessage(
        self, request: gateway_pb2.CreateMessageRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.CreateMessageResponse:
        who = await self._principal(context, "/v1/messages")
        decoded = await self._messages(context, request.request)
        decoded.chat.stream = False
        try:
            done = await self._gw.chat(who, decoded.chat, CallType.ANTHROPIC_MESSAGES, messages=decoded)
        except GatewayError as exc:
            await _abort(context, exc.error)
        result = done.result
        body = result if isinstance(result, bytes) else orjson.dumps(message_json(result, f"msg_{done.call.call_id}"))
        return gateway_pb2.CreateMessageResponse(message_json=body, info=_info(done.call, done.stats.cost_usd))

    async def StreamMessage(
        self, request: gateway_pb2.StreamMessageRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[gateway_pb2.StreamMessageResponse]:
        who = await self._principal(context, "/v1/messages")
        decoded = await self._messages(context, request.request)
        decoded.chat.stream = True
        try:
            streaming = await self._gw.chat_stream(who, decoded.chat, CallType.ANTHROPIC_MESSAGES, messages=decoded)
        except GatewayError as exc:
            await _abort(context, exc.error)
        events = MessageStream(streaming)
        try:
            previous: messages_pb2.AnthropicEvent | None = None
            async for event_type, data in events:
                if events.error is not None:
                    # As in StreamChatCompletion: a failure after the first event is a status.
                    await _abort(context, events.error)
                # Each event goes out once the next is in hand, so the last can carry the info.
                if previous is not None:
                    yield gateway_pb2.StreamMessageResponse(event=previous)
                previous = messages_pb2.AnthropicEvent(type=event_type, data_json=data)
            last = gateway_pb2.StreamMessageResponse(event=previous)
            if events.end is not None:
                last.info.CopyFrom(_info(streaming.call, events.end.stats.cost_usd))
            yield last
        finally:
            await streaming.close()

    async def CountMessageTokens(
        self, request: gateway_pb2.CountMessageTokensRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.CountMessageTokensResponse:
        who = await self._principal(context, "/v1/messages/count_tokens")
        decoded = await self._messages(context, request.request, count=True)
        try:
            tokens = await self._gw.count_message_tokens(who, decoded)
        except GatewayError as exc:
            await _abort(context, exc.error)
        return gateway_pb2.CountMessageTokensResponse(input_tokens=tokens)

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
