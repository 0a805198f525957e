"""Bedrock's errors: the AWS error type (``x-amzn-ErrorType`` or ``__type``) decides the kind,
the message refines it (context window, content policy, authentication)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from switchyard.llm.v1 import error_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_llm.errors import make_error
from switchyard_provider_adapter.domain.errors import classify, redact, retry_after_seconds

SERVICE = "bedrock"

# x-amzn-ErrorType / __type of Bedrock and AWS front-end errors → kind.
_ERROR_TYPES: dict[str, error_pb2.ErrorKind] = {
    "UnrecognizedClientException": ErrorKind.ERROR_KIND_AUTHENTICATION,
    "InvalidSignatureException": ErrorKind.ERROR_KIND_AUTHENTICATION,
    "IncompleteSignatureException": ErrorKind.ERROR_KIND_AUTHENTICATION,
    "MissingAuthenticationTokenException": ErrorKind.ERROR_KIND_AUTHENTICATION,
    "ExpiredTokenException": ErrorKind.ERROR_KIND_AUTHENTICATION,
    "InvalidClientTokenId": ErrorKind.ERROR_KIND_AUTHENTICATION,
    "SignatureDoesNotMatch": ErrorKind.ERROR_KIND_AUTHENTICATION,
    "AccessDeniedException": ErrorKind.ERROR_KIND_PERMISSION_DENIED,
    "ResourceNotFoundException": ErrorKind.ERROR_KIND_NOT_FOUND,
    "ValidationException": ErrorKind.ERROR_KIND_BAD_REQUEST,
    "SerializationException": ErrorKind.ERROR_KIND_BAD_REQUEST,
    "ThrottlingException": ErrorKind.ERROR_KIND_RATE_LIMIT,
    "ServiceQuotaExceededException": ErrorKind.ERROR_KIND_RATE_LIMIT,
    "TooManyRequestsException": ErrorKind.ERROR_KIND_RATE_LIMIT,
    "ModelNotReadyException": ErrorKind.ERROR_KIND_RATE_LIMIT,
    "ModelTimeoutException": ErrorKind.ERROR_KIND_TIMEOUT,
    "ServiceUnavailableException": ErrorKind.ERROR_KIND_SERVICE_UNAVAILABLE,
    "InternalServerException": ErrorKind.ERROR_KIND_INTERNAL_SERVER,
    # The model behind Bedrock failed (HTTP 424); retrying may succeed, like a 500.
    "ModelErrorException": ErrorKind.ERROR_KIND_INTERNAL_SERVER,
    "ModelStreamErrorException": ErrorKind.ERROR_KIND_INTERNAL_SERVER,
}
# Kinds whose OpenAI error ``code`` is the Bedrock exception name (others carry the status).
_KINDS_WITH_CODE = frozenset(
    {
        ErrorKind.ERROR_KIND_RATE_LIMIT,
        ErrorKind.ERROR_KIND_CONTEXT_WINDOW_EXCEEDED,
        ErrorKind.ERROR_KIND_CONTENT_POLICY_VIOLATION,
        ErrorKind.ERROR_KIND_BAD_REQUEST,
    }
)
# Messages of authentication failures that come without a telling error type (API keys).
_AUTH_MESSAGE = re.compile(
    r"security token included in the request is (invalid|expired)|authentication failed|"
    r"api key is (invalid|expired)|signature we calculated does not match",
    re.IGNORECASE,
)


def error_type(headers: Mapping[str, str], data: Mapping[str, Any] | None) -> str:
    """``x-amzn-ErrorType: ThrottlingException:http://internal.amazon.com/coral/...`` or a body
    ``__type`` such as ``com.amazon.coral.validate#ValidationException``."""
    raw = headers.get("x-amzn-errortype") or headers.get("x-amzn-ErrorType") or ""
    if not raw and data:
        raw = str(data.get("__type") or data.get("code") or data.get("Code") or "")
    raw = raw.split(":", 1)[0]
    return raw.rsplit("#", 1)[-1].strip()


def bedrock_error(
    status: int, headers: Mapping[str, str], body: bytes, secrets: Iterable[str] = (), *, etype: str = ""
) -> error_pb2.Error:
    """A typed error from a Bedrock error answer (or a streamed exception event)."""
    try:
        parsed = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        parsed = None
    data = parsed if isinstance(parsed, Mapping) else None
    etype = etype or error_type(headers, data)
    if data is not None:
        message = str(data.get("message") or data.get("Message") or data.get("originalMessage") or "")
    else:
        message = body.decode("utf-8", "replace").strip()[:2000]
    # AWS appends the canonical request it expected to signature errors; it can hold the
    # session token and helps no client of the gateway.
    message = message.split("\n\nThe Canonical String for this request", 1)[0].strip()
    message = redact(message or f"HTTP {status}", secrets)
    kind = _ERROR_TYPES.get(etype)
    if kind is None:
        kind = classify(status, message)
    # The message decides between a plain bad request and the kinds routers fall back on.
    if kind in (ErrorKind.ERROR_KIND_BAD_REQUEST, ErrorKind.ERROR_KIND_INTERNAL_SERVER):
        refined = classify(400, message)
        if refined in (ErrorKind.ERROR_KIND_CONTEXT_WINDOW_EXCEEDED, ErrorKind.ERROR_KIND_CONTENT_POLICY_VIOLATION):
            kind = refined
    if _AUTH_MESSAGE.search(message) and kind in (
        ErrorKind.ERROR_KIND_PERMISSION_DENIED,
        ErrorKind.ERROR_KIND_BAD_REQUEST,
    ):
        kind = ErrorKind.ERROR_KIND_AUTHENTICATION
    code = etype if etype and kind in _KINDS_WITH_CODE else ""
    retry = (
        retry_after_seconds(headers)
        if kind in (ErrorKind.ERROR_KIND_RATE_LIMIT, ErrorKind.ERROR_KIND_SERVICE_UNAVAILABLE)
        else None
    )
    text = f"bedrock: {etype}: {message}" if etype else f"bedrock: {message}"
    return make_error(kind, text, code=code, retry_after=retry, provider=SERVICE)
