"""The HTTP front door (FastAPI): OpenAI-compatible routes, LiteLLM-style management routes and
health (metrics are on METRICS_PORT, apart from the API). Bodies are parsed with orjson into
protobuf messages and answers are written with orjson; errors use OpenAI's JSON shape on model
routes and ``{"detail"}`` on management routes."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind
from prometheus_client import Counter, Histogram
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response, StreamingResponse

from switchyard.auth.v1 import auth_pb2
from switchyard.llm.v1 import error_pb2
from switchyard_common.errors import make_error, openai_error_body
from switchyard_common.openai_codec import (
    RequestError,
    chat_request_from_json,
    chunk_to_json,
    completion_to_json,
    embedding_request_from_json,
    embedding_response_to_json,
    image_request_from_json,
    image_response_to_json,
    usage_to_json,
)
from switchyard_edge import openapi
from switchyard_edge.errors import GatewayError
from switchyard_edge.gateway import Completed, Gateway, Streaming
from switchyard_edge.handlers import management, models
from switchyard_edge.httpio import credential_of, json_response, openai_error, read_json

log = logging.getLogger(__name__)
K = error_pb2.ErrorKind
_tracer = trace.get_tracer("switchyard.edge")

REQUESTS = Counter("switchyard_edge_requests_total", "Requests by route and status", ["route", "status"])
OVERHEAD = Histogram(
    "switchyard_edge_overhead_seconds",
    "Time the gateway added (total minus provider time)",
    ["route"],
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)

_DONE = b"data: [DONE]\n\n"


def _completed_headers(done: Completed) -> dict[str, str]:
    h = done.call.headers()
    h.update(done.stats.rate_limit_headers)
    if done.stats.cost_usd:
        h["x-litellm-response-cost"] = done.stats.cost_usd
    h["x-litellm-overhead-duration-ms"] = f"{done.call.overhead_ms():.3f}"
    h["x-litellm-response-duration-ms"] = f"{(time.perf_counter() - done.call.started) * 1000:.3f}"
    return h


def create_app(gateway: Gateway, *, ready: Callable[[], bool]) -> FastAPI:
    # FastAPI's own telemetry is off: the routes below open one server span each (continuing the
    # client's traceparent), and FastAPI's three spans, metrics and logs per request cost more
    # than the gateway's own work on the hot path.
    app = FastAPI(
        title="Switchyard",
        version="0.1.0",
        docs_url=None,
        redoc_url=None,
        # The API description helps attackers more than clients (who follow OpenAI's); opt in.
        openapi_url="/openapi.json" if gateway.settings.serve_openapi else None,
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    settings = gateway.settings

    def server_span(request: Request, name: str) -> Any:
        ctx = propagate.extract(request.headers)
        return _tracer.start_as_current_span(name, context=ctx, kind=SpanKind.SERVER)

    async def principal(request: Request) -> auth_pb2.Principal:
        return await gateway.authenticate(credential_of(request))

    # --- chat -----------------------------------------------------------------------
    async def chat_completions(request: Request, model: str | None = None) -> Response:
        with server_span(request, "POST /v1/chat/completions") as span:
            try:
                # Credentials first: a request without a valid key costs a header lookup (and a
                # cached principal), never the parsing of its body.
                who = await principal(request)
                body = await read_json(request, settings.max_request_body_bytes)
                if model and isinstance(body, dict):
                    body.setdefault("model", model)
                req = chat_request_from_json(body, max_messages=settings.max_chat_messages)
                span.set_attribute("gen_ai.request.model", req.model)
                if req.stream:
                    streaming = await gateway.chat_stream(who, req)
                    REQUESTS.labels("chat", "200").inc()
                    return _sse_response(streaming, req.stream_options.include_usage)
                done = await gateway.chat(who, req)
            except GatewayError as exc:
                REQUESTS.labels("chat", str(exc.error.http_status)).inc()
                return openai_error(exc.error, exc.headers)
            except RequestError as exc:
                REQUESTS.labels("chat", "400").inc()
                return openai_error(make_error(K.ERROR_KIND_BAD_REQUEST, str(exc), param=exc.param))
            OVERHEAD.labels("chat").observe(done.call.overhead_ms() / 1000)
            REQUESTS.labels("chat", "200").inc()
            return json_response(completion_to_json(done.result), headers=_completed_headers(done))

    for path in ("/v1/chat/completions", "/chat/completions"):
        app.add_api_route(
            path,
            chat_completions,
            methods=["POST"],
            include_in_schema=path.startswith("/v1"),
            openapi_extra=openapi.model_route(openapi.CHAT_REQUEST, openapi.CHAT_COMPLETION, streams=True),
        )

    async def chat_for_deployment(request: Request, model: str) -> Response:
        return await chat_completions(request, model)

    for path in ("/openai/deployments/{model}/chat/completions", "/engines/{model}/chat/completions"):
        app.add_api_route(path, chat_for_deployment, methods=["POST"], include_in_schema=False)

    # --- embeddings -----------------------------------------------------------------
    async def embeddings(request: Request) -> Response:
        with server_span(request, "POST /v1/embeddings"):
            try:
                who = await principal(request)
                req = embedding_request_from_json(await read_json(request, settings.max_embeddings_body_bytes))
                done = await gateway.embeddings(who, req)
            except GatewayError as exc:
                return openai_error(exc.error, exc.headers)
            except RequestError as exc:
                return openai_error(make_error(K.ERROR_KIND_BAD_REQUEST, str(exc), param=exc.param))
            return json_response(embedding_response_to_json(done.result), headers=_completed_headers(done))

    for path in ("/v1/embeddings", "/embeddings"):
        app.add_api_route(
            path,
            embeddings,
            methods=["POST"],
            include_in_schema=path.startswith("/v1"),
            openapi_extra=openapi.model_route(openapi.EMBEDDINGS_REQUEST, openapi.EMBEDDINGS),
        )

    # --- images ---------------------------------------------------------------------
    async def images(request: Request) -> Response:
        with server_span(request, "POST /v1/images/generations"):
            try:
                who = await principal(request)
                req = image_request_from_json(await read_json(request, settings.max_images_body_bytes))
                done = await gateway.images(who, req)
            except GatewayError as exc:
                REQUESTS.labels("images", str(exc.error.http_status)).inc()
                return openai_error(exc.error, exc.headers)
            except RequestError as exc:
                REQUESTS.labels("images", "400").inc()
                return openai_error(make_error(K.ERROR_KIND_BAD_REQUEST, str(exc), param=exc.param))
            REQUESTS.labels("images", "200").inc()
            return json_response(image_response_to_json(done.result), headers=_completed_headers(done))

    for path in ("/v1/images/generations", "/images/generations"):
        app.add_api_route(
            path,
            images,
            methods=["POST"],
            include_in_schema=path.startswith("/v1"),
            openapi_extra=openapi.model_route(openapi.IMAGES_REQUEST),
        )

    # --- models ---------------------------------------------------------------------
    async def list_models(request: Request) -> Response:
        try:
            who = await principal(request)
            models = await gateway.list_models(who)
        except GatewayError as exc:
            return openai_error(exc.error, exc.headers)
        return json_response(
            {
                "object": "list",
                "data": [{"id": m.id, "object": "model", "created": m.created, "owned_by": m.owned_by} for m in models],
            }
        )

    for path in ("/v1/models", "/models"):
        app.add_api_route(
            path,
            list_models,
            methods=["GET"],
            include_in_schema=path.startswith("/v1"),
            openapi_extra={"responses": openapi.model_route({}, openapi.MODELS)["responses"]},
        )

    # --- health -------------------------------------------------------------------
    async def live(request: Request) -> Response:
        return json_response("I'm alive!")

    async def readiness(request: Request) -> Response:
        ok = ready()
        return json_response({"status": "ready" if ok else "starting"}, 200 if ok else 503)

    for path in ("/healthz", "/health/liveliness", "/health/liveness"):
        app.add_api_route(path, live, methods=["GET"], include_in_schema=False)
    for path in ("/readyz", "/health/readiness"):
        app.add_api_route(path, readiness, methods=["GET"], include_in_schema=False)

    management.register(app, gateway)
    models.register(app, gateway)

    # --- errors ---------------------------------------------------------------------
    def _is_model_route(request: Request) -> bool:
        p = request.url.path
        return p.startswith(("/v1/", "/chat/", "/embeddings", "/images/", "/models", "/openai/", "/engines/"))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_model_route(request):
            kind = K.ERROR_KIND_NOT_FOUND if exc.status_code == 404 else K.ERROR_KIND_BAD_REQUEST
            return openai_error(
                make_error(kind, f"{request.method} {request.url.path}: {exc.detail}", status=exc.status_code)
            )
        return json_response({"detail": exc.detail}, exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return json_response({"detail": "invalid request"}, 422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", extra={"path": request.url.path})
        err = make_error(K.ERROR_KIND_INTERNAL_SERVER, "internal error in Switchyard edge")
        if _is_model_route(request):
            return openai_error(err)
        return json_response({"detail": err.message}, 500)

    hot: dict[tuple[str, str], Handler] = {}
    for path in ("/v1/chat/completions", "/chat/completions"):
        hot[("POST", path)] = chat_completions
    for path in ("/v1/embeddings", "/embeddings"):
        hot[("POST", path)] = embeddings
    for path in ("/v1/images/generations", "/images/generations"):
        hot[("POST", path)] = images
    return HotRoutes(app, hot)  # type: ignore[return-value]


Handler = Callable[[Request], Awaitable[Response]]


class HotRoutes:
    """The model routes called on every request go straight to their handlers; everything else
    goes through FastAPI. FastAPI's routing, dependency solving and middleware stack cost about
    0.2 ms a request (measured with the same uvicorn setup), and these handlers need none of it:
    they read the body themselves and answer every error in OpenAI's shape."""

    def __init__(self, app: FastAPI, routes: dict[tuple[str, str], Handler]) -> None:
        self.app = app
        self._routes = routes

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            handler = self._routes.get((scope["method"], scope["path"]))
            if handler is not None:
                try:
                    response = await handler(Request(scope, receive))
                except Exception:
                    log.exception("unhandled error", extra={"path": scope["path"]})
                    response = openai_error(
                        make_error(K.ERROR_KIND_INTERNAL_SERVER, "internal error in Switchyard edge")
                    )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _sse_response(streaming: Streaming, include_usage: bool) -> StreamingResponse:
    h = streaming.call.headers()
    h.update(streaming.rate_limit_headers)
    h["x-litellm-overhead-duration-ms"] = f"{streaming.call.overhead_ms():.3f}"
    h["cache-control"] = "no-cache"
    h["x-accel-buffering"] = "no"
    return StreamingResponse(_sse(streaming, include_usage), media_type="text/event-stream", headers=h)


async def _sse(streaming: Streaming, include_usage: bool) -> AsyncIterator[bytes]:
    first = streaming.first
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
