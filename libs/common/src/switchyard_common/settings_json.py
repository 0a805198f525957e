"""LiteLLM management JSON ↔ the auth service's settings messages (KeySettings, TeamSettings,
UserSettings, ...), driven by the messages' descriptors so the field set has one home: the protos.

The edge turns a request body into a message with ``settings_from_json`` (a field the message
does not have is a ``FieldProblem`` naming it — never dropped — and so is a value of the wrong
JSON type), and a message back into LiteLLM's JSON with ``settings_to_json``. The auth service
checks the values themselves (ranges, durations, roles) and names fields the same way
(``json_name``).

Conventions of the settings messages, which LiteLLM's JSON follows field by field:
- a ``bytes`` field ``x_json`` holds the JSON text of the field ``x`` (e.g. ``metadata``);
- USD amounts (``MONEY_FIELDS``) are decimal strings in the message and numbers (or numeric
  strings) in JSON;
- ``KeySettings`` names two fields differently (``org_id`` is ``organization_id``) and nests
  the rate limits in ``limits``, whose fields are top-level in JSON;
- ``model_max_budget`` values are ``{"budget_limit": number, "time_period": "30d"}`` (a bare
  number is accepted as the limit);
- ``null`` means "not set": the field is cleared, and named in the returned paths (so an update
  mask built from them clears it)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import orjson
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

M = TypeVar("M", bound=Message)
# Protobuf's descriptors come in two runtime classes (pure Python and upb) that its stubs do not
# unify: typed loosely here.
Desc = Any

# String fields that hold USD amounts.
MONEY_FIELDS = frozenset({"max_budget", "soft_budget", "max_budget_in_team", "budget_limit"})
# JSON names that differ from the proto field names (the proto name on the left).
_RENAMED = {"org_id": "organization_id"}
# Message fields whose fields appear at the top level in JSON.
_FLATTENED = frozenset({"limits"})
_JSON_SUFFIX = "_json"


class FieldProblem(ValueError):
    """A body field that cannot become a settings field; ``param`` is its JSON name."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


def json_name(field: Desc) -> str:
    """The LiteLLM JSON name of a settings field."""
    name: str = field.name
    if field.type == FieldDescriptor.TYPE_BYTES and name.endswith(_JSON_SUFFIX):
        return name[: -len(_JSON_SUFFIX)]
    return _RENAMED.get(name, name)


def _fields(desc: Desc) -> dict[str, tuple[str, Desc]]:
    """JSON name → (proto path, field), with flattened sub-messages spread."""
    out: dict[str, tuple[str, Desc]] = {}
    for f in desc.fields:
        if f.name in _FLATTENED and f.message_type is not None:
            for sub in f.message_type.fields:
                out[json_name(sub)] = (f"{f.name}.{sub.name}", sub)
        else:
            out[json_name(f)] = (f.name, f)
    return out


