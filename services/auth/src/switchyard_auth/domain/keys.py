"""Virtual keys: generation, hashing, durations and the principal a key yields."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from switchyard.auth.v1 import auth_pb2
from switchyard_common.durations import duration_seconds
from switchyard_llm.event_fields import MAX_ID_CHARS, metadata_problem, tags_problem, text_problem
from switchyard_llm.money import MAX_BUDGET_USD, format_usd, parse_usd

KEY_PREFIX = "sk-"


class KeyError_(ValueError):
    """Invalid key settings; ``param`` names the field."""

    def __init__(self, message: str, param: str = "") -> None:
        super().__init__(message)
        self.param = param


def hash_key(key: str) -> str:
    """SHA-256 hex of a key: the only form in which keys are stored."""
    return hashlib.sha256(key.encode()).hexdigest()


def is_hash(value: str) -> bool:
    return len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(24)


def display_name(key: str) -> str:
    """A non-secret label: ``sk-...abcd``."""
    return f"{KEY_PREFIX}...{key[-4:]}"


def same_secret(a: str, b: str) -> bool:
    return hmac.compare_digest(hashlib.sha256(a.encode()).digest(), hashlib.sha256(b.encode()).digest())


def parse_duration(value: str, param: str) -> int:
    """``30s``, ``15m``, ``1h``, ``7d``, ``2w``, ``1mo`` → seconds."""
    try:
        return duration_seconds(value)
    except ValueError as exc:
        raise KeyError_(f"'{param}' {exc}", param) from None


def validate_settings(s: auth_pb2.KeySettings) -> None:
    if s.max_budget:
        try:
            amount = parse_usd(s.max_budget)
        except ValueError:
            raise KeyError_("'max_budget' must be a number", "max_budget") from None
        if amount < 0:
            raise KeyError_("'max_budget' must not be negative", "max_budget")
        if amount > MAX_BUDGET_USD:
            raise KeyError_(f"'max_budget' must be at most {MAX_BUDGET_USD} USD", "max_budget")
    if s.budget_duration:
        parse_duration(s.budget_duration, "budget_duration")
    if s.duration:
        parse_duration(s.duration, "duration")
    for name in ("rpm_limit", "tpm_limit", "max_parallel_requests"):
        if getattr(s.limits, name) < 0:
            raise KeyError_(f"'{name}' must not be negative", name)
    # These travel in identity events, and the alias and ids in every usage event of the key.
    for name, param in (
        ("key_alias", "key_alias"),
        ("team_id", "team_id"),
        ("user_id", "user_id"),
        ("org_id", "organization_id"),
    ):
        if problem := text_problem(getattr(s, name), param, MAX_ID_CHARS):
            raise KeyError_(problem, param)
    if problem := tags_problem(s.tags):
        raise KeyError_(problem, "tags")
    if problem := metadata_problem(s.metadata_json):
        raise KeyError_(problem, "metadata")


def expires_at(settings: auth_pb2.KeySettings, now: float | None = None) -> datetime | None:
    if not settings.duration:
        return None
    return datetime.fromtimestamp((now or time.time()) + parse_duration(settings.duration, "duration"), UTC)


def settings_from_row(row: Mapping[str, Any]) -> auth_pb2.KeySettings:
    s = auth_pb2.KeySettings(
        key_alias=row["key_alias"] or "",
        team_id=row["team_id"] or "",
        user_id=row["user_id"] or "",
        org_id=row["org_id"] or "",
        models=list(row["models"] or ()),
        max_budget=format_usd(row["max_budget"]) if row["max_budget"] is not None else "",
        budget_duration=row["budget_duration"] or "",
        guardrails=list(row["guardrails"] or ()),
        blocked=bool(row["blocked"]),
        tags=list(row["tags"] or ()),
        metadata_json=orjson.dumps(row["metadata"]) if row["metadata"] else b"",
    )
    s.limits.rpm_limit = row["rpm_limit"] or 0
    s.limits.tpm_limit = row["tpm_limit"] or 0
    s.limits.max_parallel_requests = row["max_parallel_requests"] or 0
    return s


def principal_from_row(row: Mapping[str, Any], cache_ttl: int) -> auth_pb2.Principal:
    settings = settings_from_row(row)
    p = auth_pb2.Principal(
        account_id=row["account_id"],
        key_hash=row["key_hash"],
        key_alias=settings.key_alias,
        team_id=settings.team_id,
        user_id=settings.user_id,
        org_id=settings.org_id,
        is_admin=False,
        models=settings.models,
        limits=settings.limits,
        has_budget=bool(settings.max_budget),
        guardrails=settings.guardrails,
        metadata_json=settings.metadata_json,
        cache_ttl_seconds=cache_ttl,
    )
    if row["expires_at"] is not None:
        p.expires_at = int(row["expires_at"].timestamp())
    if settings.max_budget:
        p.key_limit.max_budget = settings.max_budget
        p.key_limit.budget_duration = settings.budget_duration
        p.key_limit.version = row["settings_version"]
    return p
