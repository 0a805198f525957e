"""OpenAI's legacy text completions: ``POST /v1/completions`` (JSON or SSE; also without ``/v1``).
A request runs the chat pipeline as a ``text_completion`` call (``dialects/completions.py``): the
provider adapter sends it as is to a deployment that serves /v1/completions, and as chat calls to
any other."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import orjson
from fastapi import FastAPI, Request
from starlette.responses import Response

from switchyard_edge import openapi
from switchyard_edge.dialects import completions
from switchyard_edge.domain.call import CallType, Streaming
from switchyard_edge.errors import GatewayError
from switchyard_edge.handlers.httpio import (
    StreamResponse,
    completed_headers,
    credential_of,
    end_user_of,
    json_response,
    openai_error,
    read_json,
    server_span,
)
from switchyard_edge.handlers.openai_api import (
    OVERHEAD,
    REQUESTS,
    Handler,
    _bad_request,
)
from switchyard_llm.errors import RequestError, openai_error_body

if TYPE_CHECKING:
    from switchyard_edge.app import Edge

_ROUTE = "completions"
_DONE = b"data: [DONE]\n\n"


class CompletionsRoutes:
    def __init__(self, edge: Edge) -> None:
        self._edge = edge
        self._max_body = edge.settings.max_request_body_bytes
        self._max_prompts = edge.settings.max_chat_messages

    def register(self, app: FastAPI) -> dict[tuple[str, str], Handler]:
        extra = openapi.model_route(openapi.COMPLETIONS_REQUEST, openapi.TEXT_COMPLETION, streams=True)
        hot: dict[tuple[str, str], Handler] = {}
        for path in ("/v1/completions", "/completions"):
            app.add_api_route(
                path, self.create, methods=["POST"], include_in_schema=path.startswith("/v1"), openapi_extra=extra
            )
            hot[("POST", path)] = self.create
        return hot

    async def create(self, request: Request) -> Response:
        gateway = self._edge.gateway
        with server_span(request, "POST /v1/completions") as span:
            try:
                who = await gateway.authenticate(credential_of(request), request.scope["path"])
                req = completions.parse_request(await read_json(request, self._max_body), max_prompts=self._max_prompts)
                span.set_attribute("gen_ai.request.model", req.model)
                if req.stream:
                    streaming = await gateway.chat_stream(
                        who, req, CallType.TEXT_COMPLETION, end_user=end_user_of(request)
                    )
                    REQUESTS.labels(_ROUTE, "200").inc()
                    return StreamResponse(streaming, _sse(streaming, req.stream_options.include_usage))
                done = await gateway.chat(who, req, CallType.TEXT_COMPLETION, end_user=end_user_of(request))
            except GatewayError as exc:
                REQUESTS.labels(_ROUTE, str(exc.error.http_status)).inc()
                return openai_error(exc.error, exc.headers)
            except RequestError as exc:
                REQUESTS.labels(_ROUTE, "400").inc()
                return _bad_request(exc)
            OVERHEAD.labels(_ROUTE).observe(done.call.overhead_ms() / 1000)
            REQUESTS.labels(_ROUTE, "200").inc()
            return json_response(completions.completion_json(done.result), headers=completed_headers(done))


def _frame(obj: object) -> bytes:
    return b"data: " + orjson.dumps(obj) + b"\n\n"


async def _sse(streaming: Streaming, include_usage: bool) -> AsyncIterator[bytes]:
    first = streaming.first_chunk
    if (out := completions.chunk_json(first)) is not None:
        yield _frame(out)
    async for msg in streaming.chunks:
        kind = msg.WhichOneof("event")
        if kind == "chunk":
            if (out := completions.chunk_json(msg.chunk)) is not None:
                yield _frame(out)
        elif kind == "end":
            if include_usage:
                yield _frame(completions.usage_chunk_json(first, msg.end.usage))
            yield _DONE
            return
        else:
            yield _frame(openai_error_body(msg.error))
            return
    yield _DONE
