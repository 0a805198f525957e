"""OpenAI's HTTP dialect: ``/v1/chat/completions`` (JSON or SSE), ``/v1/embeddings``,
``/v1/images/generations`` and ``/v1/models`` (each also without ``/v1``). A route decodes its body
into the pipeline's protobuf request, runs the pipeline and encodes the answer, the stream or the
error in OpenAI's shape; another dialect is another such module in front of the same pipeline.

Bodies are read only after the credential is checked, within the route's own size cap."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson
from fastapi import FastAPI, Request
from prometheus_client import Counter, Histogram
from starlette.responses import Response, StreamingResponse

from switchyard.auth.v1 import auth_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_edge import openapi
from switchyard_edge.domain.call import Completed, Streaming
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
from switchyard_llm.errors import RequestError, make_error, openai_error_body
from switchyard_llm.openai_codec.chat import chat_request_from_json, chunk_to_json, completion_to_json
from switchyard_llm.openai_codec.embeddings import embedding_request_from_json, embedding_response_to_json
from switchyard_llm.openai_codec.images import image_request_from_json, image_response_to_json
from switchyard_llm.openai_codec.usage import usage_to_json

if TYPE_CHECKING:
    from switchyard_edge.app import Edge


REQUESTS = Counter("switchyard_edge_requests_total", "Requests by route and status", ["route", "status"])
OVERHEAD = Histogram(
    "switchyard_edge_overhead_seconds",
    "Time the gateway added (total minus provider time)",
    ["route"],
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)

_DONE = b"data: [DONE]\n\n"

Handler = Callable[[Request], Awaitable[Response]]


def _bad_request(exc: RequestError) -> Response:
    return openai_error(make_error(ErrorKind.ERROR_KIND_BAD_REQUEST, str(exc), param=exc.param))


class OpenAIRoutes:
    def __init__(self, edge: Edge) -> None:
        self._edge = edge
        settings = edge.settings
        self._max_chat_body = settings.max_request_body_bytes
        self._max_chat_messages = settings.max_chat_messages
        self._max_embeddings_body = settings.max_embeddings_body_bytes
        self._max_images_body = settings.max_images_body_bytes

    def register(self, app: FastAPI) -> dict[tuple[str, str], Handler]:
        """Add the routes to ``app`` (for its OpenAPI document and its slower paths); returns the
        hot ones, which HotRoutes serves without FastAPI's routing."""
        chat = openapi.model_route(openapi.CHAT_REQUEST, openapi.CHAT_COMPLETION, streams=True)
        embeddings = openapi.model_route(openapi.EMBEDDINGS_REQUEST, openapi.EMBEDDINGS)
        images = openapi.model_route(openapi.IMAGES_REQUEST)
        hot: dict[tuple[str, str], Handler] = {}
        for route, handler, extra in (
            ("/chat/completions", self.chat_completions, chat),
            ("/embeddings", self.embeddings, embeddings),
            ("/images/generations", self.images, images),
        ):
            for path in ("/v1" + route, route):
                app.add_api_route(
                    path, handler, methods=["POST"], include_in_schema=path.startswith("/v1"), openapi_extra=extra
                )
                hot[("POST", path)] = handler
        for path in ("/openai/deployments/{model}/chat/completions", "/engines/{model}/chat/completions"):
            app.add_api_route(path, self.chat_for_deployment, methods=["POST"], include_in_schema=False)
        models = {"responses": openapi.model_route({}, openapi.MODELS)["responses"]}
        for path in ("/v1/models", "/models"):
            app.add_api_route(
                path, self.list_models, methods=["GET"], include_in_schema=path.startswith("/v1"), openapi_extra=models
            )
        return hot

    # --- chat -----------------------------------------------------------------------------
    async def chat_completions(self, request: Request, model: str | None = None) -> Response:
        gateway = self._edge.gateway
        with server_span(request, "POST /v1/chat/completions") as span:
            try:
                # Credentials first: a request without a valid key costs a header lookup (and a
                # cached principal), never the parsing of its body.
                who = await gateway.authenticate(credential_of(request), request.scope["path"])
                body = await read_json(request, self._max_chat_body)
                if model and isinstance(body, dict):
                    body.setdefault("model", model)
                req = chat_request_from_json(body, max_messages=self._max_chat_messages)
                span.set_attribute("gen_ai.request.model", req.model)
                end_user = end_user_of(request)
                if req.stream:
                    streaming = await gateway.chat_stream(who, req, end_user=end_user)
                    REQUESTS.labels("chat", "200").inc()
                    return _sse_response(streaming, req.stream_options.include_usage)
                done = await gateway.chat(who, req, end_user=end_user)
            except GatewayError as exc:
                REQUESTS.labels("chat", str(exc.error.http_status)).inc()
                return openai_error(exc.error, exc.headers)
            except RequestError as exc:
                REQUESTS.labels("chat", "400").inc()
                return openai_error(exc.error)
            OVERHEAD.labels("chat").observe(done.call.overhead_ms() / 1000)
            REQUESTS.labels("chat", "200").inc()
            return json_response(completion_to_json(done.result), headers=completed_headers(done))

    async def chat_for_deployment(self, request: Request, model: str) -> Response:
        return await self.chat_completions(request, model)

    # --- embeddings and images --------------------------------------------------------------
    async def _one_answer(
        self,
        request: Request,
        span: str,
        limit: int,
        decode: Callable[[Any], Any],
        run: Callable[[auth_pb2.Principal, Any, str], Awaitable[Completed]],
        encode: Callable[[Any], Any],
        counted: str = "",
    ) -> Response:
        """A route with one JSON answer; ``counted``: its label in the requests counter."""
        with server_span(request, span):
            try:
                who = await self._edge.gateway.authenticate(credential_of(request), request.scope["path"])
                done = await run(who, decode(await read_json(request, limit)), end_user_of(request))
            except GatewayError as exc:
                if counted:
                    REQUESTS.labels(counted, str(exc.error.http_status)).inc()
                return openai_error(exc.error, exc.headers)
            except RequestError as exc:
                if counted:
                    REQUESTS.labels(counted, "400").inc()
                return openai_error(exc.error)
            if counted:
                REQUESTS.labels(counted, "200").inc()
            return json_response(encode(done.result), headers=completed_headers(done))

    async def embeddings(self, request: Request) -> Response:
        return await self._one_answer(
            request,
            "POST /v1/embeddings",
            self._max_embeddings_body,
            embedding_request_from_json,
            self._edge.gateway.embeddings,
            embedding_response_to_json,
        )

    async def images(self, request: Request) -> Response:
        return await self._one_answer(
            request,
            "POST /v1/images/generations",
            self._max_images_body,
            image_request_from_json,
            self._edge.gateway.images,
            image_response_to_json,
            counted="images",
        )

    # --- models -----------------------------------------------------------------------------
    async def list_models(self, request: Request) -> Response:
        gateway = self._edge.gateway
        try:
            who = await gateway.authenticate(credential_of(request), request.scope["path"])
            models = await gateway.list_models(who)
        except GatewayError as exc:
            return openai_error(exc.error, exc.headers)
        return json_response(
            {
                "object": "list",
                "data": [{"id": m.id, "object": "model", "created": m.created, "owned_by": m.owned_by} for m in models],
            }
        )


