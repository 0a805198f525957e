"""Small HTTP helpers shared by the edge's routes."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request
from starlette.responses import Response

from switchyard.llm.v1 import error_pb2
from switchyard_common.errors import make_error, openai_error_body
from switchyard_common.openai_codec import RequestError
from switchyard_edge.errors import GatewayError

K = error_pb2.ErrorKind
_JSON = "application/json"


def credential_of(request: Request) -> str:
    h = request.headers
    auth = h.get("authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        return value.strip() if scheme.lower() == "bearer" else auth.strip()
    return (h.get("api-key") or h.get("x-api-key") or h.get("x-goog-api-key") or "").strip()


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=_JSON, headers=headers)


def openai_error(err: error_pb2.Error, headers: dict[str, str] | None = None) -> Response:
    h = dict(headers or {})
    if err.HasField("retry_after_seconds"):
        h["retry-after"] = str(max(1, round(err.retry_after_seconds)))
    return json_response(openai_error_body(err), err.http_status or 500, h)


async def read_json(request: Request, limit: int) -> Any:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        raise GatewayError(make_error(K.ERROR_KIND_BAD_REQUEST, f"request body larger than {limit} bytes", status=413))
    body = await request.body()
    if len(body) > limit:
        raise GatewayError(make_error(K.ERROR_KIND_BAD_REQUEST, f"request body larger than {limit} bytes", status=413))
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RequestError(f"the request body is not valid JSON: {exc}") from None
