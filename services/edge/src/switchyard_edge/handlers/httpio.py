"""The HTTP helpers every route shares: the caller's credential, JSON answers, errors in each
kind of route's own shape (OpenAI error JSON on model routes, ``{"detail"}`` on management
routes) and bounded JSON bodies."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson
from fastapi import Request
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind
from starlette.responses import Response, StreamingResponse

from switchyard.auth.v1 import auth_pb2
from switchyard.llm.v1 import error_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_edge.domain.call import Completed, Streaming
from switchyard_edge.errors import GatewayError
from switchyard_llm.errors import RequestError, make_error, openai_error_body
from switchyard_llm.sealing import SealingError

if TYPE_CHECKING:
    from switchyard_edge.app import Edge

_JSON = "application/json"
_tracer = trace.get_tracer("switchyard.edge")

ManagementHandler = Callable[[Request, auth_pb2.Principal], Awaitable[Response]]


class BadInput(ValueError):
    """A management request the edge refuses before asking any service (400)."""


class Refused(Exception):
    """A management request refused with its own status."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


# The cookie that carries a browser's session token (set by /sso/callback).
SESSION_COOKIE = "token"


def credential_from(get: Callable[[str], str | None], session_cookie: Callable[[], str]) -> str:
    """The caller's credential, whatever front door it came through (HTTP headers or gRPC
    metadata, both read by lower-case name): ``Authorization`` (``Bearer`` or bare), the
    API-key headers of the SDKs this gateway speaks for, else the session cookie. Only
    extracted here; ``auth`` decides what it is and whether it verifies."""
    auth = get("authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        return value.strip() if scheme.lower() == "bearer" else auth.strip()
    key = get("api-key") or get("x-api-key") or get("x-goog-api-key")
    if key:
        return key.strip()
    return session_cookie().strip()


def credential_of(request: Request) -> str:
    return credential_from(request.headers.get, lambda: request.cookies.get(SESSION_COOKIE, ""))


def server_span(request: Request, name: str) -> Any:
    """The server span of a model route, continuing the client's trace."""
    ctx = propagate.extract(request.headers)
    return _tracer.start_as_current_span(name, context=ctx, kind=SpanKind.SERVER)


def completed_headers(done: Completed) -> dict[str, str]:
    """The headers of a whole answer: LiteLLM's ``x-litellm-*`` and the provider's rate limits."""
    h = done.call.headers()
    h.update(done.stats.rate_limit_headers)
    if done.stats.cost_usd:
        h["x-litellm-response-cost"] = done.stats.cost_usd
    h["x-litellm-overhead-duration-ms"] = f"{done.call.overhead_ms():.3f}"
    h["x-litellm-response-duration-ms"] = f"{(time.perf_counter() - done.call.started) * 1000:.3f}"
    return h


class StreamResponse(StreamingResponse):
    """A streamed answer (server-sent events) with the call's headers. It settles the stream
    however the response ends, including a client that went away before the body was read (its
    generator never starts, so its own clean-up never runs)."""

    def __init__(self, streaming: Streaming, content: AsyncIterator[bytes]) -> None:
        h = streaming.call.headers()
        h.update(streaming.rate_limit_headers)
        h["x-litellm-overhead-duration-ms"] = f"{streaming.call.overhead_ms():.3f}"
        h["cache-control"] = "no-cache"
        h["x-accel-buffering"] = "no"
        super().__init__(content, media_type="text/event-stream", headers=h)
        self._streaming = streaming

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._streaming.close()


def end_user_of(request: Request) -> str:
    """The end user a request names by header (LiteLLM's ``x-litellm-end-user-id``); the body's
    ``user`` field wins over it."""
    return request.headers.get("x-litellm-end-user-id", "").strip()


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=_JSON, headers=headers)


def openai_error(err: error_pb2.Error, headers: dict[str, str] | None = None) -> Response:
    h = dict(headers or {})
    if err.HasField("retry_after_seconds"):
        h["retry-after"] = str(max(1, round(err.retry_after_seconds)))
    return json_response(openai_error_body(err), err.http_status or 500, h)


def detail(status: int, message: str) -> Response:
    return json_response({"detail": message}, status)


async def read_json(request: Request, limit: int) -> Any:
    return (await read_json_bytes(request, limit))[1]


async def read_json_bytes(request: Request, limit: int) -> tuple[bytes, Any]:
    """The body (at most ``limit`` bytes, else 413) and its JSON value."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        raise GatewayError(
            make_error(ErrorKind.ERROR_KIND_BAD_REQUEST, f"request body larger than {limit} bytes", status=413)
        )
    body = await request.body()
    if len(body) > limit:
        raise GatewayError(
            make_error(ErrorKind.ERROR_KIND_BAD_REQUEST, f"request body larger than {limit} bytes", status=413)
        )
    try:
        return body, orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RequestError(f"the request body is not valid JSON: {exc}") from None


async def read_object(request: Request, limit: int) -> dict[str, Any]:
    body = await read_json(request, limit)
    if not isinstance(body, dict):
        raise BadInput("the request body must be a JSON object")
    return body


def management_endpoint(
    edge: Edge, handler: ManagementHandler, *, admin_only: str = ""
) -> Callable[[Request], Awaitable[Response]]:
    """A management route: the caller is authenticated first (and must be a proxy admin when
    ``admin_only`` says why), and every refusal is ``{"detail"}`` with its status."""

    async def endpoint(request: Request) -> Response:
        try:
            who = await edge.gateway.authenticate(credential_of(request), request.scope["path"])
            if admin_only and not who.is_admin:
                return detail(403, admin_only)
            return await handler(request, who)
        except GatewayError as exc:
            return detail(exc.error.http_status or 500, exc.error.message)
        except Refused as exc:
            return detail(exc.status, exc.detail)
        except SealingError as exc:
            return detail(500, str(exc))
        except ValueError as exc:
            # BadInput, a body that is not JSON, or a value protobuf refuses (e.g. a lone
            # surrogate in a string).
            return detail(400, str(exc))

    return endpoint