def _sse_response(streaming: Streaming, include_usage: bool) -> StreamingResponse:
    return StreamResponse(streaming, _sse(streaming, include_usage))


async def _sse(streaming: Streaming, include_usage: bool) -> AsyncIterator[bytes]:
    first = streaming.first_chunk
    meta = {"id": first.id, "object": "chat.completion.chunk", "created": first.created, "model": first.model}
    if first.HasField("service_tier"):
        meta["service_tier"] = first.service_tier
    if first.HasField("system_fingerprint"):
        meta["system_fingerprint"] = first.system_fingerprint
    yield b"data: " + orjson.dumps(chunk_to_json(first, include_usage_key=include_usage)) + b"\n\n"
    async for msg in streaming.chunks:
        kind = msg.WhichOneof("event")
        if kind == "chunk":
            yield b"data: " + orjson.dumps(chunk_to_json(msg.chunk, include_usage_key=include_usage)) + b"\n\n"
        elif kind == "end":
            if include_usage:
                yield b"data: " + orjson.dumps({**meta, "choices": [], "usage": usage_to_json(msg.end.usage)}) + b"\n\n"
            yield _DONE
            return
        else:
            yield b"data: " + orjson.dumps(openai_error_body(msg.error)) + b"\n\n"
            return
    yield _DONE
