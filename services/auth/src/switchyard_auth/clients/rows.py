"""Settings messages ↔ table columns, by the messages' descriptors: a settings field is a column
of the same name (``x_json`` is the jsonb column ``x``; KeySettings' ``limits`` are the columns
``rpm_limit``, ``tpm_limit``, ``max_parallel_requests``). Empty values are NULL, amounts NUMERIC,
lists arrays, maps and JSON fields jsonb. So a field added to a settings message and a column
added by a migration need no other code."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

import orjson
from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from switchyard.auth.v1 import (
    accounts_pb2,
    auth_pb2,
    budget_objects_pb2,
    customers_pb2,
    organizations_pb2,
    teams_pb2,
    users_pb2,
)
from switchyard_common.settings_json import MONEY_FIELDS, Desc
from switchyard_llm.money import format_usd, parse_usd

_JSON_SUFFIX = "_json"
_FLATTENED = frozenset({"limits"})


@dataclass(frozen=True)
class Table:
    """A tenant-scoped table: its name, its id column(s) and the settings message its columns
    hold. ``fields`` restricts the message's fields that are columns; ``skip`` leaves some out."""

    name: str
    ids: tuple[str, ...]
    settings: type[Message]
    fields: tuple[str, ...] | None = None
    skip: frozenset[str] = frozenset()
    # jsonb columns that are NOT NULL (an empty value is {}).
    not_null_json: frozenset[str] = frozenset()
    version: str = "version"
    # Columns besides the settings, read with them.
    extra: tuple[str, ...] = ("created_by", "created_at", "updated_at")
    _columns: dict[str, tuple[str, Desc]] = field(default_factory=dict, compare=False, repr=False)

    def settings_fields(self) -> list[Desc]:
        desc: Desc = self.settings.DESCRIPTOR
        chosen = [desc.fields_by_name[n] for n in self.fields] if self.fields is not None else list(desc.fields)
        return [f for f in chosen if f.name not in self.skip]

    def columns(self) -> dict[str, tuple[str, Desc]]:
        """Column → (settings path, field)."""
        if not self._columns:
            for f in self.settings_fields():
                if f.name in _FLATTENED and f.message_type is not None:
                    for sub in f.message_type.fields:
                        self._columns[sub.name] = (f"{f.name}.{sub.name}", sub)
                else:
                    self._columns[column_of(f)] = (f.name, f)
        return self._columns

    def select_list(self) -> list[str]:
        return list(dict.fromkeys(["account_id", *self.ids, *self.columns(), *self.extra, self.version]))


def column_of(f: Desc) -> str:
    if f.type == FieldDescriptor.TYPE_BYTES and f.name.endswith(_JSON_SUFFIX):
        return f.name[: -len(_JSON_SUFFIX)]
    return f.name


def _is_map(f: Desc) -> bool:
    return f.message_type is not None and f.message_type.GetOptions().map_entry


def _to_db(table: Table, column: str, f: Desc, value: Any) -> Any:
    if _is_map(f):
        if not value:
            return None
        if f.message_type.fields_by_name["value"].message_type is not None:
            return {k: json_format.MessageToDict(v, preserving_proto_field_name=True) for k, v in value.items()}
        return dict(value)
    if f.is_repeated:
        return list(value)
    if f.type == FieldDescriptor.TYPE_BYTES:
        if not value:
            return {} if column in table.not_null_json else None
        return orjson.loads(value)
    if f.type == FieldDescriptor.TYPE_STRING:
        if not value:
            return None
        return parse_usd(value) if f.name in MONEY_FIELDS else value
    if f.type in (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_INT32):
        return value or None
    return value


def to_columns(table: Table, msg: Message, paths: Iterable[str] | None = None) -> dict[str, Any]:
    """Column values of ``msg``: all of them, or those the update-mask ``paths`` name (a path
    naming a flattened message, e.g. ``limits``, names all its columns)."""
    columns = table.columns()
    if paths is None:
        wanted = list(columns)
    else:
        wanted = []
        for path in paths:
            wanted += [c for c, (p, _) in columns.items() if p == path or p.startswith(path + ".")]
    out: dict[str, Any] = {}
    for column in wanted:
        path, f = columns[column]
        parent = msg
        if "." in path:
            parent = getattr(msg, path.split(".", 1)[0])
        out[column] = _to_db(table, column, f, getattr(parent, f.name))
    return out


def _from_db(target: Message, f: Desc, value: Any) -> None:
    if value is None:
        return
    if _is_map(f):
        m = getattr(target, f.name)
        if f.message_type.fields_by_name["value"].message_type is not None:
            for k, v in value.items():
                json_format.ParseDict(v, m[k], ignore_unknown_fields=True)
        else:
            m.update(value)
    elif f.is_repeated:
        getattr(target, f.name).extend(value)
    elif f.type == FieldDescriptor.TYPE_BYTES:
        if value:
            setattr(target, f.name, orjson.dumps(value))
    elif f.type == FieldDescriptor.TYPE_STRING:
        setattr(target, f.name, format_usd(value) if isinstance(value, Decimal) else str(value))
    else:
        setattr(target, f.name, value)


def settings_from_row(table: Table, row: Row, prefix: str = "") -> Any:
    """The settings message of a row (``prefix``: of columns selected as ``<prefix><column>``)."""
    msg = table.settings()
    for column, (path, f) in table.columns().items():
        parent = msg
        if "." in path:
            parent = getattr(msg, path.split(".", 1)[0])
        _from_db(parent, f, row[prefix + column])
    return msg


class Row(Protocol):
    """A stored row: an asyncpg Record, or a mapping of its columns."""

    def __getitem__(self, key: str, /) -> Any: ...

    def get(self, key: str, default: Any, /) -> Any: ...


def ts(value: Any) -> int:
    """Unix seconds of a timestamptz (0 for NULL)."""
    return int(value.timestamp()) if value is not None else 0


def usd(value: Decimal | None) -> str:
    return format_usd(value) if value is not None else ""


KEYS = Table(
    "keys",
    ("key_id",),
    auth_pb2.KeySettings,
    skip=frozenset({"duration"}),
    not_null_json=frozenset({"metadata"}),
    version="settings_version",
    extra=("key_hash", "key_name", "expires_at", "created_by", "created_at", "updated_at"),
)
TEAMS = Table("teams", ("team_id",), teams_pb2.TeamSettings)
USERS = Table("users", ("user_id",), users_pb2.UserSettings)
ORGANIZATIONS = Table("organizations", ("organization_id",), organizations_pb2.OrganizationSettings)
CUSTOMERS = Table("customers", ("user_id",), customers_pb2.CustomerSettings)
BUDGETS = Table("budgets", ("budget_id",), budget_objects_pb2.BudgetObjectSettings)
TEAM_MEMBERS = Table(
    "team_members",
    ("team_id", "user_id"),
    teams_pb2.TeamMember,
    fields=("role", "max_budget_in_team", "budget_id"),
    extra=("created_at",),
)
ORGANIZATION_MEMBERS = Table(
    "organization_members",
    ("organization_id", "user_id"),
    organizations_pb2.OrganizationMember,
    fields=("user_role", "budget_id"),
    extra=("created_at",),
)
ACCOUNTS_SETTINGS = Table(
    "accounts",
    ("account_id",),
    accounts_pb2.AccountSettings,
    extra=("entitlements", "created_by", "created_at", "updated_at"),
)
# Tables whose rows may point to a budget object (budget_id).
BUDGET_USERS = (KEYS, TEAMS, USERS, ORGANIZATIONS, CUSTOMERS, TEAM_MEMBERS, ORGANIZATION_MEMBERS)
