"""The HTTP helpers every route shares: the caller's credential, JSON answers, errors in each
kind of route's own shape (OpenAI error JSON on model routes, ``{"detail"}`` on management
routes) and bounded JSON bodies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson
from fastapi import Request
from starlette.responses import Response

from switchyard.auth.v1 import auth_pb2
from switchyard.llm.v1 import error_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_edge.errors import GatewayError
from switchyard_llm.errors import RequestError, make_error, openai_error_body
from switchyard_llm.sealing import SealingError

if TYPE_CHECKING:
    from switchyard_edge.app import Edge

_JSON = "application/json"

ManagementHandler = Callable[[Request, auth_pb2.Principal], Awaitable[Response]]


class BadInput(ValueError):
    """A management request the edge refuses before asking any service (400)."""


class Refused(Exception):
    """A management request refused with its own status."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def credential_of(request: Request) -> str:
    h = request.headers
    auth = h.get("authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        return value.strip() if scheme.lower() == "bearer" else auth.strip()
    return (h.get("api-key") or h.get("x-api-key") or h.get("x-goog-api-key") or "").strip()


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
        return orjson.loads(body)
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
