"""Helpers shared by the provider modules that rebuild OpenAI content for native APIs (Gemini,
Cohere, Ollama): data URLs, tool-call bookkeeping, embeddings encodings and request errors."""

from __future__ import annotations

import array
import base64
import math
import mimetypes
import sys
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from switchyard.llm.v1 import chat_pb2, error_pb2
from switchyard_common.errors import make_error
from switchyard_provider_adapter.domain.errors import ProviderFailure

K = error_pb2.ErrorKind


def bad_request(provider: str, message: str, param: str = "") -> ProviderFailure:
    """A 400 for a request the provider cannot take, raised before anything is sent."""
    return ProviderFailure(
        make_error(K.ERROR_KIND_BAD_REQUEST, f"{provider}: {message}", param=param, provider=provider)
    )


def auth_failure(provider: str, message: str) -> ProviderFailure:
    return ProviderFailure(make_error(K.ERROR_KIND_AUTHENTICATION, f"{provider}: {message}", provider=provider))


def parse_data_url(url: str) -> tuple[str, str] | None:
    """``data:<mime>;base64,<data>`` → (mime, base64 data); None when ``url`` is not a data URL.
    Raises ValueError for data URLs that are not base64 (no provider takes those)."""
    if not url.startswith("data:"):
        return None
    header, sep, data = url[5:].partition(",")
    if not sep or not header.endswith(";base64"):
        raise ValueError("only base64 data URLs are supported")
    mime = header[: -len(";base64")].split(";")[0] or "application/octet-stream"
    return mime, data


def guess_mime(url: str, default: str) -> str:
    """The MIME type a URL's extension suggests (Vertex requires one for fileData)."""
    path = url.split("?", 1)[0].split("#", 1)[0]
    mime, _ = mimetypes.guess_type(path)
    return mime or default


def new_tool_call_id() -> str:
    return f"call_{uuid.uuid4().hex[:24]}"


def tool_names_by_id(messages: Iterable[chat_pb2.ChatMessage]) -> dict[str, str]:
    """Tool-call id → function name, from the assistant messages of a conversation (providers
    that answer tool results by function name need it for ``role: tool`` messages)."""
    names: dict[str, str] = {}
    for m in messages:
        for tc in m.tool_calls:
            if tc.id:
                names[tc.id] = tc.function.name
    return names


def parse_arguments(arguments: str, provider: str, param: str) -> dict[str, Any]:
    """A tool call's JSON-string arguments as the object native APIs want."""
    if not arguments.strip():
        return {}
    try:
        value = orjson.loads(arguments)
    except orjson.JSONDecodeError:
        raise bad_request(provider, "tool call arguments must be a JSON object", param) from None
    if not isinstance(value, dict):
        raise bad_request(provider, "tool call arguments must be a JSON object", param)
    return value


def floats_to_base64(values: Iterable[float]) -> str:
    """OpenAI's ``encoding_format: base64``: little-endian float32 values, base64 encoded."""
    arr = array.array("f", values)
    if sys.byteorder != "little":
        arr.byteswap()
    return base64.b64encode(arr.tobytes()).decode()


def estimate_tokens(text: str) -> int:
    """A token estimate (~4 characters per token, the rule of thumb Google and OpenAI publish) for
    APIs that return no counts, so usage and cost are not recorded as zero."""
    return max(1, math.ceil(len(text) / 4)) if text else 0


def json_object(raw: bytes) -> dict[str, Any]:
    if not raw:
        return {}
    value = orjson.loads(raw)
    return dict(value) if isinstance(value, Mapping) else {}
