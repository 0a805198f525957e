"""Provider failures → typed errors (status codes first, then the message heuristics LiteLLM's
users rely on: context window, content policy, rate limit)."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import orjson

from switchyard.llm.v1 import error_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_llm.errors import TypedError, make_error

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


class ProviderFailure(TypedError):
    """Raised inside translation code to fail the call with a typed error."""


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


def error_message_from_body(body: bytes) -> tuple[str, str, str, Mapping[str, Any] | None]:
    """(message, provider code, provider param, the error object) from the common error body
    shapes."""
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
    return str(message)[:4000], str(code) if code is not None else "", str(param or ""), err


def classify(status: int, message: str) -> error_pb2.ErrorKind:
    """The error kind for an HTTP status and the provider's message."""
    if status in (400, 413, 422) or status == 0:
        if _CONTEXT_WINDOW.search(message):
            return ErrorKind.ERROR_KIND_CONTEXT_WINDOW_EXCEEDED
        if _CONTENT_POLICY.search(message):
            return ErrorKind.ERROR_KIND_CONTENT_POLICY_VIOLATION
    if status == 0 and _RATE_LIMIT.search(message):
        return ErrorKind.ERROR_KIND_RATE_LIMIT
    match status:
        case 400 | 413 | 422:
            return ErrorKind.ERROR_KIND_BAD_REQUEST
        case 401:
            return ErrorKind.ERROR_KIND_AUTHENTICATION
        case 403:
            return ErrorKind.ERROR_KIND_PERMISSION_DENIED
        case 404:
            return ErrorKind.ERROR_KIND_NOT_FOUND
        case 408 | 504:
            return ErrorKind.ERROR_KIND_TIMEOUT
        case 429:
            return ErrorKind.ERROR_KIND_RATE_LIMIT
        case 502:
            return ErrorKind.ERROR_KIND_BAD_GATEWAY
        case 503 | 529:
            # 529 is Anthropic's "overloaded": unavailable for now, as a 503 is.
            return ErrorKind.ERROR_KIND_SERVICE_UNAVAILABLE
    if status >= 500:
        return ErrorKind.ERROR_KIND_INTERNAL_SERVER
    if _RATE_LIMIT.search(message):
        return ErrorKind.ERROR_KIND_RATE_LIMIT
    return ErrorKind.ERROR_KIND_BAD_REQUEST if 400 <= status < 500 else ErrorKind.ERROR_KIND_INTERNAL_SERVER


