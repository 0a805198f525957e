"""Errors in the Messages API's shape, ``{"type": "error", "error": {"type", "message"}}``, with
its status codes (https://docs.anthropic.com/en/api/errors), so the Anthropic SDKs raise the
exception class they would for Anthropic itself and retry what they would retry."""

from __future__ import annotations

from typing import Any

from switchyard.llm.v1 import error_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind

# Error kind → (status, error type).
_BY_KIND: dict[int, tuple[int, str]] = {
    ErrorKind.ERROR_KIND_AUTHENTICATION: (401, "authentication_error"),
    ErrorKind.ERROR_KIND_PERMISSION_DENIED: (403, "permission_error"),
    ErrorKind.ERROR_KIND_NOT_FOUND: (404, "not_found_error"),
    # Anthropic answers a request that ran out of time with 504 (its 408 is not in the API).
    ErrorKind.ERROR_KIND_TIMEOUT: (504, "timeout_error"),
    ErrorKind.ERROR_KIND_RATE_LIMIT: (429, "rate_limit_error"),
    # A spent budget is a limit the client hits, as Anthropic's spend limits are.
    ErrorKind.ERROR_KIND_BUDGET_EXCEEDED: (429, "rate_limit_error"),
    ErrorKind.ERROR_KIND_NO_DEPLOYMENTS: (429, "rate_limit_error"),
    # Unavailable for now, try again: Anthropic's own "overloaded", which its SDKs retry.
    ErrorKind.ERROR_KIND_SERVICE_UNAVAILABLE: (529, "overloaded_error"),
    ErrorKind.ERROR_KIND_INTERNAL_SERVER: (500, "api_error"),
    ErrorKind.ERROR_KIND_BAD_GATEWAY: (500, "api_error"),
    ErrorKind.ERROR_KIND_API_CONNECTION: (500, "api_error"),
}


def status_and_type(err: error_pb2.Error) -> tuple[int, str]:
    if err.http_status == 413:
        return 413, "request_too_large"
    known = _BY_KIND.get(err.kind)
    if known is not None:
        return known
    # A client's mistake keeps its own 4xx (405 for a wrong method, ...).
    return (err.http_status if 400 <= err.http_status < 500 else 400), "invalid_request_error"


def error_body(err: error_pb2.Error) -> dict[str, Any]:
    return {"type": "error", "error": {"type": status_and_type(err)[1], "message": err.message}}
