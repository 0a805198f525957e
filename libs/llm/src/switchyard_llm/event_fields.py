"""Bounds on the client-supplied values that travel in Kafka events and land in PostgreSQL.

The edge refuses a request whose ``user``, ``tags``, ``metadata`` or ``model`` break them (and
auth refuses such key settings), so every event stays far below Kafka's 1 MiB record limit and
every value can be stored. Consumers still clean what they read (``clean_*``): an event written
by an older producer, or by one that has a bug, must not stop the ledger.

``clean_usage_event`` is that cleaning for the usage event: the ledger applies it to every event,
the edge to an event too large for Kafka (from a key whose alias predates these caps).

The caps leave LiteLLM users room to spare: their ``metadata`` is typically a few KB of ids and
labels, ``tags`` a handful of short labels, ``user`` an id or an e-mail address. PostgreSQL's
``text`` and ``jsonb`` cannot hold U+0000 at all, so NUL is refused (and stripped by consumers)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from google.protobuf.descriptor import FieldDescriptor

from switchyard.events.v1 import usage_pb2

# Serialized JSON size of a request's `metadata` (and of a key's).
MAX_METADATA_BYTES = 64 * 1024
MAX_TAGS = 64
MAX_TAG_CHARS = 256
# `user` (the end user), and the ids and alias a key carries into every usage event.
MAX_ID_CHARS = 256
# Model names, including provider prefixes and ARNs (`bedrock/arn:aws:bedrock:...`).
MAX_MODEL_CHARS = 512

NUL = "\x00"
# How orjson (and every JSON encoder) writes U+0000; absent from the text means absent from the value.
_NUL_ESCAPE = b"\\u0000"


def text_problem(value: str, field: str, max_chars: int) -> str | None:
    """Why ``value`` may not go into an event, or None."""
    if len(value) > max_chars:
        return f"'{field}' must be at most {max_chars} characters"
    if NUL in value:
        return f"'{field}' must not contain NUL (\\u0000) characters"
    return None


def tags_problem(tags: Sequence[str], field: str = "tags") -> str | None:
    if len(tags) > MAX_TAGS:
        return f"'{field}' may hold at most {MAX_TAGS} tags"
    for tag in tags:
        if problem := text_problem(tag, field, MAX_TAG_CHARS):
            return problem.replace(f"'{field}' must", f"each of '{field}' must")
    return None


def has_nul(value: Any) -> bool:
    """Whether a JSON value holds U+0000 in any string or key, at any depth."""
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(NUL in k or has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_nul(v) for v in value)
    return False


def metadata_problem(raw: bytes, field: str = "metadata") -> str | None:
    """Why serialized JSON ``metadata`` may not go into an event, or None. Parses only when the
    text holds an escaped NUL (almost never), so the common case costs a length and a scan."""
    if len(raw) > MAX_METADATA_BYTES:
        return f"'{field}' must be at most {MAX_METADATA_BYTES} bytes as JSON (it is {len(raw)})"
    if _NUL_ESCAPE in raw:
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return f"'{field}' must be JSON"
        if has_nul(value):
            return f"'{field}' must not contain NUL (\\u0000) characters"
    return None


# --- cleaning (consumers) -----------------------------------------------------------------


def clean_text(value: str, max_chars: int | None = None) -> str:
    if NUL in value:
        value = value.replace(NUL, "")
    return value[:max_chars] if max_chars is not None else value


def clean_tags(tags: Iterable[str]) -> list[str]:
    return [clean_text(t, MAX_TAG_CHARS) for t in list(tags)[:MAX_TAGS]]


def _strip_nul(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(k): _strip_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_nul(v) for v in value]
    return value


def clean_metadata(raw: bytes) -> tuple[bytes, str | None]:
    """JSON object text that PostgreSQL's jsonb accepts, and what was changed (None: nothing).
    Not an object or not JSON: ``{}``; NULs are stripped; over the cap: replaced by a marker
    saying how large it was."""
    if not raw:
        return b"{}", None
    if len(raw) > MAX_METADATA_BYTES:
        return orjson.dumps({"switchyard_metadata_dropped_bytes": len(raw)}), "over the size cap"
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return b"{}", "not JSON"
    if not isinstance(value, dict):
        return b"{}", "not a JSON object"
    if _NUL_ESCAPE in raw and has_nul(value):
        return orjson.dumps(_strip_nul(value)), "NUL characters stripped"
    return raw, None


# Bounds on the usage event's text fields clients fill; the others are ids the gateway makes.
_USAGE_TEXT_CAPS = {
    "end_user": MAX_ID_CHARS,
    "key_alias": MAX_ID_CHARS,
    "user_id": MAX_ID_CHARS,
    "team_id": MAX_ID_CHARS,
    "org_id": MAX_ID_CHARS,
    "model": MAX_MODEL_CHARS,
    "model_group": MAX_MODEL_CHARS,
    "error_message": 2000,
}
_USAGE_TEXT_FIELDS = [
    f.name
    for f in usage_pb2.UsageEvent.DESCRIPTOR.fields
    if f.type == FieldDescriptor.TYPE_STRING and not f.is_repeated
]


def clean_usage_event(e: usage_pb2.UsageEvent) -> list[str]:
    """Make ``e`` storable, in place: no NUL in any text, client values within their caps,
    metadata a JSON object jsonb accepts. Returns what was changed (empty for most events)."""
    changed = []
    for name in _USAGE_TEXT_FIELDS:
        value = getattr(e, name)
        cap = _USAGE_TEXT_CAPS.get(name)
        if NUL in value or (cap is not None and len(value) > cap):
            setattr(e, name, clean_text(value, cap))
            changed.append(name)
    tags = clean_tags(e.tags)
    if tags != list(e.tags):
        del e.tags[:]
        e.tags.extend(tags)
        changed.append("tags")
    metadata, why = clean_metadata(e.metadata_json)
    if why is not None:
        changed.append(f"metadata ({why})")
    e.metadata_json = metadata
    return changed
