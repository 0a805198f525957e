"""Anthropic's HTTP dialect: ``POST /v1/messages`` (JSON or the Messages API's event stream) and
``POST /v1/messages/count_tokens``, in front of the same pipeline as the OpenAI routes, with
errors in Anthropic's shape and status codes. The credential comes as ``x-api-key`` (Anthropic's
SDKs) or ``Authorization``.

A Claude deployment's answer passes through as the provider wrote it (JSON bytes, or its events
one by one); another deployment's chat answer is encoded here (``dialects/anthropic``)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

import orjson
from fastapi import FastAPI, Request
from starlette.responses import Response

from switchyard.llm.v1 import error_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_edge import openapi
from switchyard_edge.dialects.anthropic.answer import message_json
from switchyard_edge.dialects.anthropic.errors import error_body, status_and_type
from switchyard_edge.dialects.anthropic.events import MessageStream
from switchyard_edge.dialects.anthropic.request import MessagesRequest, decode
from switchyard_edge.domain.call import CallType, Streaming
from switchyard_edge.errors import GatewayError
from switchyard_edge.handlers.httpio import (
    StreamResponse,
    completed_headers,
    credential_of,
    end_user_of,
    json_response,
    read_json_bytes,
    server_span,
)
from switchyard_edge.handlers.openai_api import OVERHEAD, REQUESTS
from switchyard_llm.errors import RequestError, make_error

if TYPE_CHECKING:
    from switchyard_edge.app import Edge

log = logging.getLogger(__name__)

Handler = Callable[[Request], Awaitable[Response]]


def anthropic_error(err: error_pb2.Error, headers: dict[str, str] | None = None) -> Response:
    """An error answer in the Messages API's shape (``retry-after`` where the client should wait)."""
    h = dict(headers or {})
    if err.HasField("retry_after_seconds"):
        h["retry-after"] = str(max(1, round(err.retry_after_seconds)))
    return json_response(error_body(err), status_and_type(err)[0], h)


class AnthropicRoutes:
    def __init__(self, edge: Edge) -> None:
        self._edge = edge
        self._max_body = edge.settings.max_request_body_bytes
        self._max_messages = edge.settings.max_chat_messages

    def register(self, app: FastAPI) -> dict[tuple[str, str], Handler]:
        """Add the routes to ``app`` (for its OpenAPI document); returns them for HotRoutes."""
        for path, handler, extra in (
            ("/v1/messages", self.messages, openapi.messages_route(openapi.MESSAGES_REQUEST, streams=True)),
            ("/v1/messages/count_tokens", self.count_tokens, openapi.messages_route(openapi.COUNT_TOKENS_REQUEST)),
        ):
            app.add_api_route(path, handler, methods=["POST"], openapi_extra=extra)
        return {("POST", "/v1/messages"): self.messages, ("POST", "/v1/messages/count_tokens"): self.count_tokens}

    async def _decode(self, request: Request, *, count: bool = False) -> MessagesRequest:
        raw, body = await read_json_bytes(request, self._max_body)
        beta = request.headers.get("anthropic-beta", "")
        return decode(body, raw, beta=beta, max_messages=self._max_messages, count=count)

    async def messages(self, request: Request) -> Response:
        gateway = self._edge.gateway
        with server_span(request, "POST /v1/messages") as span:
            try:
                # Credentials first: a request without a valid key never has its body parsed.
                who = await gateway.authenticate(credential_of(request), request.scope["path"])
                decoded = await self._decode(request)
                span.set_attribute("gen_ai.request.model", decoded.chat.model)
                if decoded.chat.stream:
                    streaming = await gateway.chat_stream(
                        who, decoded.chat, CallType.ANTHROPIC_MESSAGES, messages=decoded, end_user=end_user_of(request)
                    )
                    REQUESTS.labels("messages", "200").inc()
                    return StreamResponse(streaming, _events(streaming))
                done = await gateway.chat(
                    who, decoded.chat, CallType.ANTHROPIC_MESSAGES, messages=decoded, end_user=end_user_of(request)
                )
            except GatewayError as exc:
                REQUESTS.labels("messages", str(status_and_type(exc.error)[0])).inc()
                return anthropic_error(exc.error, exc.headers)
            except RequestError as exc:
                REQUESTS.labels("messages", "400").inc()
                return anthropic_error(make_error(ErrorKind.ERROR_KIND_BAD_REQUEST, str(exc), param=exc.param))
            except Exception:
                log.exception("unhandled error", extra={"path": "/v1/messages"})
                return anthropic_error(
                    make_error(ErrorKind.ERROR_KIND_INTERNAL_SERVER, "internal error in Switchyard edge")
                )
            OVERHEAD.labels("messages").observe(done.call.overhead_ms() / 1000)
            REQUESTS.labels("messages", "200").inc()
            result = done.result
            if isinstance(result, bytes):
                body = result
            else:
                body = orjson.dumps(message_json(result, f"msg_{done.call.call_id}"))
            return Response(body, media_type="application/json", headers=completed_headers(done))

    async def count_tokens(self, request: Request) -> Response:
        gateway = self._edge.gateway
        with server_span(request, "POST /v1/messages/count_tokens"):
            try:
                who = await gateway.authenticate(credential_of(request), request.scope["path"])
                tokens = await gateway.count_message_tokens(who, await self._decode(request, count=True))
            except GatewayError as exc:
                return anthropic_error(exc.error, exc.headers)
            except RequestError as exc:
                return anthropic_error(make_error(ErrorKind.ERROR_KIND_BAD_REQUEST, str(exc), param=exc.param))
            except Exception:
                log.exception("unhandled error", extra={"path": "/v1/messages/count_tokens"})
                return anthropic_error(
                    make_error(ErrorKind.ERROR_KIND_INTERNAL_SERVER, "internal error in Switchyard edge")
                )
            return json_response({"input_tokens": tokens})


async def _events(streaming: Streaming) -> AsyncIterator[bytes]:
    async for event_type, data in MessageStream(streaming):
        yield b"event: " + event_type.encode() + b"\ndata: " + data + b"\n\n"
