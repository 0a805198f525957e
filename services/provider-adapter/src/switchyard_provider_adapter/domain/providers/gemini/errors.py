"""Google's error bodies (``google.rpc.Status``) → typed errors."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from switchyard.llm.v1 import error_pb2
from switchyard.llm.v1.error_pb2 import ErrorKind
from switchyard_llm.errors import make_error
from switchyard_provider_adapter.domain.errors import provider_error


def _duration_seconds(value: Any) -> float | None:
    """A google.protobuf.Duration in JSON form ("23s", "0.5s")."""
    if isinstance(value, str) and value.endswith("s"):
        try:
            return max(0.0, float(value[:-1]))
        except ValueError:
            return None
    return None


def google_error(
    provider: str, status: int, headers: Mapping[str, str], body: bytes, secrets: Iterable[str]
) -> error_pb2.Error:
    """A google.rpc.Status error body → typed error. Google answers an invalid API key with 400
    INVALID_ARGUMENT (reason API_KEY_INVALID), which is an authentication failure, and puts the
    wait of a 429 in a RetryInfo detail rather than a retry-after header."""
    err = provider_error(provider, status, headers, body, secrets)
    try:
        data = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return err
    if isinstance(data, list) and data:
        data = data[0]
    inner = data.get("error") if isinstance(data, Mapping) else None
    if not isinstance(inner, Mapping):
        return err
    details = [d for d in inner.get("details") or () if isinstance(d, Mapping)]
    reasons = {str(d.get("reason")) for d in details if d.get("reason")}
    message = str(inner.get("message") or "")
    if status == 400 and (reasons & {"API_KEY_INVALID", "API_KEY_EXPIRED"} or message.startswith("API key")):
        auth = make_error(
            ErrorKind.ERROR_KIND_AUTHENTICATION, err.message, provider=provider, details_json=err.provider_details_json
        )
        return auth
    if err.kind == ErrorKind.ERROR_KIND_RATE_LIMIT and not err.HasField("retry_after_seconds"):
        for d in details:
            if str(d.get("@type", "")).endswith("google.rpc.RetryInfo"):
                seconds = _duration_seconds(d.get("retryDelay"))
                if seconds is not None:
                    err.retry_after_seconds = seconds
    return err
