"""Reading the content of OpenAI messages for APIs with their own content shapes: data URLs,
text, tool-call arguments, and the extra keys the codec keeps beside typed fields."""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import orjson

from switchyard.llm.v1 import chat_pb2
from switchyard_provider_adapter.domain.providers.common.failures import bad_request

# RFC 2397: data:[<type>/<subtype>][;<parameter>]*;base64,<data>. Only base64 data is taken (no
# provider accepts percent-encoded bytes).
_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?:;[^,;]*)*?;base64,(?P<data>.*)$", re.DOTALL)


class DataUrl(NamedTuple):
    # The media type, "" when the URL names none (each caller knows what to assume).
    mime: str
    # The base64 payload, as given.
    data: str


def parse_data_url(url: str) -> DataUrl | None:
    """None when ``url`` is not a data URL; raises ValueError for a data URL that is not base64
    or whose media type is not type/subtype."""
    if not url.startswith("data:"):
        return None
    m = _DATA_URL.match(url)
    if m is None:
        raise ValueError("only base64 data URLs are supported")
    return DataUrl(m.group("mime") or "", m.group("data"))


def guess_mime(url: str, default: str) -> str:
    """The MIME type a URL's extension suggests (Vertex requires one for fileData)."""
    path = url.split("?", 1)[0].split("#", 1)[0]
    mime, _ = mimetypes.guess_type(path)
    return mime or default


def text_of(msg: chat_pb2.ChatMessage) -> str:
    """The text of a message's content (parts joined), for providers that take plain strings."""
    which = msg.WhichOneof("content")
    if which == "text":
        return msg.text
    if which == "parts":
        return "".join(p.text for p in msg.parts.parts if p.WhichOneof("part") == "text")
    return ""


def json_object(raw: bytes) -> dict[str, Any]:
    """The JSON object in ``raw`` (an ``extra_json`` field); {} when empty or not an object.
    Invalid JSON raises ValueError."""
    if not raw:
        return {}
    value = orjson.loads(raw)
    return dict(value) if isinstance(value, Mapping) else {}


def tool_arguments(arguments: str, provider: str, where: str, param: str) -> dict[str, Any]:
    """A tool call's JSON-string arguments as the object native APIs want (``{}`` when blank)."""
    if not arguments.strip():
        return {}
    try:
        value = orjson.loads(arguments)
    except orjson.JSONDecodeError:
        raise bad_request(
            provider, f"{where} is not valid JSON; tool call arguments must be an object", param
        ) from None
    if not isinstance(value, dict):
        raise bad_request(provider, f"{where} must be a JSON object", param)
    return value


def tool_names_by_id(messages: Iterable[chat_pb2.ChatMessage]) -> dict[str, str]:
    """Tool-call id → function name, from the assistant messages of a conversation (providers
    that answer tool results by function name need it for ``role: tool`` messages)."""
    names: dict[str, str] = {}
    for m in messages:
        for tc in m.tool_calls:
            if tc.id:
                names[tc.id] = tc.function.name
    return names
