"""Errors as the services exchange them: one table from error kind to HTTP status, OpenAI error
``type`` and gRPC status code; ``make_error`` to build one; ``TypedError``, the one exception base
for code that fails with an Error (the edge's ``GatewayError``, the adapter's ``ProviderFailure``,
the codec's ``RequestError``)."""

from __future__ import annotations

from typing import Any

import grpc

from switchyard.llm.v1 import error_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind

# kind → (HTTP status, OpenAI error type, gRPC status)
_TABLE: dict[int, tuple[int, str, grpc.StatusCode]] = {
    ErrorKind.ERROR_KIND_BAD_REQUEST: (400, "invalid_request_error", grpc.StatusCode.INVALID_ARGUMENT),
    ErrorKind.ERROR_KIND_CONTEXT_WINDOW_EXCEEDED: (400, "invalid_request_error", grpc.StatusCode.INVALID_ARGUMENT),
    ErrorKind.ERROR_KIND_CONTENT_POLICY_VIOLATION: (400, "invalid_request_error", grpc.StatusCode.INVALID_ARGUMENT),
    ErrorKind.ERROR_KIND_UNSUPPORTED_PARAMS: (400, "invalid_request_error", grpc.StatusCode.INVALID_ARGUMENT),
    ErrorKind.ERROR_KIND_GUARDRAIL_BLOCKED: (400, "invalid_request_error", grpc.StatusCode.INVALID_ARGUMENT),
    ErrorKind.ERROR_KIND_AUTHENTICATION: (401, "auth_error", grpc.StatusCode.UNAUTHENTICATED),
    ErrorKind.ERROR_KIND_PERMISSION_DENIED: (403, "permission_error", grpc.StatusCode.PERMISSION_DENIED),
    ErrorKind.ERROR_KIND_NOT_FOUND: (404, "not_found_error", grpc.StatusCode.NOT_FOUND),
    ErrorKind.ERROR_KIND_TIMEOUT: (408, "timeout_error", grpc.StatusCode.DEADLINE_EXCEEDED),
    ErrorKind.ERROR_KIND_UNPROCESSABLE: (422, "invalid_request_error", grpc.StatusCode.INVALID_ARGUMENT),
    ErrorKind.ERROR_KIND_RATE_LIMIT: (429, "rate_limit_error", grpc.StatusCode.RESOURCE_EXHAUSTED),
    ErrorKind.ERROR_KIND_BUDGET_EXCEEDED: (429, "budget_exceeded", grpc.StatusCode.RESOURCE_EXHAUSTED),
    ErrorKind.ERROR_KIND_NO_DEPLOYMENTS: (429, "rate_limit_error", grpc.StatusCode.RESOURCE_EXHAUSTED),
    ErrorKind.ERROR_KIND_INTERNAL_SERVER: (500, "server_error", grpc.StatusCode.INTERNAL),
    ErrorKind.ERROR_KIND_API_CONNECTION: (500, "api_connection_error", grpc.StatusCode.UNAVAILABLE),
    ErrorKind.ERROR_KIND_BAD_GATEWAY: (502, "server_error", grpc.StatusCode.UNAVAILABLE),
    ErrorKind.ERROR_KIND_SERVICE_UNAVAILABLE: (503, "service_unavailable_error", grpc.StatusCode.UNAVAILABLE),
}
_DEFAULT = (500, "server_error", grpc.StatusCode.INTERNAL)


def http_status(kind: int) -> int:
    return _TABLE.get(kind, _DEFAULT)[0]


def grpc_status(kind: int) -> grpc.StatusCode:
    return _TABLE.get(kind, _DEFAULT)[2]


def make_error(
    kind: error_pb2.ErrorKind,
    message: str,
    *,
    param: str = "",
    code: str = "",
    retry_after: float | None = None,
    provider: str = "",
    details_json: bytes = b"",
    status: int | None = None,
    source: error_pb2.FailureSource = error_pb2.FAILURE_SOURCE_UNSPECIFIED,
) -> error_pb2.Error:
    """A typed error; ``status`` overrides the kind's usual HTTP status (e.g. 503 vs 500)."""
    st, typ, _ = _TABLE.get(kind, _DEFAULT)
    st = status or st
    err = error_pb2.Error(
        kind=kind,
        http_status=st,
        message=message,
        type=typ,
        param=param,
        code=code or str(st),
        provider=provider,
        provider_details_json=details_json,
        source=source,
    )
    if retry_after is not None:
        err.retry_after_seconds = retry_after
    return err


class TypedError(Exception):
    """An exception that carries the Error it becomes at the boundary (OpenAI error JSON, a
    response's ``error`` field, the Gateway API's status and trailing metadata)."""

    def __init__(self, error: error_pb2.Error) -> None:
        super().__init__(error.message)
        self.error = error


class RequestError(TypedError, ValueError):
    """A client body that cannot be served (400); ``param`` names the offending field."""

    def __init__(self, message: str, param: str = "") -> None:
        super().__init__(make_error(ErrorKind.ERROR_KIND_BAD_REQUEST, message, param=param))

    @property
    def param(self) -> str:
        return self.error.param


def counts_against_deployment(err: error_pb2.Error) -> bool:
    """Whether a failed attempt says something about the deployment's health (cooldowns, plan
    caches): the provider's own failures do; the request's own deadline or a request that could
    not be sent does not, nor does a peer of the gateway being unreachable."""
    if err.source == error_pb2.FAILURE_SOURCE_PROVIDER:
        return True
    if err.source == error_pb2.FAILURE_SOURCE_REQUEST:
        return False
    return bool(err.provider)


def openai_error_body(err: error_pb2.Error) -> dict[str, Any]:
    """OpenAI's error JSON: ``{"error": {"message", "type", "param", "code"}}``, ``code`` a string."""
    status = err.http_status or http_status(err.kind)
    body: dict[str, Any] = {
        "message": err.message,
        "type": err.type or _TABLE.get(err.kind, _DEFAULT)[1],
        "param": err.param or None,
        "code": err.code or str(status),
    }
    if err.provider_details_json:
        import orjson

        body["provider_specific_fields"] = orjson.loads(err.provider_details_json)
    return {"error": body}
