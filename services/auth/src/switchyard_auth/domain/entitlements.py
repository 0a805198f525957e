"""Account entitlements (copilot-api §6 "Entitlements"): stored as a JSON object on the account,
merged field by field (features flag by flag), and enforced where objects are created."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from switchyard.auth.v1 import accounts_pb2
from switchyard_auth.domain.settings import Invalid, check_money
from switchyard_llm.money import format_usd, parse_usd

COUNTED = ("max_keys", "max_teams", "max_models")
FIELDS = (*COUNTED, "max_budget", "features")


class Exceeded(Exception):
    """A creation or value past an entitlement; ``entitlement`` names it."""

    def __init__(self, entitlement: str, message: str) -> None:
        super().__init__(message)
        self.entitlement = entitlement


def from_json(stored: Mapping[str, Any]) -> accounts_pb2.Entitlements:
    e = accounts_pb2.Entitlements()
    for name in COUNTED:
        if stored.get(name) is not None:
            setattr(e, name, int(stored[name]))
    if stored.get("max_budget") is not None:
        e.max_budget = format_usd(parse_usd(stored["max_budget"]))
    for flag, on in (stored.get("features") or {}).items():
        e.features[flag] = bool(on)
    return e


def to_json(e: accounts_pb2.Entitlements) -> dict[str, Any]:
    out: dict[str, Any] = {name: getattr(e, name) for name in COUNTED if e.HasField(name)}
    if e.max_budget:
        out["max_budget"] = e.max_budget
    if e.features:
        out["features"] = dict(e.features)
    return out


def validate(e: accounts_pb2.Entitlements) -> None:
    for name in COUNTED:
        if e.HasField(name) and getattr(e, name) < 0:
            raise Invalid(f"'{name}' must not be negative", name)
    if e.max_budget:
        check_money(e.max_budget, "max_budget")
    for flag in e.features:
        if not flag or len(flag) > 128:
            raise Invalid("'features' keys must be 1-128 characters", "features")


def merge(
    stored: accounts_pb2.Entitlements, update: accounts_pb2.Entitlements, fields: Collection[str]
) -> accounts_pb2.Entitlements:
    """``stored`` with the ``fields`` of ``update``: a named limit that ``update`` leaves unset is
    removed; ``features`` merges flag by flag."""
    out = accounts_pb2.Entitlements()
    out.CopyFrom(stored)
    for name in fields:
        if name == "features":
            for flag, on in update.features.items():
                out.features[flag] = on
        elif name in COUNTED:
            if update.HasField(name):
                setattr(out, name, getattr(update, name))
            else:
                out.ClearField(name)
        elif name == "max_budget":
            out.max_budget = update.max_budget
        else:
            raise Invalid(f"Unknown field '{name}'", name)
    return out


_NOUNS = {"max_keys": "keys", "max_teams": "teams", "max_models": "models"}


def check_count(e: accounts_pb2.Entitlements, name: str, existing: int, adding: int = 1) -> None:
    """Refuse creating ``adding`` more objects when the account holds ``existing``."""
    if e.HasField(name) and existing + adding > getattr(e, name):
        limit = getattr(e, name)
        raise Exceeded(
            name,
            f"The account's '{name}' entitlement allows {limit} {_NOUNS[name]}; it has {existing}. "
            "Ask your administrator to raise it.",
        )


def check_budget(e: accounts_pb2.Entitlements, amount: str, param: str) -> None:
    """Refuse a budget above the account's ``max_budget`` entitlement."""
    if e.max_budget and amount and parse_usd(amount) > parse_usd(e.max_budget):
        raise Exceeded(
            "max_budget",
            f"'{param}' {amount} is above the account's 'max_budget' entitlement ({e.max_budget} USD).",
        )
