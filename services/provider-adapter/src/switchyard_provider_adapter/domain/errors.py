"""Provider failures → typed errors (status codes first, then the message heuristics LiteLLM's
users rely on: context window, content policy, rate limit)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import orjson

from switchyard.llm.v1 import error_pb2
from switchyard_common.errors import make_error

K = error_pb2.ErrorKind

_CONTEXT_WINDOW = re.compile(
    r"maximum context length|context[_ ]length[_ ]exceeded|prompt is too long|"
    r"exceeds the maximum number of tokens|input is too long|too many input tokens|"
    r"exceeds the available context size|context window|input tokens exceed|"
    r"reduce the length of the messages|current length is \d+ while limit is \d+|"
    # Cohere ("too many tokens: total number of tokens in the prompt cannot exceed ...") and
    # Ollama ("the input length exceeds the context length").
    r"too many tokens: (?:total number of tokens|size limit exceeded)|exceeds the context length",
    re.IGNORECASE,
)
_CONTENT_POLICY = re.compile(
    r"content_policy_violation|content management policy|ResponsibleAIPolicyViolation|"
    r"content filtering policy|safety system|content_filter|blocked by .*safety",
    re.IGNORECASE,
)
_RATE_LIMIT = re.compile(
    r"rate[\s_-]*limit|service tier capacity exceeded|request too large|token_quota_reached|"
    r"too many requests|throttl",
    re.IGNORECASE,
)


class ProviderFailure(Exception):
    """Raised inside translation code to fail the call with a typed error."""

    def __init__(self, error: error_pb2.Error) -> None:
        super().__init__(error.message)
        self.error = error


def unsupported_param(param: str, provider: str) -> ProviderFailure:
    return ProviderFailure(
        make_error(
            K.ERROR_KIND_UNSUPPORTED_PARAMS,
            f"{provider} does not support parameter '{param}'. Set drop_params: true on the deployment "
            "or in the request to drop it instead.",
            param=param,
            provider=provider,
        )
    )


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Seconds from ``retry-after-ms`` / ``retry-after`` (delta-seconds or an HTTP date)."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    ra = headers.get("retry-after")
    if not ra:
        return None
    try:
        return max(0.0, float(ra))
    except ValueError:
        try:
            import time

            return max(0.0, parsedate_to_datetime(ra).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def error_message_from_body(body: bytes) -> tuple[str, str, str, Any]:
    """(message, provider code, provider param, details) from the common error body shapes."""
    text = body.decode("utf-8", "replace").strip()
    try:
        data = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return text[:2000], "", "", None
    if isinstance(data, list) and data and isinstance(data[0], Mapping):
        data = data[0]  # Gemini sometimes wraps the error object in a list
    if not isinstance(data, Mapping):
        return text[:2000], "", "", None
    err = data.get("error", data)
    if isinstance(err, str):
        return err, "", "", None
    if not isinstance(err, Mapping):
        return text[:2000], "", "", None
    message = err.get("message") or err.get("Message") or data.get("message") or data.get("detail") or text
    code = err.get("code") or err.get("status") or err.get("type") or ""
    param = err.get("param") or ""
    details = err.get("innererror") or err.get("details")
    return str(message)[:4000], str(code) if code is not None else "", str(param or ""), details


def classify(status: int, message: str) -> error_pb2.ErrorKind:
    """The error kind for an HTTP status and the provider's message."""
    if status in (400, 413, 422) or status == 0:
        if _CONTEXT_WINDOW.search(message):
            return K.ERROR_KIND_CONTEXT_WINDOW_EXCEEDED
        if _CONTENT_POLICY.search(message):
            return K.ERROR_KIND_CONTENT_POLICY_VIOLATION
    if status == 0 and _RATE_LIMIT.search(message):
        return K.ERROR_KIND_RATE_LIMIT
    match status:
        case 400 | 413 | 422:
            return K.ERROR_KIND_BAD_REQUEST
        case 401:
            return K.ERROR_KIND_AUTHENTICATION
        case 403:
            return K.ERROR_KIND_PERMISSION_DENIED
        case 404:
            return K.ERROR_KIND_NOT_FOUND
        case 408 | 504:
            return K.ERROR_KIND_TIMEOUT
        case 429:
            return K.ERROR_KIND_RATE_LIMIT
        case 502:
            return K.ERROR_KIND_BAD_GATEWAY
        case 503:
            return K.ERROR_KIND_SERVICE_UNAVAILABLE
    if status >= 500:
        return K.ERROR_KIND_INTERNAL_SERVER
    if _RATE_LIMIT.search(message):
        return K.ERROR_KIND_RATE_LIMIT
    return K.ERROR_KIND_BAD_REQUEST if 400 <= status < 500 else K.ERROR_KIND_INTERNAL_SERVER


def redact(text: str, secrets: Iterable[str]) -> str:
    """Remove credential values from text that may reach a client or a log."""
    for s in secrets:
        if s and len(s) >= 6 and s in text:
            text = text.replace(s, "[REDACTED]")
    return text


def provider_error(
    provider: str, status: int, headers: Mapping[str, str], body: bytes, secrets: Iterable[str] = ()
) -> error_pb2.Error:
    """A typed error from a provider's error response."""
    message, code, param, details = error_message_from_body(body)
    kind = classify(status, message)
    message = redact(message or f"HTTP {status}", secrets)
    ra = retry_after_seconds(headers) if status in (429, 503, 529) else None
    if (
        code
        and not code.isdigit()
        and kind
        in (
            K.ERROR_KIND_RATE_LIMIT,
            K.ERROR_KIND_CONTEXT_WINDOW_EXCEEDED,
            K.ERROR_KIND_CONTENT_POLICY_VIOLATION,
            K.ERROR_KIND_BAD_REQUEST,
        )
    ):
        out_code = code
    else:
        out_code = ""
    status_override = None
    if kind == K.ERROR_KIND_INTERNAL_SERVER and status >= 500:
        status_override = 500
    err = make_error(
        kind,
        f"{provider}: {message}",
        param=param,
        code=out_code,
        retry_after=ra,
        provider=provider,
        status=status_override,
        details_json=orjson.dumps(details) if details else b"",
    )
    return err


def timeout_error(provider: str, seconds: float, what: str = "request", *, by_request: bool = False) -> error_pb2.Error:
    """``by_request``: the deadline that ran out was the request's own ``timeout``, shorter than
    the deployment's, so the deployment is not to blame."""
    return make_error(
        K.ERROR_KIND_TIMEOUT,
        f"{provider}: {what} timed out after {seconds:g}s",
        provider=provider,
        source=error_pb2.FAILURE_SOURCE_REQUEST if by_request else error_pb2.FAILURE_SOURCE_PROVIDER,
    )


class RequestNotSent(Exception):
    """The HTTP client refused to send the request as built (a header value with a line break,
    an invalid URL): nothing reached the provider."""


def request_not_sent(provider: str, exc: BaseException, secrets: Iterable[str] = ()) -> error_pb2.Error:
    cause = exc.__cause__ or exc
    return make_error(
        K.ERROR_KIND_BAD_REQUEST,
        redact(f"{provider}: the request could not be sent: {cause}", secrets),
        provider=provider,
        source=error_pb2.FAILURE_SOURCE_REQUEST,
    )


def connection_error(provider: str, exc: BaseException, secrets: Iterable[str] = ()) -> error_pb2.Error:
    return make_error(
        K.ERROR_KIND_API_CONNECTION,
        redact(f"{provider}: connection error: {type(exc).__name__}: {exc}", secrets),
        provider=provider,
        source=error_pb2.FAILURE_SOURCE_PROVIDER,
    )