# What in a provider's error text may be a credential though it is none of the deployment's own:
# the query and userinfo of URLs (signed URLs: X-Amz-Signature, X-Goog-Signature, Azure SAS `sig`,
# Gemini's `key`), bearer tokens, AWS access key ids and SigV4 signatures.
_URL = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)(?:[^\s/?#@'\"<>]*@)?([^\s?#'\"<>]*)(\?[^\s#'\"<>]*)?")
_TOKENS = re.compile(
    r"(?i)\b(bearer\s+)[a-z0-9._~+/=-]{8,}|\b(?:AKIA|ASIA)[A-Z0-9]{16}\b|(signature=)[0-9a-f]{32,}",
)


def _url(m: re.Match[str]) -> str:
    return m.group(1) + m.group(2) + ("?[REDACTED]" if m.group(3) else "")


def _token(m: re.Match[str]) -> str:
    return (m.group(1) or m.group(2) or "") + "[REDACTED]"


def redact(text: str, secrets: Iterable[str]) -> str:
    """Remove credential values from text that may reach a client or a log: the deployment's own
    credentials, and anything shaped like a credential (signed URLs, bearer tokens, AWS keys)."""
    for s in secrets:
        if s and len(s) >= 6 and s in text:
            text = text.replace(s, "[REDACTED]")
    if "://" in text:
        text = _URL.sub(_url, text)
    return _TOKENS.sub(_token, text)


# The error details a client may see, per shape, and of each only the fields that classify the
# error. Everything else a provider puts there (Google's DebugInfo, RequestInfo and Help links
# naming projects, ErrorInfo metadata with consumer ids, free-form `details`) is dropped.
_GOOGLE_DETAILS = {
    "google.rpc.RetryInfo": ("retryDelay",),
    "google.rpc.ErrorInfo": ("reason", "domain"),
    "google.rpc.BadRequest": ("fieldViolations",),
    "google.rpc.LocalizedMessage": ("locale", "message"),
    "google.rpc.QuotaFailure": ("violations",),
}
_GOOGLE_ITEM_FIELDS = {
    "fieldViolations": ("field", "description", "reason"),
    "violations": ("quotaMetric", "quotaId", "quotaValue", "quotaDimensions"),
}
# Azure's content filter verdicts (innererror.content_filter_result per category:
# filtered / severity / detected), as LiteLLM passes them on.
_AZURE_INNER = ("code", "content_filter_result", "content_filter_results")
_MAX_DEPTH = 4


def _plain(value: Any, secrets: Iterable[str], depth: int = 0) -> Any:
    """``value`` with only JSON scalars and containers, strings redacted, nesting bounded."""
    if isinstance(value, str):
        return redact(value, secrets)[:1000]
    if value is None or isinstance(value, bool | int | float):
        return value
    if depth >= _MAX_DEPTH:
        return None
    if isinstance(value, Mapping):
        return {str(k): _plain(v, secrets, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, secrets, depth + 1) for v in value[:50]]
    return None


def _pick(obj: Mapping[str, Any], fields: Iterable[str], secrets: Iterable[str]) -> dict[str, Any]:
    return {f: _plain(obj[f], secrets) for f in fields if f in obj}


def azure_innererror(inner: Any, secrets: Iterable[str]) -> dict[str, Any] | None:
    """The classification fields of Azure's ``innererror``."""
    if not isinstance(inner, Mapping):
        return None
    return _pick(inner, _AZURE_INNER, secrets) or None


def _google_details(details: list[Any], secrets: Iterable[str]) -> list[dict[str, Any]] | None:
    out = []
    for d in details:
        if not isinstance(d, Mapping):
            continue
        kind = str(d.get("@type") or "")
        fields = _GOOGLE_DETAILS.get(kind.rpartition("/")[2])
        if fields is None:
            continue
        kept: dict[str, Any] = {"@type": kind}
        for f in fields:
            value = d.get(f)
            if f in _GOOGLE_ITEM_FIELDS and isinstance(value, list):
                kept[f] = [_pick(i, _GOOGLE_ITEM_FIELDS[f], secrets) for i in value if isinstance(i, Mapping)]
            elif value is not None:
                kept[f] = _plain(value, secrets)
        out.append(kept)
    return out or None


def client_details(err: Mapping[str, Any], secrets: Iterable[str]) -> Any:
    """What of a provider error object's details may reach the client (None: nothing)."""
    if "innererror" in err:
        return azure_innererror(err["innererror"], secrets)
    details = err.get("details")
    if isinstance(details, list):
        return _google_details(details, secrets)
    return None


def provider_error(
    provider: str, status: int, headers: Mapping[str, str], body: bytes, secrets: Iterable[str] = ()
) -> error_pb2.Error:
    """A typed error from a provider's error response."""
    secrets = list(secrets)
    message, code, param, error_object = error_message_from_body(body)
    kind = classify(status, message)
    message = redact(message or f"HTTP {status}", secrets)
    details = client_details(error_object, secrets) if error_object else None
    ra = retry_after_seconds(headers) if status in (429, 503, 529) else None
    if (
        code
        and not code.isdigit()
        and kind
        in (
            ErrorKind.ERROR_KIND_RATE_LIMIT,
            ErrorKind.ERROR_KIND_CONTEXT_WINDOW_EXCEEDED,
            ErrorKind.ERROR_KIND_CONTENT_POLICY_VIOLATION,
            ErrorKind.ERROR_KIND_BAD_REQUEST,
        )
    ):
        out_code = code
    else:
        out_code = ""
    status_override = None
    if kind == ErrorKind.ERROR_KIND_INTERNAL_SERVER and status >= 500:
        status_override = 500
    err = make_error(
        kind,
        f"{provider}: {message}",
        param=redact(param, secrets)[:200],
        code=redact(out_code, secrets)[:200],
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
        ErrorKind.ERROR_KIND_TIMEOUT,
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
        ErrorKind.ERROR_KIND_BAD_REQUEST,
        redact(f"{provider}: the request could not be sent: {cause}", secrets),
        provider=provider,
        source=error_pb2.FAILURE_SOURCE_REQUEST,
    )


def connection_error(provider: str, exc: BaseException, secrets: Iterable[str] = ()) -> error_pb2.Error:
    """A failure to reach the provider. The client learns what kind of failure it was, not the
    address: the api_base of a deployment is the operator's, often an internal host."""
    os_error = getattr(exc, "os_error", None)
    if isinstance(os_error, socket.gaierror):
        reason = os_error.strerror or "name resolution failed"
    elif isinstance(os_error, OSError):
        # os.strerror: asyncio's own strerror names the address ("Connect call failed (host, port)").
        reason = os.strerror(os_error.errno) if os_error.errno else type(os_error).__name__
    else:
        reason = _URL.sub(lambda m: "[url]", str(exc))
    reason = redact(reason, secrets)
    return make_error(
        ErrorKind.ERROR_KIND_API_CONNECTION,
        f"{provider}: connection error: {type(exc).__name__}" + (f": {reason}" if reason else ""),
        provider=provider,
        source=error_pb2.FAILURE_SOURCE_PROVIDER,
    )
