"""Checks on the settings of every identity entity (keys, teams, users, organisations,
customers, members, budget objects, accounts), by field name and type, so that one rule holds for
a field wherever it appears. A problem is ``Invalid`` naming the field as LiteLLM's JSON names it."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from typing import Any, TypeVar

import orjson
from google.protobuf import field_mask_pb2
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from switchyard_auth.domain.authz import USER_ROLES
from switchyard_common.durations import duration_seconds
from switchyard_common.settings_json import MONEY_FIELDS, Desc, json_name
from switchyard_llm.event_fields import MAX_ID_CHARS, MAX_MODEL_CHARS, metadata_problem, tags_problem, text_problem
from switchyard_llm.money import MAX_BUDGET_USD, parse_usd


class Invalid(ValueError):
    """An invalid value; ``param`` names the field."""

    def __init__(self, message: str, param: str = "") -> None:
        super().__init__(message)
        self.param = param


DURATION_FIELDS = frozenset({"budget_duration", "duration", "time_period"})
# Fields that hold model names (longer than ids: provider prefixes, ARNs).
_MODEL_TEXT = frozenset({"default_model"})
_MODEL_LISTS = frozenset({"models"})
# Bounds on lists and maps: far above what LiteLLM deployments use, low enough for events.
MAX_LIST_ITEMS = 1000
MAX_MAP_ITEMS = 1000
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
MAX_EMAIL_CHARS = 320

# (message, field) → the values a text field may take ("" is always allowed: it means unset).
CHOICES: dict[tuple[str, str], frozenset[str]] = {
    ("UserSettings", "user_role"): frozenset(r.value for r in USER_ROLES),
    ("TeamMember", "role"): frozenset({"admin", "user"}),
    ("OrganizationMember", "user_role"): frozenset({"org_admin", "internal_user", "internal_user_viewer"}),
    ("AccountAdmin", "role"): frozenset({"account_admin", "account_viewer"}),
    ("AccountSettings", "status"): frozenset({"active", "suspended", "deleted"}),
    ("KeySettings", "key_type"): frozenset({"default", "llm_api", "management", "read_only"}),
    ("CustomerSettings", "allowed_model_region"): frozenset({"eu", "us"}),
}


def _text(value: str, param: str, limit: int) -> None:
    if problem := text_problem(value, param, limit):
        raise Invalid(problem, param)


def check_money(value: str, param: str) -> None:
    try:
        amount = parse_usd(value)
    except ValueError:
        raise Invalid(f"'{param}' must be a number", param) from None
    if amount < 0:
        raise Invalid(f"'{param}' must not be negative", param)
    if amount > MAX_BUDGET_USD:
        raise Invalid(f"'{param}' must be at most {MAX_BUDGET_USD} USD", param)


def check_duration(value: str, param: str) -> int:
    """``30s``, ``15m``, ``1h``, ``7d``, ``2w``, ``1mo`` → seconds."""
    try:
        return duration_seconds(value)
    except ValueError as exc:
        raise Invalid(f"'{param}' {exc}", param) from None


def check_email(value: str, param: str = "user_email") -> None:
    if len(value) > MAX_EMAIL_CHARS or not _EMAIL.match(value):
        raise Invalid(f"'{param}' must be an e-mail address", param)


def _check_json_object(raw: bytes, param: str) -> None:
    if problem := metadata_problem(raw, param):
        raise Invalid(problem, param)
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise Invalid(f"'{param}' must be JSON", param) from None
    if not isinstance(value, dict):
        raise Invalid(f"'{param}' must be a JSON object", param)


def _check_string(owner: str, f: Desc, value: str, param: str) -> None:
    if not value:
        return
    choices = CHOICES.get((owner, f.name))
    if choices is not None:
        if value not in choices:
            raise Invalid(f"'{param}' must be one of {', '.join(sorted(choices))}", param)
    elif f.name in MONEY_FIELDS:
        check_money(value, param)
    elif f.name in DURATION_FIELDS:
        check_duration(value, param)
    elif f.name == "user_email":
        check_email(value, param)
    elif f.name == "domain":
        if not _DOMAIN.match(value):
            raise Invalid(f"'{param}' must be a domain name in lower case (e.g. acme.example)", param)
    else:
        _text(value, param, MAX_MODEL_CHARS if f.name in _MODEL_TEXT else MAX_ID_CHARS)


def _check_list(f: Desc, values: Iterable[str], param: str) -> None:
    items = list(values)
    if f.name == "tags":
        if problem := tags_problem(items, param):
            raise Invalid(problem, param)
        return
    if len(items) > MAX_LIST_ITEMS:
        raise Invalid(f"'{param}' may hold at most {MAX_LIST_ITEMS} items", param)
    limit = MAX_MODEL_CHARS if f.name in _MODEL_LISTS else MAX_ID_CHARS
    for item in items:
        if not item:
            raise Invalid(f"'{param}' must not hold empty strings", param)
        _text(item, param, limit)


def _check_map(f: Desc, value: Any, param: str) -> None:
    if len(value) > MAX_MAP_ITEMS:
        raise Invalid(f"'{param}' may hold at most {MAX_MAP_ITEMS} entries", param)
    value_field = f.message_type.fields_by_name["value"]
    for k, v in value.items():
        if not k:
            raise Invalid(f"'{param}' must not have an empty key", param)
        _text(k, param, MAX_MODEL_CHARS)
        if value_field.message_type is not None:
            _walk(v, f"{param}.{k}", None)
            if not getattr(v, "budget_limit", "x"):
                raise Invalid(f"'{param}.{k}.budget_limit' is required", param)
        elif value_field.type == FieldDescriptor.TYPE_STRING:
            if not v:
                raise Invalid(f"'{param}' must not map to an empty string", param)
            _text(v, param, MAX_MODEL_CHARS)
        elif v < 0:
            raise Invalid(f"'{param}' values must not be negative", param)


def _walk(msg: Message, prefix: str | None, only: Collection[str] | None) -> None:
    owner = msg.DESCRIPTOR.name
    for f in msg.DESCRIPTOR.fields:
        if only is not None and f.name not in only:
            continue
        name = json_name(f)
        param = f"{prefix}.{name}" if prefix else name
        value = getattr(msg, f.name)
        if f.message_type is not None and f.message_type.GetOptions().map_entry:
            _check_map(f, value, param)
        elif f.is_repeated:
            if f.type == FieldDescriptor.TYPE_STRING:
                _check_list(f, value, param)
        elif f.message_type is not None:
            # Nested limits are top-level in JSON: their fields keep their own names.
            _walk(value, prefix, None)
        elif f.type == FieldDescriptor.TYPE_STRING:
            _check_string(owner, f, value, param)
        elif f.type == FieldDescriptor.TYPE_BYTES:
            if value:
                _check_json_object(value, param)
        elif f.type in (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_INT32) and value < 0:
            raise Invalid(f"'{param}' must not be negative", param)


def validate(msg: Message, only: Collection[str] | None = None) -> None:
    """Raise ``Invalid`` for the first field of ``msg`` (or of the top-level fields ``only``)
    whose value is not allowed."""
    _walk(msg, None, only)


M = TypeVar("M", bound=Message)


def merged(current: M, update: M, paths: Sequence[str]) -> tuple[M, set[str]]:
    """``current`` with the fields an update mask names taken from ``update`` (an unset one is
    cleared; lists and maps are replaced), and the top-level fields it names."""
    fields = mask_fields(paths, current)
    out = type(current)()
    out.CopyFrom(current)
    source = type(update)()
    source.CopyFrom(update)
    try:
        for path in paths:
            if "." in path:
                # A nested path whose parent the update left unset still means "clear it".
                getattr(source, path.split(".", 1)[0]).SetInParent()
        field_mask_pb2.FieldMask(paths=list(paths)).MergeMessage(
            source, out, replace_message_field=True, replace_repeated_field=True
        )
    except (AttributeError, KeyError, ValueError):
        bad = next(iter(paths), "")
        raise Invalid(f"Unknown field in update mask: '{bad}'", bad) from None
    return out, fields


def mask_fields(paths: Iterable[str], msg: Message) -> set[str]:
    """The top-level fields an update mask names; an unknown path is ``Invalid``."""
    names = {f.name for f in msg.DESCRIPTOR.fields}
    out = set()
    for path in paths:
        top = path.split(".", 1)[0]
        if top not in names:
            raise Invalid(f"Unknown field '{path}'", path)
        out.add(top)
    return out