def _money(value: Any, param: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise FieldProblem(param, f"'{param}' must be a number")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise FieldProblem(param, f"'{param}' must be a number") from None
    if not amount.is_finite():
        raise FieldProblem(param, f"'{param}' must be a finite number")
    text = format(amount, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _scalar(f: Desc, value: Any, param: str) -> Any:
    t = f.type
    if t == FieldDescriptor.TYPE_STRING:
        if f.name in MONEY_FIELDS:
            return _money(value, param)
        if not isinstance(value, str):
            raise FieldProblem(param, f"'{param}' must be a string")
        return value
    if t == FieldDescriptor.TYPE_BOOL:
        if not isinstance(value, bool):
            raise FieldProblem(param, f"'{param}' must be true or false")
        return value
    if t in (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_INT32):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise FieldProblem(param, f"'{param}' must be an integer")
        if not -(2**63) <= value < 2**63:
            raise FieldProblem(param, f"'{param}' is out of range")
        return value
    raise FieldProblem(param, f"'{param}' has a type this API does not take")


def _fill_message(msg: Message, value: Any, param: str) -> None:
    """A nested settings message (e.g. a ModelBudget) from a JSON object."""
    if msg.DESCRIPTOR.full_name == "switchyard.auth.v1.ModelBudget" and not isinstance(value, dict):
        value = {"budget_limit": value}
    if not isinstance(value, dict):
        raise FieldProblem(param, f"'{param}' must be an object")
    fields = _fields(msg.DESCRIPTOR)
    for key, item in value.items():
        if key not in fields:
            raise FieldProblem(f"{param}.{key}", f"'{param}' has no field '{key}'")
        if item is not None:
            _set(msg, fields[key][1], item, f"{param}.{key}")


def _set(msg: Message, f: Desc, value: Any, param: str) -> None:
    if f.message_type is not None and f.message_type.GetOptions().map_entry:
        if not isinstance(value, dict):
            raise FieldProblem(param, f"'{param}' must be an object")
        target = getattr(msg, f.name)
        value_field = f.message_type.fields_by_name["value"]
        for k, v in value.items():
            if value_field.message_type is not None:
                _fill_message(target[k], v, f"{param}.{k}")
            else:
                target[k] = _scalar(value_field, v, f"{param}.{k}")
        return
    if f.is_repeated:
        if not isinstance(value, list):
            raise FieldProblem(param, f"'{param}' must be a list")
        getattr(msg, f.name).extend(_scalar(f, v, param) for v in value)
        return
    if f.message_type is not None:
        _fill_message(getattr(msg, f.name), value, param)
        return
    if f.type == FieldDescriptor.TYPE_BYTES:
        setattr(msg, f.name, orjson.dumps(value))
        return
    setattr(msg, f.name, _scalar(f, value, param))


def settings_from_json(body: Mapping[str, Any], cls: type[M], *, ignore: Collection[str] = ()) -> tuple[M, list[str]]:
    """The message of type ``cls`` that ``body`` describes, and the paths of the fields it names
    (for an update mask; a ``null`` field is named and left empty, i.e. cleared). ``ignore``:
    body keys the route handles itself (ids, ``key``, ``members_with_roles``, ...)."""
    msg = cls()
    fields = _fields(cls.DESCRIPTOR)
    paths: list[str] = []
    for key, value in body.items():
        if key in ignore:
            continue
        found = fields.get(key)
        if found is None:
            raise FieldProblem(key, f"Unknown field '{key}': this route does not take it")
        path, f = found
        if value is not None:
            parent = msg
            if "." in path:
                parent = getattr(msg, path.split(".", 1)[0])
            _set(parent, f, value, key)
        paths.append(path)
    return msg, paths


def _scalar_json(f: Desc, value: Any) -> Any:
    if f.type == FieldDescriptor.TYPE_STRING and f.name in MONEY_FIELDS:
        return float(value) if value else None
    if f.type in (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_INT32):
        # A limit of 0 is no limit: LiteLLM shows null.
        return value or None
    return value


def _message_json(msg: Message) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in msg.DESCRIPTOR.fields:
        out[json_name(f)] = _value_json(msg, f)
    return out


def _value_json(msg: Message, f: Desc) -> Any:
    value = getattr(msg, f.name)
    if f.message_type is not None and f.message_type.GetOptions().map_entry:
        value_field = f.message_type.fields_by_name["value"]
        if value_field.message_type is not None:
            return {k: _message_json(v) for k, v in value.items()}
        return dict(value)
    if f.is_repeated:
        return list(value)
    if f.message_type is not None:
        return _message_json(value)
    if f.type == FieldDescriptor.TYPE_BYTES:
        return orjson.loads(value) if value else None
    if f.type == FieldDescriptor.TYPE_STRING and not value:
        return None
    return _scalar_json(f, value)


def settings_to_json(msg: Message) -> dict[str, Any]:
    """LiteLLM's JSON of a settings message: every field, unset strings as null, amounts as
    numbers, JSON fields parsed, ``limits`` spread."""
    out: dict[str, Any] = {}
    for f in msg.DESCRIPTOR.fields:
        if f.name in _FLATTENED and f.message_type is not None:
            sub = getattr(msg, f.name)
            for sf in f.message_type.fields:
                out[json_name(sf)] = getattr(sub, sf.name) or None
        else:
            out[json_name(f)] = _value_json(msg, f)
    return out
