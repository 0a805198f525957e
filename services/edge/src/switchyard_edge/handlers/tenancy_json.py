"""The auth service's entity messages as LiteLLM's management JSON: settings spread at the top
level under their LiteLLM names (``settings_json``), times as ISO strings, amounts as numbers,
JSON fields parsed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from switchyard.auth.v1 import auth_pb2, teams_pb2
from switchyard_common.settings_json import MONEY_FIELDS, settings_to_json

# Unix-seconds fields shown as ISO date-times (null when 0).
_TIMES = frozenset({"created_at", "updated_at", "expires_at"})
# (message, field) → LiteLLM's name for it.
_RENAMED = {("Team", "members"): "members_with_roles", ("User", "memberships"): "team_memberships"}
# Nested messages that are settings (their fields under LiteLLM's names).
_SETTINGS_TYPES = frozenset({"Entitlements"})
_JSON_SUFFIX = "_json"


def iso(ts: int) -> str | None:
    return datetime.fromtimestamp(ts, UTC).isoformat() if ts else None


def to_json(msg: Message) -> dict[str, Any]:
    """An entity (Team, User, Organization, Customer, BudgetObject, Account, members, ...)."""
    out: dict[str, Any] = {}
    kind = msg.DESCRIPTOR.name
    for f in msg.DESCRIPTOR.fields:
        if f.name == "error":
            continue  # an answer's error was raised before it is rendered
        name = _RENAMED.get((kind, f.name), f.name)
        value = getattr(msg, f.name)
        sub = f.message_type
        if sub is not None and sub.GetOptions().map_entry:
            value_field = sub.fields_by_name["value"]
            out[name] = {k: to_json(v) for k, v in value.items()} if value_field.message_type else dict(value)
        elif f.name == "settings":
            out.update(settings_to_json(value))
        elif sub is not None and f.is_repeated:
            out[name] = [to_json(v) for v in value]
        elif f.is_repeated:
            out[name] = list(value)
        elif sub is not None:
            if not msg.HasField(f.name):
                out[name] = None
            else:
                out[name] = settings_to_json(value) if sub.name in _SETTINGS_TYPES else to_json(value)
        elif f.name in _TIMES:
            out[name] = iso(value)
        elif f.type == FieldDescriptor.TYPE_BYTES and f.name.endswith(_JSON_SUFFIX):
            out[f.name[: -len(_JSON_SUFFIX)]] = orjson.loads(value) if value else None
        elif f.name in MONEY_FIELDS:
            out[name] = float(value) if value else None
        else:
            out[name] = value
    if kind == "User":
        # LiteLLM lists a user's teams by id.
        out["teams"] = [m.team_id for m in msg.memberships]  # type: ignore[attr-defined]
    return out


def key_json(info: auth_pb2.KeyInfo) -> dict[str, Any]:
    """A key as LiteLLM's ``/key/info``, ``/key/list`` and ``/key/generate`` show it."""
    out = settings_to_json(info.settings)
    out.update(
        token=info.key_hash,
        key_id=info.key_id or info.key_hash,
        key_name=info.key_name,
        account_id=info.account_id,
        spend=float(info.spend or 0),
        expires=iso(info.expires_at),
        created_at=iso(info.created_at),
        updated_at=iso(info.updated_at),
        created_by=info.created_by or None,
        budget_reset_at=None,
    )
    if out["metadata"] is None:
        out["metadata"] = {}
    return out


def team_fields(team: teams_pb2.Team) -> dict[str, Any]:
    """A key's team as LiteLLM's ``/key/info`` adds it (``team_alias``, ``team_models``,
    ``team_max_budget``, ...)."""
    return {(k if k.startswith("team_") else f"team_{k}"): v for k, v in settings_to_json(team.settings).items()}
