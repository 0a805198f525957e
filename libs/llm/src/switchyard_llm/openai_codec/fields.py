"""Reading the fields of an OpenAI JSON body: typed getters that name the offending field, and the
keys without a typed field, which travel in ``extra_json`` so a round trip keeps them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from switchyard_llm.errors import RequestError
from switchyard_llm.event_fields import MAX_ID_CHARS, MAX_MODEL_CHARS, text_problem


def dumps(value: Any) -> bytes:
    return orjson.dumps(value)


def extra_of(obj: Mapping[str, Any], known: frozenset[str]) -> bytes:
    rest = {k: v for k, v in obj.items() if k not in known}
    return orjson.dumps(rest) if rest else b""


def merge_extra(target: dict[str, Any], extra: bytes) -> None:
    if extra:
        for k, v in orjson.loads(extra).items():
            target.setdefault(k, v)


def number(body: Mapping[str, Any], key: str) -> float | None:
    v = body.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise RequestError(f"'{key}' must be a number", key)
    return float(v)


def integer(body: Mapping[str, Any], key: str, *, bits: int = 64) -> int | None:
    """An integer field; ``bits`` is the width of the proto field it goes into."""
    v = body.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int):
        if not (isinstance(v, float) and v.is_integer()):
            raise RequestError(f"'{key}' must be an integer", key)
        v = int(v)
    limit = 1 << (bits - 1)
    if not -limit <= v < limit:
        raise RequestError(f"'{key}' is out of range (at most {limit - 1})", key)
    return v


def boolean(body: Mapping[str, Any], key: str) -> bool | None:
    v = body.get(key)
    if v is None:
        return None
    if not isinstance(v, bool):
        raise RequestError(f"'{key}' must be a boolean", key)
    return v


def string(body: Mapping[str, Any], key: str) -> str | None:
    v = body.get(key)
    if v is None:
        return None
    if not isinstance(v, str):
        raise RequestError(f"'{key}' must be a string", key)
    return v


def strings(value: Any, key: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise RequestError(f"'{key}' must be a string or a list of strings", key)


def check_event_text(value: str, key: str, max_chars: int) -> None:
    """Values that reach usage events and the spend ledger (see ``event_fields``)."""
    if problem := text_problem(value, key, max_chars):
        raise RequestError(problem, key)


def model_of(body: Mapping[str, Any]) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise RequestError("'model' is required", "model")
    check_event_text(model, "model", MAX_MODEL_CHARS)
    return model


def user_of(body: Mapping[str, Any]) -> str | None:
    user = string(body, "user")
    if user is not None:
        check_event_text(user, "user", MAX_ID_CHARS)
    return user
